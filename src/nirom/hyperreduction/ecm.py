"""Empirical cubature (ECM): a few integration points with non-negative weights.

Given integrands sampled at the ``n`` points of a quadrature rule with weights
``w`` (``A[l, j] = f_j(x_l)``), the empirical cubature method (Hernandez,
Caicedo, Ferrer 2017) picks a subset ``S`` of the points and weights
``z >= 0`` such that ``sum_{l in S} z_l f_j(x_l)`` equals the integral
``sum_l w_l f_j(x_l)`` of every integrand to a relative tolerance:

1. an orthonormal basis of the integrands in the ``w``-weighted inner product
   (truncated SVD of ``sqrt(w) A``, the constant function added so the volume
   is integrated too): ``G`` (m, n) the basis functions at the points, and
   ``b = G w`` their integrals;
2. greedy: add the point whose column of ``G`` is best aligned with the
   residual ``b - G_S z``, solve the non-negative least squares problem on the
   chosen points, drop points whose weight fell to zero, until
   ``||b - G_S z|| <= tol ||b||``.

The SVD is separable blockwise (:func:`compress`): each block of integrand
columns (one training sample) is reduced to its left singular vectors times
singular values, and the stacked factors are reduced again, so the columns
never need to sit in one matrix (:mod:`nirom.hyperreduction.offline` runs the
blocks as Dask tasks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.optimize as so

from nirom.errors import FieldError, ParameterError
from nirom.reduction.algorithms import svd


@dataclass
class Cubature:
    """Chosen points (indices into the full rule), their weights, and the relative
    integration error reached on the integrand basis."""

    points: np.ndarray
    weights: np.ndarray
    error: float


def compress(A: np.ndarray, weights: np.ndarray, rtol: float) -> np.ndarray:
    """``U S`` of the truncated SVD of ``sqrt(w) A`` (shape (n, r)), keeping the singular
    values whose discarded squared sum is at most ``rtol**2`` of the total."""
    A = np.asarray(A, dtype=float)
    if A.ndim != 2 or A.shape[0] != weights.size:
        raise FieldError(f"integrands have shape {A.shape}; expected ({weights.size}, n)")
    if not np.isfinite(A).all():
        raise FieldError("integrands hold NaN or infinite values")
    u, s, _ = svd(np.sqrt(weights)[:, None] * A)
    return u[:, : _rank(s, rtol)] * s[: _rank(s, rtol)]


def _rank(s: np.ndarray, rtol: float) -> int:
    total = float(s @ s)
    if total == 0.0:
        return 0
    tail = np.concatenate([np.cumsum((s**2)[::-1])[::-1], [0.0]])  # tail[k] = sum_{i>=k} s_i^2
    return int(np.argmax(tail <= rtol**2 * total))


def integrand_basis(factors: Sequence[np.ndarray], weights: np.ndarray, rtol: float) -> np.ndarray:
    """Orthonormal basis ``G`` (m, n) of the integrands from blockwise :func:`compress`
    factors (already in the weighted space), with the constant function added."""
    n = weights.size
    parts = [f for f in factors if f.size]
    stacked = np.hstack(parts) if parts else np.zeros((n, 0))
    largest = float(np.linalg.norm(stacked, axis=0).max()) if stacked.size else 1.0
    constant = np.sqrt(weights) / np.sqrt(weights.sum()) * largest
    u, s, _ = svd(np.hstack([stacked, constant[:, None]]))
    k = max(_rank(s, rtol), 1)
    return (u[:, :k] / np.sqrt(weights)[:, None]).T


def greedy_cubature(
    G: np.ndarray, weights: np.ndarray, tol: float, max_points: int | None = None
) -> Cubature:
    """Points and non-negative weights integrating the rows of ``G`` to ``tol`` (relative).

    Parameters
    ----------
    G : ndarray of shape (m, n)
        Integrand values at the ``n`` points of the full rule.
    weights : ndarray of shape (n,)
        Weights of the full rule (> 0).
    tol : float
        Relative tolerance on ``||b - G_S z|| / ||b||``, ``b = G w``.
    max_points : int, optional
        Most points to choose (default ``2 m + 10``; the greedy rarely needs more than m).
    """
    G = np.asarray(G, dtype=float)
    weights = np.asarray(weights, dtype=float)
    if G.ndim != 2 or G.shape[1] != weights.size:
        raise FieldError(f"G has shape {G.shape}; expected (m, {weights.size})")
    if np.any(weights <= 0) or not np.isfinite(weights).all():
        raise FieldError("the weights of the full rule must be finite and > 0")
    if not tol > 0:
        raise ParameterError(f"tol must be > 0, got {tol!r}")
    b = G @ weights
    norm_b = float(np.linalg.norm(b))
    limit = min(G.shape[1], max_points or 2 * G.shape[0] + 10)
    norms = np.linalg.norm(G, axis=0)
    norms[norms == 0] = np.inf
    chosen: list[int] = []
    z = np.zeros(0)
    r = b.copy()
    stalled = 0
    while np.linalg.norm(r) > tol * norm_b and len(chosen) < limit and stalled < 10:
        score = (G.T @ r) / norms
        score[chosen] = -np.inf
        j = int(np.argmax(score))
        if not np.isfinite(score[j]):
            break
        previous = float(np.linalg.norm(r))
        chosen.append(j)
        z, _ = so.nnls(G[:, chosen], b, maxiter=50 * len(chosen))
        keep = z > 0
        chosen, z = [c for c, k in zip(chosen, keep, strict=True) if k], z[keep]
        r = b - G[:, chosen] @ z
        stalled = stalled + 1 if np.linalg.norm(r) >= previous else 0
    order = np.argsort(chosen)
    return Cubature(
        np.asarray(chosen, dtype=np.int64)[order], z[order], float(np.linalg.norm(r) / norm_b)
    )


def empirical_cubature(
    integrands: np.ndarray | Sequence[np.ndarray],
    weights: np.ndarray,
    tol: float = 1e-5,
    svd_rtol: float | None = None,
    max_points: int | None = None,
) -> Cubature:
    """ECM of integrand blocks ``(n, n_cols)`` (one array or several) on a rule with ``weights``.

    ``svd_rtol`` (default ``tol / 10``) truncates the integrand SVD; ``tol`` is the
    relative integration error asked of the greedy choice.
    """
    weights = np.asarray(weights, dtype=float)
    blocks = [integrands] if isinstance(integrands, np.ndarray) else list(integrands)
    rtol = tol / 10 if svd_rtol is None else svd_rtol
    factors = [compress(A, weights, rtol) for A in blocks]
    return greedy_cubature(integrand_basis(factors, weights, rtol), weights, tol, max_points)
