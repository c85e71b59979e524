"""Nonintrusive empirical interpolation of ``A(mu)`` from the matrices a solver wrote.

From system matrices ``A(mu_i)`` sampled at parameters ``mu_i`` (all on one
sparsity pattern), the (discrete) empirical interpolation method builds

    A(mu) ~ sum_m beta_m(mu) B_m,      beta(mu) = P^{-1} a_magic(mu),

where the ``B_m`` span the sampled matrices (greedy: each new term is the
worst-interpolated sample's interpolation residual), the magic points are
matrix entries (where that residual is largest) and ``P`` holds the terms at
the magic points (unit lower triangular). Online only the few magic entries
``a_magic(mu)`` are needed: nirom obtains them from a linear regression of
the sampled entries over the parameters, ``a_magic(mu) ~ [mu, 1] @ C``, which
is exact when ``A`` is affine in the parameters themselves (conductivities,
Lame parameters, load amplitudes), so that ``beta(mu) = [mu, 1] @ C P^{-T}``
is one linear map. The same applies to right-hand sides (vectors).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from nirom.errors import DatasetError, ModelError


@dataclass
class Interpolation:
    """``y(mu) ~ sum_m beta_m(mu) terms[m]`` with ``beta = [mu, 1] @ coefficient_map``.

    ``terms`` (M, n_entries); ``magic`` (M,) entry indices; ``max_error``: the
    largest relative interpolation error of the training samples (max norm)
    with these M terms, the regression's error included.
    """

    terms: np.ndarray
    magic: np.ndarray
    coefficient_map: np.ndarray
    max_error: float


def common_pattern(matrices: Sequence[sp.spmatrix]) -> sp.csr_matrix:
    """The union sparsity pattern (CSR, sorted) of square matrices of one size."""
    shapes = {m.shape for m in matrices}
    if len(shapes) != 1:
        raise DatasetError(f"sampled matrices have different shapes {sorted(shapes)}")
    ((rows, cols),) = shapes
    if rows != cols:
        raise DatasetError(f"sampled matrices are not square ({rows} x {cols})")
    pattern = sum(abs(sp.csr_matrix(m)) for m in matrices)
    pattern = sp.csr_matrix(pattern)
    pattern.data[:] = 1.0
    pattern.sort_indices()
    return pattern


def entries_on(pattern: sp.csr_matrix, matrix: sp.spmatrix) -> np.ndarray:
    """The values of ``matrix`` at the entries of ``pattern`` (zeros where it has none)."""
    on = sp.csr_matrix(pattern.multiply(0.0) + sp.csr_matrix(matrix))
    on.sort_indices()
    if on.nnz != pattern.nnz:  # matrix has entries outside the pattern
        raise DatasetError("a sampled matrix has entries outside the common pattern")
    return on.data.copy()


def interpolate(
    samples: np.ndarray, x: np.ndarray, *, max_terms: int | None = None, tolerance: float = 1e-10
) -> Interpolation:
    """Empirical interpolation of ``samples`` (n, n_entries) taken at parameters ``x`` (n, dim).

    Terms are added while the largest relative residual (max norm) of the
    samples exceeds ``tolerance`` and fewer than ``max_terms`` are kept.
    """
    y = np.asarray(samples, dtype=float)
    n, _ = y.shape
    if n < x.shape[1] + 1:
        raise ModelError(
            f"empirical interpolation: the regression over {x.shape[1]} parameters needs "
            f"at least {x.shape[1] + 1} samples, got {n}"
        )
    features = np.hstack([np.asarray(x, dtype=float), np.ones((n, 1))])
    scale = np.maximum(np.abs(y).max(axis=1), np.finfo(float).tiny)
    limit = min(n, max_terms or n)
    terms: list[np.ndarray] = []
    magic: list[int] = []
    residual = y.copy()
    while len(terms) < limit:
        relative = np.abs(residual).max(axis=1) / scale
        worst = int(np.argmax(relative))
        if relative[worst] <= tolerance:
            break
        r = residual[worst]
        point = int(np.argmax(np.abs(r)))
        terms.append(r / r[point])
        magic.append(point)
        residual = y - _interpolant(y, np.array(terms), np.array(magic))
    if not terms:
        raise ModelError("empirical interpolation: the sampled matrices are all zero")
    basis, points = np.array(terms), np.array(magic)
    p = basis[:, points].T  # P[i, m] = term m at magic point i
    # Columns scaled to a unit maximum first: parameters in Pa (1e11) beside the constant 1
    # would otherwise cost the least-squares fit about 11 digits.
    column_scale = np.maximum(np.abs(features).max(axis=0), np.finfo(float).tiny)
    scaled, *_ = np.linalg.lstsq(features / column_scale, y[:, points], rcond=None)
    values = scaled / column_scale[:, None]  # (dim + 1, M)
    coefficient_map = np.linalg.solve(p, values.T).T  # beta = features @ map
    fitted = (features @ coefficient_map) @ basis
    error = float((np.abs(fitted - y).max(axis=1) / scale).max())
    return Interpolation(basis, points, coefficient_map, error)


def _interpolant(y: np.ndarray, terms: np.ndarray, magic: np.ndarray) -> np.ndarray:
    """Interpolants (n, n_entries) of ``y`` matching it at the magic points."""
    beta = np.linalg.solve(terms[:, magic].T, y[:, magic].T).T
    return beta @ terms
