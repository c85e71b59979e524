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
