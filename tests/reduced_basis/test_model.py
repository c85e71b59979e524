"""Galerkin reduced model: exact with the full basis; the bound is a bound (property test)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from nirom.reduced_basis.model import ReducedBasisModel
from nirom.reduced_basis.problem import empty_model
from nirom.solvers import make_solver
from nirom.solvers.operators import AffineDecomposition


def test_full_basis_reproduces_the_solver():
    solver = make_solver("thermal-block", {"resolution": 6})  # 25 unknowns
    model = empty_model(solver, solver.space)
    x = solver.space.sample(40, design="random", seed=0)
    for row in x:
        model.extend(solver.solve(solver.space.as_dict(row))["u"][solver.interior][None])
    assert model.n_basis == solver.interior.size
    test = solver.space.sample(5, design="random", seed=1)
    c = model.solve(test)
    bound = model.bound(test, c)
    for k, row in enumerate(test):
        exact = solver.solve(solver.space.as_dict(row))["u"]
        np.testing.assert_allclose(model.reconstruct(c[k : k + 1])[0], exact, atol=1e-12)
    assert np.all(bound["energy"] < 1e-10 * bound["norm"])


def random_problem(seed: int, n: int, q: int) -> AffineDecomposition:
    rng = np.random.default_rng(seed)
    matrices = []
    for _ in range(q):
        b = rng.standard_normal((n, n // 2 + 1))
        matrices.append(sp.csr_matrix(b @ b.T + 0.05 * np.eye(n)))  # SPD
    return AffineDecomposition(
        matrices=matrices,
        matrix_coefficients=[f"k{i}" for i in range(q)],
        vectors=[rng.standard_normal(n), rng.standard_normal(n)],
        vector_coefficients=[None, "k0"],
        free=np.arange(n),
        dirichlet=np.zeros(n),
    )


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(6, 30),
    q=st.integers(1, 4),
    r=st.integers(1, 8),
)
def test_bound_is_a_bound(seed, n, q, r):
    affine = random_problem(seed, n, q)
    names = [f"k{i}" for i in range(q)]
    model = ReducedBasisModel.build(affine, names, np.ones(q), mass=sp.identity(n, format="csr"))
    rng = np.random.default_rng(seed + 1)
    train = 10 ** rng.uniform(-1, 1, (r, q))
    snapshots = [
        np.linalg.solve(
            affine.system(dict(zip(names, t, strict=True))).matrix.toarray(),
            affine.system(dict(zip(names, t, strict=True))).rhs,
        )
        for t in train
    ]
    model.extend(np.array(snapshots))
    test = 10 ** rng.uniform(-1, 1, (6, q))
    c = model.solve(test)
    bound = model.bound(test, c)
    product = model.product.toarray()
    if model.n_basis > 1:  # a prefix of the basis uses the leading block of the residual data
        small = model.solve(test, model.n_basis - 1)
        t = test[0]
        system = affine.system(dict(zip(names, t, strict=True)))
        residual = system.rhs - system.matrix @ model.unknowns(small[:1])[0]
        dual = np.sqrt(residual @ np.linalg.solve(product, residual))
        scale_f = np.sqrt(system.rhs @ np.linalg.solve(product, system.rhs))
        got = model.bound(test[:1], small[:1])["residual"][0]
        assert abs(got - dual) <= 1e-8 * dual + 1e-10 * scale_f
    for k, t in enumerate(test):
        system = affine.system(dict(zip(names, t, strict=True)))
        exact = np.linalg.solve(system.matrix.toarray(), system.rhs)
        err = exact - model.unknowns(c[k : k + 1])[0]
        residual = system.rhs - system.matrix @ model.unknowns(c[k : k + 1])[0]
        dual = np.sqrt(residual @ np.linalg.solve(product, residual))
        scale_f = np.sqrt(system.rhs @ np.linalg.solve(product, system.rhs))
        assert abs(bound["residual"][k] - dual) <= 1e-8 * dual + 1e-10 * scale_f
        # effectivity >= 1, up to the round-off of the reference solve itself
        floor = 1e-9 * np.sqrt(exact @ product @ exact)
        err_x = np.sqrt(err @ product @ err)
        assert bound["energy"][k] >= err_x * (1 - 1e-8) - floor
        assert bound["l2"][k] >= np.linalg.norm(err) * (1 - 1e-8) - floor / np.sqrt(
            model.lambda_min
        )


def test_singular_systems_are_one_line_errors():
    import pytest

    from nirom.errors import ModelError

    affine = random_problem(0, 8, 2)
    singular = AffineDecomposition(
        [sp.csr_matrix((8, 8)), sp.csr_matrix((8, 8))],
        ["k0", "k1"],
        affine.vectors,
        affine.vector_coefficients,
        affine.free,
        affine.dirichlet,
    )
    with pytest.raises(ModelError, match="singular") as info:
        ReducedBasisModel.build(singular, ["k0", "k1"], np.ones(2))
    assert "\n" not in str(info.value)
    model = ReducedBasisModel.build(affine, ["k0", "k1"], np.ones(2))
    model.extend(np.eye(8)[:2])
    model.reduced_matrices[:] = 0.0  # as if A(mu) vanished on the basis
    with pytest.raises(ModelError, match=r"singular at parameters \[1.0, 2.0\]"):
        model.solve(np.array([[1.0, 2.0]]))


def test_pod_with_every_mode_keeps_directions_below_the_gram_resolution():
    """Snapshots whose singular values span 1e-9: the Gram matrix resolves 1e-7 only,
    so with as many modes as snapshots the basis is their Gram-Schmidt span."""
    from nirom.reduced_basis.basis import pod_basis

    rng = np.random.default_rng(0)
    n = 40
    q, _ = np.linalg.qr(rng.standard_normal((n, 5)))
    snapshots = (q * np.array([1.0, 1e-3, 1e-6, 1e-8, 1e-9])).T  # (5, n)
    snapshots = np.vstack([snapshots, np.zeros(n)])  # a zero snapshot is skipped
    product = sp.identity(n, format="csr")
    basis, _ = pod_basis(snapshots, product, n_modes=5)
    assert basis.shape == (n, 5)
    np.testing.assert_allclose(basis.T @ basis, np.eye(5), atol=1e-12)
    residual = snapshots.T - basis @ (basis.T @ snapshots.T)
    assert np.abs(residual).max() < 1e-14
    truncated, _ = pod_basis(snapshots, product, n_modes=4)
    assert truncated.shape[1] <= 4
