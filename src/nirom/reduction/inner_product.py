"""Inner products of snapshot spaces: none (Euclidean), diagonal (lumped mass), or a matrix.

An :class:`InnerProduct` is a checked symmetric positive definite matrix
``M`` (shape ``(n_dof, n_dof)``; a finite-element mass matrix gives the L2
inner product) that applies itself to rows: ``A M`` for ``A`` of shape
``(n, n_dof)``. A diagonal ``M`` is kept as its diagonal, so the POD
algorithms can scale columns by ``sqrt(diag(M))`` instead of multiplying.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from nirom.errors import HyperparameterError

Kind = Literal["none", "diagonal", "matrix"]


@dataclass(frozen=True)
class InnerProduct:
    """A validated inner product; ``kind`` "none" | "diagonal" | "matrix".

    ``matrix`` is the CSR or dense matrix (None for "none", or for a loaded
    POD whose product was not given again), ``diagonal`` its diagonal
    (n_dof,) when ``kind == "diagonal"``.
    """

    kind: Kind = "none"
    matrix: Any = None
    diagonal: np.ndarray | None = None

    def apply(self, A: np.ndarray) -> np.ndarray:
        """``A M`` for rows ``A`` of shape (n, n_dof) (``M`` is symmetric)."""
        if self.kind == "none":
            return A
        if self.kind == "diagonal":
            return A * self.diagonal
        if sp.issparse(self.matrix):
            return np.asarray(self.matrix @ A.T).T
        return A @ self.matrix

    def norms2(self, A: np.ndarray) -> np.ndarray:
        """Squared M-norms of the rows of ``A``, shape (n,)."""
        return np.maximum(np.einsum("ij,ij->i", A, self.apply(A)), 0.0)

    def scale(self) -> np.ndarray | None:
        """``sqrt(diag(M))`` for a diagonal product (columns scaled by it), else None."""
        return np.sqrt(self.diagonal) if self.kind == "diagonal" else None


#: The Euclidean inner product (no matrix).
NO_PRODUCT = InnerProduct("none")


def check_product(product: Any, n_dof: int) -> InnerProduct:
    """``product`` (None, sparse or dense matrix) checked against ``n_dof``.

    Raises :class:`HyperparameterError` naming what is wrong: type, shape,
    symmetry, positive diagonal.
    """
    if product is None:
        return InnerProduct("none")
    if sp.issparse(product):
        M = sp.csr_matrix(product, dtype=np.float64)
    elif isinstance(product, np.ndarray):
        M = np.asarray(product, dtype=np.float64)
    else:
        raise HyperparameterError(
            f"product must be a scipy sparse matrix or a NumPy array, got {type(product).__name__}"
        )
    if M.shape != (n_dof, n_dof):
        raise HyperparameterError(
            f"product has shape {M.shape}; expected ({n_dof}, {n_dof}) to match the "
            f"{n_dof} dofs of X"
        )
    scale = abs(M).max()
    if abs(M - M.T).max() > 1e-10 * scale:
        raise HyperparameterError("product must be symmetric (positive definite)")
    diagonal = np.asarray(M.diagonal(), dtype=np.float64)
    if not np.all(diagonal > 0) or not np.all(np.isfinite(diagonal)):
        raise HyperparameterError(
            "product must be positive definite: its diagonal has entries <= 0"
        )
    if sp.issparse(M):
        coo = M.tocoo()
        coupled = np.any(coo.data[coo.row != coo.col])
    else:
        coupled = np.any(M[~np.eye(n_dof, dtype=bool)])
    return InnerProduct("matrix", M) if coupled else InnerProduct("diagonal", M, diagonal)
