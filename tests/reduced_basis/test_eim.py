"""Empirical interpolation of sampled matrices: exact on an affine family with its rank."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from nirom.errors import DatasetError
from nirom.reduced_basis.eim import common_pattern, entries_on, interpolate
from nirom.solvers import make_solver


def test_exact_on_an_affine_family_with_as_many_terms_as_its_rank():
    solver = make_solver("thermal-block", {"resolution": 6})
    x = solver.space.sample(20, design="random", seed=0)
    matrices = [solver.system(solver.space.as_dict(row)).matrix for row in x]
    pattern = common_pattern(matrices)
    samples = np.stack([entries_on(pattern, m) for m in matrices])
    result = interpolate(samples, x)
    assert len(result.terms) == 9  # the affine rank: one term per block
    assert result.max_error < 1e-10
    new = solver.space.sample(3, design="random", seed=1)
    for row in new:
        exact = entries_on(pattern, solver.system(solver.space.as_dict(row)).matrix)
        beta = np.append(row, 1.0) @ result.coefficient_map
        np.testing.assert_allclose(beta @ result.terms, exact, atol=1e-10 * np.abs(exact).max())
    fewer = interpolate(samples, x, max_terms=5)
    assert len(fewer.terms) == 5 and fewer.max_error > 1e-3


def test_bad_matrices_are_one_line_errors():
    with pytest.raises(DatasetError, match="not square"):
        common_pattern([sp.csr_matrix((3, 4))])
    with pytest.raises(DatasetError, match="different shapes"):
        common_pattern([sp.identity(3), sp.identity(4)])


def test_inertia_counts_negative_generalized_eigenvalues():
    from nirom.reduced_basis.pod_galerkin import negative_eigenvalues

    for n in (5, 600):  # dense and sparse-factorization paths
        identity = sp.identity(n, format="csr")
        semidefinite = sp.diags(np.r_[np.zeros(n // 2), np.ones(n - n // 2)]).tocsr()
        indefinite = sp.diags(np.r_[-1e-3, np.zeros(n // 2 - 1), np.ones(n - n // 2)]).tocsr()
        assert negative_eigenvalues(semidefinite, identity, 1e-9) == 0
        assert negative_eigenvalues(indefinite, identity, 1e-9) == 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_interpolation_term_makes_the_bound_hold_for_the_true_systems(seed):
    """Systems that differ from the interpolant by E_i, g_i: with the measured
    (rho_A, rho_f) the bound covers the true solutions at the sampled parameters."""
    from nirom.dataset.operators import LinearSystem
    from nirom.reduced_basis.model import ReducedBasisModel
    from nirom.reduced_basis.pod_galerkin import interpolation_errors
    from nirom.solvers.operators import AffineDecomposition

    rng = np.random.default_rng(seed)
    n, names = 14, ["k0", "k1"]
    terms = []
    for _ in names:
        b = rng.standard_normal((n, n // 2))
        terms.append(sp.csr_matrix(b @ b.T + 0.1 * np.eye(n)))
    affine = AffineDecomposition(
        terms, names, [rng.standard_normal(n)], [None], np.arange(n), np.zeros(n)
    )
    model = ReducedBasisModel.build(
        affine, names, np.ones(2), mass=sp.identity(n, format="csr"), interpolated=True
    )
    x = 10 ** rng.uniform(-1, 1, (6, 2))
    systems = []
    for row in x:
        exact = affine.system(dict(zip(names, row, strict=True)))
        e = 1e-5 * rng.standard_normal((n, n)) * abs(exact.matrix).max()
        g = 1e-5 * rng.standard_normal(n) * abs(exact.rhs).max()
        systems.append(
            LinearSystem(
                sp.csr_matrix(exact.matrix + 0.5 * (e + e.T)),
                exact.rhs + g,
                exact.free,
                exact.dirichlet,
            )
        )
    pattern = common_pattern([s.matrix for s in systems])
    rho = interpolation_errors(model, affine, systems, pattern, x, names)
    assert rho[0] > 0 and rho[1] > 0
    train = 10 ** rng.uniform(-1, 1, (3, 2))
    model.extend(
        np.array(
            [
                np.linalg.solve(s.matrix.toarray(), s.rhs)
                for s in (affine.system(dict(zip(names, t, strict=True))) for t in train)
            ]
        )
    )
    c = model.solve(x)
    without = model.bound(x, c)
    model.interpolation_errors = rho
    bound = model.bound(x, c)
    assert np.all(bound["interpolation"] > 0) and np.all(bound["energy"] >= without["energy"])
    assert np.all(np.isfinite(bound["energy"]))
    product = model.product.toarray()
    for k, system in enumerate(systems):
        err = np.linalg.solve(system.matrix.toarray(), system.rhs) - model.unknowns(c[k : k + 1])[0]
        assert bound["energy"][k] >= np.sqrt(err @ product @ err)
