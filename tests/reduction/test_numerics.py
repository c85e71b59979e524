"""The shared numerics: the truncation rule, Gram-Schmidt, the row-SVD compression."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from nirom.reduction.numerics import (
    DEPENDENCE_TOLERANCE,
    compress_rows,
    energy_rank,
    extend_basis,
    project_out,
)

# squared values 64, 16, 4, 1, 0.25 of 85.25: 1 mode leaves 24.9 %, 2 leave 6.2 %,
# 3 leave 1.5 %, 4 leave 0.29 %
S = np.array([8.0, 4.0, 2.0, 1.0, 0.5])


@pytest.mark.parametrize(("tol", "kept"), [(0.3, 1), (0.1, 2), (0.02, 3), (0.01, 4), (1e-3, 5)])
def test_energy_rank_keeps_the_fewest_modes_within_the_discarded_fraction(
    tol: float, kept: int
) -> None:
    assert energy_rank(S, tol) == kept


def test_energy_rank_at_tol_zero_keeps_every_nonzero_mode() -> None:
    assert energy_rank(S, 0.0) == 5
    assert energy_rank(np.array([3.0, 2.0, 1.0, 0.0, 0.0]), 0.0) == 3


def test_energy_rank_with_all_the_energy_in_one_mode() -> None:
    one = np.array([5.0, 0.0, 0.0])
    assert energy_rank(one, 0.0) == 1
    assert energy_rank(one, 0.5) == 1
    assert energy_rank(one, 0.5, minimum=0) == 1  # the one mode holds it all


def test_energy_rank_n_modes_overrides_the_rule_up_to_the_values_there_are() -> None:
    assert energy_rank(S, 0.3, n_modes=4) == 4
    assert energy_rank(S, 1e-12, n_modes=2) == 2
    assert energy_rank(S, 0.1, n_modes=9) == 5


def test_energy_rank_keeps_at_least_minimum_and_nothing_of_zero_values() -> None:
    assert energy_rank(np.array([1.0, 1.0]), 1.0) == 1  # none would do
    assert energy_rank(np.array([1.0, 1.0]), 1.0, minimum=0) == 0
    assert energy_rank(np.array([1.0, 1.0]), 0.6, minimum=2) == 2
    assert energy_rank(np.zeros(4), 1e-3) == 0
    assert energy_rank(np.zeros(0), 1e-3) == 0


def test_energy_rank_counts_the_energy_beyond_the_values_as_discarded() -> None:
    s = np.array([2.0, 1.0])  # 5 of a total 10: the other 5 lie beyond the computed values
    assert energy_rank(s, 0.6, total=10.0) == 1  # 1 mode leaves 6 of 10 out
    assert energy_rank(s, 0.55, total=10.0) == 2  # 2 leave 5 out
    assert energy_rank(s, 0.1, total=10.0) == 2  # out of reach: all there are


def test_energy_rank_resolves_fractions_far_below_machine_epsilon() -> None:
    s = np.array([1.0, 1e-9])  # the second mode holds 1e-18 of the energy
    assert energy_rank(s, 1e-16) == 1
    assert energy_rank(s, 1e-19) == 2


def test_compress_rows_keeps_the_gram_matrix_of_the_rows() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((9, 3)) @ rng.standard_normal((3, 20))
    C = compress_rows(X, 1e-20)  # rank 3 (0 would keep the round-off values too)
    assert C.shape == (3, 20)
    np.testing.assert_allclose(C.T @ C, X.T @ X, atol=1e-10)
    assert compress_rows(X, 0.99).shape == (1, 20)
    assert compress_rows(np.zeros((4, 20)), 1e-6).shape == (0, 20)


def test_compress_rows_leaves_out_at_most_tol_of_the_energy() -> None:
    rng = np.random.default_rng(1)
    X = rng.standard_normal((12, 30)) * np.exp(-np.arange(30) / 3.0)
    for tol in (1e-2, 1e-4, 1e-8):
        C = compress_rows(X, tol)
        left_out = np.sum(X**2) - np.sum(C**2)
        assert left_out <= tol * np.sum(X**2) * (1 + 1e-12)


def spd(n: int, seed: int) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    off = sp.random(n, n, density=0.05, random_state=seed) * 0.1
    return (sp.diags(rng.uniform(1.0, 3.0, n)) + off + off.T).tocsr()


@pytest.mark.parametrize("product", [None, spd(40, 2)], ids=["euclidean", "matrix"])
def test_project_out_leaves_a_remainder_orthogonal_to_the_basis(product: object) -> None:
    rng = np.random.default_rng(3)
    basis, _ = extend_basis(np.empty((40, 0)), product, rng.standard_normal((5, 40)))
    vectors = rng.standard_normal((40, 3))
    X = np.eye(40) if product is None else product
    remainder, coefficients = project_out(basis, vectors, product)
    np.testing.assert_allclose(basis.T @ (X @ remainder), 0.0, atol=1e-13)
    np.testing.assert_allclose(basis @ coefficients + remainder, vectors, atol=1e-13)
    one, c1 = project_out(basis, vectors[:, 0], product)
    np.testing.assert_allclose(one, remainder[:, 0], atol=1e-14)
    assert c1.shape == (5,)


@pytest.mark.parametrize("product", [None, spd(30, 4)], ids=["euclidean", "matrix"])
def test_extend_basis_stays_orthonormal_on_nearly_dependent_vectors(product: object) -> None:
    x = np.linspace(0.0, 1.0, 30)
    monomials = np.array([x**k for k in range(12)])  # very ill-conditioned
    basis, added = extend_basis(np.empty((30, 0)), product, monomials)
    X = np.eye(30) if product is None else product.toarray()
    assert added == basis.shape[1] >= 8
    np.testing.assert_allclose(basis.T @ X @ basis, np.eye(added), atol=1e-13)


def test_extend_basis_skips_vectors_in_the_span_and_zero_vectors() -> None:
    rng = np.random.default_rng(5)
    V = rng.standard_normal((3, 25))
    basis, added = extend_basis(np.empty((25, 0)), None, V)
    again = np.vstack([V[0] + V[1], np.zeros(25), V[2] * (1 + DEPENDENCE_TOLERANCE)])
    same, more = extend_basis(basis, None, again)
    assert (added, more) == (3, 0)
    assert np.array_equal(same, basis)
