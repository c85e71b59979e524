"""Vectorised assembly of the internal force ``B^T (w sigma)`` and the tangent ``B^T (w C) B``.

``w`` are the quadrature weights times Jacobians (:meth:`DisplacementSpace.quadrature_weights`),
``sigma`` the active Mandel stress components at every quadrature point and ``C``
the active block of the consistent tangent, both cell-major as the strain operator
orders them. Per-cell matrices come from batched products of the element arrays of
:class:`~nirom.mechanics.strain.StrainOperator`; the sparse pattern and the map of
every cell entry onto it are computed once, so a tangent costs one ``bincount``.
The results equal ``B.T @ (w sigma)`` and ``B.T @ blockdiag(w C) @ B`` with the
sparse ``B`` (tested), without forming ``B``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from nirom.mechanics.strain import StrainOperator


class Assembler:
    """Internal force and tangent stiffness on one displacement space.

    Parameters
    ----------
    strain : StrainOperator
    weights : ndarray of shape (n_qp,), optional
        Quadrature weights times Jacobians; default the space's own.
    """

    def __init__(self, strain: StrainOperator, weights: np.ndarray | None = None) -> None:
        self.strain = strain
        space = strain.space
        self.weights = space.quadrature_weights() if weights is None else np.asarray(weights)
        n_dofs = space.n_dofs
        dofs = strain.dofs
        n_local = dofs.shape[1]
        rows = np.repeat(dofs, n_local, axis=1).ravel()
        cols = np.tile(dofs, (1, n_local)).ravel()
        # Pattern of K and, for every cell entry, its slot in K.data.
        key = rows.astype(np.int64) * n_dofs + cols
        unique, self._slot = np.unique(key, return_inverse=True)
        indptr = np.searchsorted(unique // n_dofs, np.arange(n_dofs + 1))
        self._indices = (unique % n_dofs).astype(np.int32)
        self._indptr = indptr.astype(np.int32 if unique.size < 2**31 else np.int64)
        self.n_dofs = n_dofs

    @property
    def nnz(self) -> int:
        """Stored entries of the tangent's sparse pattern."""
        return int(self._indices.size)

    def pattern(self) -> sp.csr_matrix:
        """The tangent's sparsity pattern, entry ``k`` of ``data`` holding ``k + 1``."""
        data = np.arange(1, self.nnz + 1, dtype=float)
        return sp.csr_matrix((data, self._indices, self._indptr), shape=(self.n_dofs,) * 2)

    def internal_force(self, stress: np.ndarray) -> np.ndarray:
        """``B^T (w sigma)`` for active stresses of shape (n_qp, n_active): shape (n_dofs,)."""
        local = self.strain.local
        n_cells, n_q, n_k, _ = local.shape
        ws = (self.weights[:, None] * stress).reshape(n_cells, n_q, n_k)
        fe = np.einsum("cqkl,cqk->cl", local, ws, optimize=True)
        return np.bincount(self.strain.dofs.ravel(), weights=fe.ravel(), minlength=self.n_dofs)

    def tangent(self, tangent: np.ndarray) -> sp.csr_matrix:
        """``B^T (w C) B`` for active tangents (n_qp, n_active, n_active): CSR (n_dofs, n_dofs)."""
        local = self.strain.local
        n_cells, n_q, n_k, n_local = local.shape
        wc = (self.weights[:, None, None] * tangent).reshape(n_cells, n_q, n_k, n_k)
        cb = np.matmul(wc, local).reshape(n_cells, n_q * n_k, n_local)  # (w C B) per cell
        # One (l, q k) @ (q k, l) product per cell sums over the points too.
        ke = np.matmul(local.reshape(n_cells, n_q * n_k, n_local).transpose(0, 2, 1), cb)
        data = np.bincount(self._slot, weights=ke.ravel(), minlength=self.nnz)
        return sp.csr_matrix(
            (data, self._indices, self._indptr), shape=(self.n_dofs, self.n_dofs), copy=False
        )
