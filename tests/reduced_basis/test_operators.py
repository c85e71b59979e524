"""System matrices of the thermal block: exact affine decomposition, stored in datasets."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from rich.console import Console

from nirom import Dataset, generate
from nirom.dataset.operators import LinearSystem
from nirom.errors import DatasetError
from nirom.solvers import make_solver


@pytest.fixture(scope="module")
def solver():
    return make_solver("thermal-block", {"resolution": 12})


def test_system_reproduces_the_solve(solver):
    mu = solver.space.as_dict(solver.space.sample(1, design="random", seed=3)[0])
    system = solver.system(mu)
    x = spla.spsolve(system.matrix.tocsc(), system.rhs)
    np.testing.assert_allclose(system.to_nodes(x), solver.solve(mu)["u"], rtol=1e-12, atol=1e-14)
    product = solver.product_matrix()
    ones = solver.space.as_dict(np.ones(solver.space.dim))
    assert spla.norm(product - solver.system(ones).matrix) < 1e-12 * spla.norm(product)


def test_generate_stores_operators_read_lazily(tmp_path, solver):
    ds = generate(
        "thermal-block",
        tmp_path / "ops",
        3,
        workers=0,
        solver_options={"resolution": 12},
        operators=True,
        console=Console(quiet=True),
    ).dataset
    ds = Dataset(tmp_path / "ops")
    assert ds.operators == {"unknowns": solver.interior.size}
    assert ds.format_version == 1  # readers without operators still read it
    for i in ds.sample_ids():
        stored = ds.system(i)
        exact = solver.system(ds.read_meta(i)["mu"])
        assert (stored.matrix != exact.matrix).nnz == 0
        np.testing.assert_array_equal(stored.rhs, exact.rhs)
        np.testing.assert_array_equal(stored.free, solver.interior)
    plain = generate(
        "thermal-block",
        tmp_path / "plain",
        1,
        workers=0,
        solver_options={"resolution": 12},
        console=Console(quiet=True),
    ).dataset
    with pytest.raises(DatasetError, match="has no operators"):
        plain.system(0)


def test_bad_systems_are_one_line_errors(tmp_path, solver):
    mu = solver.space.as_dict(np.ones(solver.space.dim))
    good = solver.system(mu)
    ds = Dataset.create(tmp_path / "d", solver.space, solver.fields, solver.mesh, operators=good)
    u = solver.solve(mu)
    n = good.matrix.shape[0]
    cases = {
        "not square": LinearSystem(sp.csr_matrix((n, n + 1)), good.rhs, good.free, good.dirichlet),
        "right-hand side has": LinearSystem(good.matrix, good.rhs[:-1], good.free, good.dirichlet),
        "unknown-to-node map has": LinearSystem(
            good.matrix[:-1, :-1], good.rhs[:-1], good.free, good.dirichlet
        ),
        "differs from the dataset": LinearSystem(
            good.matrix, good.rhs, good.free[::-1].copy(), good.dirichlet
        ),
    }
    for message, system in cases.items():
        with pytest.raises(DatasetError, match=message) as info:
            ds.append(mu, u, system=system)
        assert "\n" not in str(info.value)
    ds.append(mu, u, system=good)
    assert ds.system(0).matrix.shape == (n, n)
