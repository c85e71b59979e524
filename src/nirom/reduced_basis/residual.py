"""Dual norm of the residual, offline/online, through Riesz representers.

The residual of a reduced solution ``u_N = V c`` at ``mu`` is the functional

    r(mu) = sum_p phi_p(mu) f_p - sum_q sum_j theta_q(mu) c_j A_q v_j,

a combination, with coefficients known online, of ``m = P + Q r`` fixed
functionals. Their Riesz representers in the inner product ``X``
(``X w = g``) are computed offline and orthonormalized in ``X`` (Gram-Schmidt
twice), ``W = Q T`` with ``Q`` X-orthonormal, so online

    ||r(mu)||_{X'} = || T a(mu) ||_2

for the coefficient vector ``a(mu)``: an m' x m product, and no cancellation
between large Gram-matrix terms. (The textbook ``a^T G a`` with the Gram
matrix ``G = W^T X W`` loses half the digits: it stalls near
``sqrt(eps) ||f||``.) Directions of a new block of representers below
``DROP_TOLERANCE`` (1e-10) of the block's largest norm are dropped as already
in the span, so the dual norm is exact up to about 1e-10 of the functionals'
norms (times their coefficients), and ``T`` keeps only the numerically
independent directions (about 200 rows for 60 basis functions on the 3 x 3
block, so the online product is small).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from nirom.errors import ModelError

#: Directions of a representer block below this fraction of the block's largest
#: norm are dropped (already in the span of the earlier representers).
DROP_TOLERANCE = 1e-10
#: In the second pass the block is orthonormal up to rounding; a direction left
#: with less than this norm was noise.
SECOND_PASS_FLOOR = 0.1


class RieszResidual:
    """Offline data of the residual dual norm; grows with the reduced basis.

    Parameters
    ----------
    product : sparse (N, N)
        The SPD inner product ``X`` on the unknowns (factorized once).
    vectors : sequence of (N,) arrays
        The right-hand-side terms ``f_p``.
    matrices : sequence of sparse (N, N)
        The operator terms ``A_q``.
    """

    def __init__(
        self,
        product: sp.spmatrix,
        vectors: Sequence[np.ndarray],
        matrices: Sequence[sp.spmatrix],
    ) -> None:
        self.product = sp.csr_matrix(product)
        self.matrices = [sp.csr_matrix(a) for a in matrices]
        try:
            self._lu = spla.splu(sp.csc_matrix(product))
        except RuntimeError as exc:  # "Factor is exactly singular"
            raise ModelError(f"the inner-product (energy) matrix is singular ({exc})") from None
        n = self.product.shape[0]
        self.orthonormal = np.empty((n, 0))
        self.T = np.zeros((0, 0))
        self.n_vectors = len(vectors)
        self.n_basis = 0
        self._append(np.column_stack([np.asarray(f, dtype=float) for f in vectors]))

    def add_basis_vectors(self, vectors: np.ndarray) -> None:
        """Append the representers of ``A_q v`` for the new basis columns ``vectors`` (N, k)."""
        for v in np.asarray(vectors).T:
            self._append(np.column_stack([a @ v for a in self.matrices]))
            self.n_basis += 1

    def _append(self, functionals: np.ndarray) -> None:
        """Representers of ``functionals`` (N, k), orthonormalized against the earlier ones."""
        w = self._lu.solve(functionals)
        norms = np.sqrt(np.maximum(np.einsum("ij,ij->j", w, self.product @ w), 0.0))
        q_old = self.orthonormal
        coeff_old = np.zeros((q_old.shape[1], w.shape[1]))
        coeff_new = np.eye(w.shape[1])
        block = w
        # Pass 1 drops directions already in the span; after it the block is
        # normalized, so in pass 2 a direction that loses most of its norm was
        # rounding noise and is dropped too ("twice is enough").
        for floor in (DROP_TOLERANCE * max(norms.max(), np.finfo(float).tiny), SECOND_PASS_FLOOR):
            h = q_old.T @ (self.product @ block)
            block = block - q_old @ h
            coeff_old += h @ coeff_new
            gram = block.T @ (self.product @ block)
            values, vectors = np.linalg.eigh(0.5 * (gram + gram.T))
            keep = values > floor**2
            values, vectors = values[keep], vectors[:, keep]
            block = block @ (vectors / np.sqrt(values))
            coeff_new = (np.sqrt(values)[:, None] * vectors.T) @ coeff_new
        self.orthonormal = np.column_stack([q_old, block])
        m_old, m_cols = self.T.shape
        T = np.zeros((m_old + block.shape[1], m_cols + w.shape[1]))
        T[:m_old, :m_cols] = self.T
        T[:m_old, m_cols:] = coeff_old
        T[m_old:, m_cols:] = coeff_new
        self.T = T

    def drop_offline_data(self) -> None:
        """Forget the representers (online needs only ``T``); the basis cannot grow after."""
        self.orthonormal = np.empty((self.product.shape[0], 0))
        self._lu = None


def residual_coefficients(phi: np.ndarray, theta: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Coefficients a(mu) (n, P + r Q) of the residual functionals, ordered (p), (j, q)."""
    n = len(c)
    return np.hstack([phi, -(c[:, :, None] * theta[:, None, :]).reshape(n, -1)])


def dual_norms(T: np.ndarray, phi: np.ndarray, theta: np.ndarray, c: np.ndarray) -> np.ndarray:
    """||r(mu)||_{X'} (n,) for coefficients ``phi`` (n, P), ``theta`` (n, Q), ``c`` (n, r).

    ``T`` may be the full matrix or :func:`leading_block` of it for this basis size.
    """
    a = residual_coefficients(phi, theta, c)
    return np.linalg.norm(a @ T[:, : a.shape[1]].T, axis=1)


def leading_block(T: np.ndarray, n_columns: int) -> np.ndarray:
    """The rows and first ``n_columns`` columns of ``T`` a smaller basis uses, as one
    contiguous array: rows added for later basis vectors are zero in those columns."""
    block = T[:, :n_columns]
    used = np.flatnonzero(np.any(block != 0.0, axis=1))
    return np.ascontiguousarray(block[used])
