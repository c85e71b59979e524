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
   residual ``b - G_S z``, solve the least-squares problem on the chosen points
   (a QR factorization updated column by column), drop the points whose weight
   is not positive, until ``||b - G_S z|| <= tol ||b||``; the final weights
   are the non-negative least-squares solution on the chosen points.

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
import scipy.linalg as sla
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
    values whose discarded squared sum is at most ``rtol**2`` of the total (by the
    Gram matrix of the columns when they are fewer than the points)."""
    A = np.asarray(A, dtype=float)
    if A.ndim != 2 or A.shape[0] != weights.size:
        raise FieldError(f"integrands have shape {A.shape}; expected ({weights.size}, n)")
    if not np.isfinite(A).all():
        raise FieldError("integrands hold NaN or infinite values")
    return _left_factor(np.sqrt(weights)[:, None] * A, rtol)


def _left_factor(A: np.ndarray, rtol: float) -> np.ndarray:
    """``U S`` (n, r) of the truncated SVD of ``A`` (n, c) at relative energy ``rtol**2``."""
    if A.shape[1] >= A.shape[0] or rtol < 1e-7:
        u, s, _ = svd(A)
        k = _rank(s, rtol)
        return u[:, :k] * s[:k]
    # Fewer columns than points: the eigenvectors of the small Gram matrix (energies
    # are accurate to about eps of the total, enough for rtol >= 1e-7).
    eigenvalues, V = sla.eigh(A.T @ A)
    eigenvalues, V = np.maximum(eigenvalues[::-1], 0.0), V[:, ::-1]
    k = _rank(np.sqrt(eigenvalues), rtol)
    return A @ V[:, :k]


def _rank(s: np.ndarray, rtol: float) -> int:
    total = float(s @ s)
    if total == 0.0:
        return 0
    tail = np.concatenate([np.cumsum((s**2)[::-1])[::-1], [0.0]])  # tail[k] = sum_{i>=k} s_i^2
    return int(np.argmax(tail <= rtol**2 * total))


def integrand_basis(factors: Sequence[np.ndarray], weights: np.ndarray, rtol: float) -> np.ndarray:
    """Orthonormal basis ``G`` (m, n) of the integrands from blockwise :func:`compress`
    factors (already in the weighted space), with the constant function added."""
    u, s = integrand_svd(factors, weights, rtol)
    return truncated_basis(u, s, weights, rtol)


def integrand_svd(
    factors: Sequence[np.ndarray], weights: np.ndarray, rtol: float
) -> tuple[np.ndarray, np.ndarray]:
    """Left singular vectors (n, r) and singular values (r,) of the stacked blockwise
    factors with the constant function added (the nonzero part), accurate for truncations
    at ``rtol`` and looser, so that bases at several tolerances (:func:`truncated_basis`)
    cost one decomposition."""
    n = weights.size
    parts = [f for f in factors if f.size]
    stacked = np.hstack(parts) if parts else np.zeros((n, 0))
    largest = float(np.linalg.norm(stacked, axis=0).max()) if stacked.size else 1.0
    constant = np.sqrt(weights) / np.sqrt(weights.sum()) * largest
    A = np.hstack([stacked, constant[:, None]])
    if A.shape[1] >= A.shape[0] or rtol < 1e-7:
        u, s, _ = svd(A)
    else:  # fewer columns than points: the small Gram matrix (energies to about eps of the total)
        eigenvalues, V = sla.eigh(A.T @ A)
        s = np.sqrt(np.maximum(eigenvalues[::-1], 0.0))
        u = A @ V[:, ::-1]
    keep = s > s[0] * 1e-14 if s.size else np.zeros(0, dtype=bool)
    u, s = u[:, keep], s[keep]
    return u / np.linalg.norm(u, axis=0), s


def truncated_basis(u: np.ndarray, s: np.ndarray, weights: np.ndarray, rtol: float) -> np.ndarray:
    """``G`` (m, n) from :func:`integrand_svd`: the modes whose discarded squared singular
    values are at most ``rtol**2`` of the total, divided by ``sqrt(w)``."""
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
    banned = np.zeros(G.shape[1], dtype=bool)
    Q, R = np.zeros((G.shape[0], 0)), np.zeros((0, 0))
    z, r = np.zeros(0), b.copy()
    for _ in range(3 * limit):
        if np.linalg.norm(r) <= tol * norm_b or len(chosen) >= limit:
            break
        score = (G.T @ r) / norms
        score[chosen] = -np.inf
        score[banned] = -np.inf
        j = int(np.argmax(score))
        if not np.isfinite(score[j]) or score[j] <= 0:
            break
        Q, R = _append(Q, R, G[:, j])
        chosen.append(j)
        z = sla.solve_triangular(R, Q.T @ b)
        while np.any(z <= 0):  # drop the points a negative weight wants out; refactor
            banned[[c for c, v in zip(chosen, z, strict=True) if v <= 0]] = True
            chosen = [c for c, v in zip(chosen, z, strict=True) if v > 0]
            Q, R = np.linalg.qr(G[:, chosen]) if chosen else (Q[:, :0], R[:0, :0])
            z = sla.solve_triangular(R, Q.T @ b) if chosen else np.zeros(0)
        r = b - G[:, chosen] @ z
    if chosen:  # the final weights: non-negative least squares on the chosen points
        z, _ = so.nnls(G[:, chosen], b, maxiter=50 * len(chosen))
        chosen, z = [c for c, v in zip(chosen, z, strict=True) if v > 0], z[z > 0]
        r = b - G[:, chosen] @ z
    order = np.argsort(chosen)
    return Cubature(
        np.asarray(chosen, dtype=np.int64)[order], z[order], float(np.linalg.norm(r) / norm_b)
    )


def _append(Q: np.ndarray, R: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The thin QR of ``[A, g]`` from that of ``A`` (Gram-Schmidt, twice)."""
    c = Q.T @ g
    q = g - Q @ c
    c2 = Q.T @ q
    q -= Q @ c2
    c += c2
    rho = float(np.linalg.norm(q))
    k = R.shape[0]
    R_new = np.zeros((k + 1, k + 1))
    R_new[:k, :k], R_new[:k, k], R_new[k, k] = R, c, rho
    return np.column_stack([Q, q / rho if rho > 0 else q]), R_new


def empirical_cubature(
    integrands: np.ndarray | Sequence[np.ndarray],
    weights: np.ndarray,
    tol: float = 1e-5,
    svd_rtol: float | None = None,
    max_points: int | None = None,
) -> Cubature:
    """ECM of integrand blocks ``(n, n_cols)`` (one array or several) on a rule with ``weights``.

    ``svd_rtol`` (default ``tol``) truncates the integrand SVD; ``tol`` is the
    relative integration error asked of the greedy choice.
    """
    weights = np.asarray(weights, dtype=float)
    blocks = [integrands] if isinstance(integrands, np.ndarray) else list(integrands)
    rtol = tol if svd_rtol is None else svd_rtol
    factors = [compress(A, weights, rtol) for A in blocks]
    return greedy_cubature(integrand_basis(factors, weights, rtol), weights, tol, max_points)
