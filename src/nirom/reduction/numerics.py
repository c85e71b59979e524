"""The numerics the reductions share, implemented once.

The POD (:mod:`nirom.reduction`), the reduced bases (:mod:`nirom.reduced_basis`)
and the hyper-reduction (:mod:`nirom.hyperreduction`) all use:

- :func:`energy_rank`: the truncation rule, how many leading modes keep the
  discarded energy fraction (the squared singular values left out, over the
  total) at most ``tol``;
- :func:`svd`: the thin SVD of a scratch matrix;
- :func:`compress_rows`: the row-SVD compression ``S V^T`` of snapshot rows;
- :func:`project_out` and :func:`extend_basis`: classical Gram-Schmidt with one
  re-orthogonalization pass ("twice is enough"), in an optional inner product;
- :func:`orthonormalize`: rows re-orthonormalized in an
  :class:`~nirom.reduction.inner_product.InnerProduct` (Cholesky QR);
- :func:`fix_signs`: deterministic signs of modes.

Energies are squared norms in whatever unit the snapshots have; the
tolerances are dimensionless fractions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg as sla

from nirom.reduction.inner_product import NO_PRODUCT, InnerProduct

#: A new vector whose norm after projection falls below this fraction of its own
#: norm is numerically in the span already and is not added (:func:`extend_basis`).
DEPENDENCE_TOLERANCE = 1e-10

_ORTH_TOL = 1e-12  # largest tolerated |Phi M Phi^T - I| before re-orthonormalising


def energy_rank(
    s: np.ndarray,
    tol: float,
    *,
    n_modes: int | None = None,
    total: float | None = None,
    minimum: int = 1,
) -> int:
    """Number of leading modes to keep from the singular values ``s`` (descending).

    The fewest modes ``k`` whose discarded energy, ``sum(s[k:]**2)`` plus what
    ``total`` holds beyond ``sum(s**2)``, is at most ``tol * total``: ``tol``
    is the discarded energy fraction (``rtol**2`` for a relative tolerance
    ``rtol`` on the norm; 0 keeps every mode of nonzero value), ``total`` the
    total energy (default ``sum(s**2)``; more when ``s`` are only the leading
    values, as from a randomized or incremental SVD). At least ``minimum``
    (default 1), at most ``len(s)``; 0 when ``s`` is all zero.

    ``n_modes``, when given, overrides the rule: that many modes (at most ``len(s)``).

    The discarded sums are accumulated from the smallest value up, so fractions
    far below machine epsilon (``rtol = 1e-8``: ``tol = 1e-16``) are resolved.
    """
    s = np.asarray(s, dtype=float)
    if n_modes is not None:
        return min(int(n_modes), s.size)
    energy = float(s @ s)
    if energy == 0.0:
        return 0
    tail = np.concatenate([np.cumsum((s**2)[::-1])[::-1], [0.0]])  # tail[k] = sum_{i>=k} s_i^2
    if total is None:
        total, beyond = energy, 0.0
    else:
        total, beyond = float(total), float(total) - tail[0]
    within = beyond + tail <= tol * total
    k = int(np.argmax(within)) if within[-1] else s.size
    return min(max(k, minimum), s.size)


def svd(A: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Thin SVD of a scratch matrix (``gesdd``, or the slower, surer ``gesvd`` if it fails)."""
    options = {"full_matrices": False, "check_finite": False}
    try:
        return sla.svd(A, lapack_driver="gesdd", **options)
    except np.linalg.LinAlgError:
        return sla.svd(A, lapack_driver="gesvd", **options)


def compress_rows(X: np.ndarray, tol: float) -> np.ndarray:
    """``S V^T`` (r, d) of the truncated SVD of snapshot rows ``X`` (n, d).

    Keeps the :func:`energy_rank` modes at discarded energy fraction ``tol``, so
    ``compress_rows(X, tol).T @ compress_rows(X, tol)`` approximates ``X^T X``
    and stacking the compressed rows of several blocks gives the POD of all of
    them; no rows for an all-zero ``X``.
    """
    _, s, vt = svd(np.asarray(X, dtype=float))
    r = energy_rank(s, tol)
    return s[:r, None] * vt[:r]


def project_out(
    basis: np.ndarray, vectors: np.ndarray, product: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """``vectors`` less their projection on the span of ``basis``, and the coefficients.

    ``basis`` (N, r) has columns orthonormal in the inner product ``product``
    (an (N, N) sparse or dense SPD matrix; None: Euclidean); ``vectors`` is
    (N,) or (N, m). Classical Gram-Schmidt twice ("twice is enough"): returns
    the remainder (same shape as ``vectors``, a new array) and the coefficients
    (r,) or (r, m) of the projection, the sum of both passes.
    """
    v = np.asarray(vectors, dtype=float)
    coefficients = np.zeros((basis.shape[1], *v.shape[1:]))
    if basis.shape[1] == 0:
        return v.copy(), coefficients
    for _ in range(2):
        h = basis.T @ (v if product is None else product @ v)
        v = v - basis @ h
        coefficients += h
    return v, coefficients


def extend_basis(basis: np.ndarray, product: Any, vectors: np.ndarray) -> tuple[np.ndarray, int]:
    """``basis`` (N, r), orthonormal in ``product`` (None: Euclidean), extended by ``vectors``
    (k, N) one at a time by :func:`project_out`; returns ``(basis, added)``.

    A vector whose norm after projection is at most :data:`DEPENDENCE_TOLERANCE`
    of its own is (numerically) in the span already and is skipped.
    """
    added = 0
    for vector in np.atleast_2d(vectors):
        norm0 = _norm(vector, product)
        if norm0 == 0.0:
            continue
        v, _ = project_out(basis, vector, product)
        norm = _norm(v, product)
        if norm <= DEPENDENCE_TOLERANCE * norm0:
            continue
        basis = np.column_stack([basis, v / norm])
        added += 1
    return basis, added


def _norm(v: np.ndarray, product: Any) -> float:
    """``sqrt(v^T X v)`` (Euclidean for ``product`` None), 0 for round-off below zero."""
    v = np.asarray(v, dtype=float)
    return float(np.sqrt(max(v @ (v if product is None else product @ v), 0.0)))


def orthonormalize(modes: np.ndarray, product: InnerProduct = NO_PRODUCT) -> np.ndarray:
    """Re-orthonormalise rows in the M inner product (Cholesky QR, at most twice)."""
    for _ in range(2 if len(modes) else 0):
        gram = modes @ product.apply(modes).T
        gram = (gram + gram.T) / 2
        if np.abs(gram - np.eye(len(gram))).max() <= _ORTH_TOL:
            break
        chol = sla.cholesky(gram, lower=True)
        modes = sla.solve_triangular(chol, modes, lower=True)
    return modes


def fix_signs(modes: np.ndarray) -> np.ndarray:
    """Flip rows so that each one's entry of largest magnitude is positive (deterministic)."""
    if modes.size == 0:
        return modes
    rows = np.arange(modes.shape[0])
    signs = np.sign(modes[rows, np.argmax(np.abs(modes), axis=1)])
    return modes * np.where(signs == 0, 1.0, signs)[:, None]
