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
   are the least-squares solution on the chosen points, all positive, so also
   the non-negative least-squares one.

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

from nirom.errors import FieldError, ParameterError
from nirom.reduction.numerics import energy_rank, project_out, svd


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
        k = energy_rank(s, rtol**2)
        return u[:, :k] * s[:k]
    # Fewer columns than points: the eigenvectors of the small Gram matrix (energies
    # are accurate to about eps of the total, enough for rtol >= 1e-7).
    eigenvalues, V = sla.eigh(A.T @ A)
    eigenvalues, V = np.maximum(eigenvalues[::-1], 0.0), V[:, ::-1]
    k = energy_rank(np.sqrt(eigenvalues), rtol**2)
    return A @ V[:, :k]


def truncate_factor(factor: np.ndarray, rtol: float) -> np.ndarray:
    """A :func:`compress` factor ``U S`` (columns by decreasing singular value) truncated
    at a looser ``rtol``: its leading columns."""
    return factor[:, : energy_rank(np.linalg.norm(factor, axis=0), rtol**2)]


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
    k = energy_rank(s, rtol**2)
    return (u[:, :k] / np.sqrt(weights)[:, None]).T


def greedy_cubature(
    G: np.ndarray,
    weights: np.ndarray,
    tol: float,
    max_points: int | None = None,
    start: np.ndarray | None = None,
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
    start : ndarray of int, optional
        Points to start from (a looser cubature's, when several tolerances are tried):
        those of them with positive weights are kept and the greedy goes on from there.
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
    qr = _GrowingQR(G.shape[0], limit)
    chosen: list[int] = []
    banned = np.zeros(G.shape[1], dtype=bool)
    z, r = np.zeros(0), b.copy()
    if start is not None and len(start):
        for j in np.asarray(start)[: min(len(start), G.shape[0], limit)]:
            if qr.append(G[:, int(j)], b):  # a column in the others' span is skipped
                chosen.append(int(j))
        z = qr.solve()
        while np.any(z <= 0):
            chosen = [c for c, v in zip(chosen, z, strict=True) if v > 0]
            qr.refactor(G[:, chosen], b)
            z = qr.solve()
        r = b - qr.projection()
    for _ in range(3 * limit):
        if np.linalg.norm(r) <= tol * norm_b or len(chosen) >= limit:
            break
        score = (G.T @ r) / norms
        score[chosen] = -np.inf
        score[banned] = -np.inf
        j = int(np.argmax(score))
        if not np.isfinite(score[j]) or score[j] <= 0:
            break
        if not qr.append(G[:, j], b):
            banned[j] = True  # in the span of the chosen columns: it adds nothing
            continue
        chosen.append(j)
        z = qr.solve()
        while np.any(z <= 0):  # drop the points a negative weight wants out; refactor
            banned[[c for c, v in zip(chosen, z, strict=True) if v <= 0]] = True
            chosen = [c for c, v in zip(chosen, z, strict=True) if v > 0]
            qr.refactor(G[:, chosen], b)
            z = qr.solve()
        r = b - qr.projection()
    if chosen:  # the weights are the least-squares ones, all positive: NNLS's solution too
        r = b - G[:, chosen] @ z
    order = np.argsort(chosen)
    return Cubature(
        np.asarray(chosen, dtype=np.int64)[order], z[order], float(np.linalg.norm(r) / norm_b)
    )


class _GrowingQR:
    """The thin QR of a growing set of columns, in arrays allocated once (the greedy adds
    hundreds to thousands of columns: copying the factors at each one cost as much as the
    rest of the greedy), with ``c = Q^T b`` kept beside it."""

    def __init__(self, m: int, limit: int) -> None:
        self.Q = np.empty((m, limit))
        self.R = np.zeros((limit, limit))
        self.c = np.empty(limit)
        self.s = 0

    def append(self, g: np.ndarray, b: np.ndarray) -> bool:
        """Add column ``g`` (Gram-Schmidt, twice); False if it lies in the span already."""
        s = self.s
        v, h = project_out(self.Q[:, :s], g)
        rho = float(np.linalg.norm(v))
        if not rho > 1e-12 * float(np.linalg.norm(g)):
            return False
        self.Q[:, s] = v / rho
        self.R[:s, s], self.R[s, s] = h, rho
        self.c[s] = self.Q[:, s] @ b
        self.s += 1
        return True

    def refactor(self, A: np.ndarray, b: np.ndarray) -> None:
        """The factors of the columns ``A`` afresh (after columns were dropped)."""
        self.s = A.shape[1]
        if self.s:
            Q, R = np.linalg.qr(A)
            self.Q[:, : self.s], self.R[: self.s, : self.s] = Q, R
            self.c[: self.s] = Q.T @ b

    def solve(self) -> np.ndarray:
        """The least-squares coefficients ``R^-1 Q^T b``."""
        if self.s == 0:
            return np.zeros(0)
        return sla.solve_triangular(self.R[: self.s, : self.s], self.c[: self.s])

    def projection(self) -> np.ndarray:
        """``Q Q^T b``: b's least-squares approximation by the columns."""
        return self.Q[:, : self.s] @ self.c[: self.s]


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
