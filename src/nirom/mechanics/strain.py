"""The strain operator B: nodal displacements -> Mandel strains at every quadrature point.

Small strains ``eps = (grad u + grad u^T) / 2`` in Mandel notation
(:mod:`nirom.mechanics.tensors`). The solver works with the *active* components:

- plane strain (triangles): ``(eps11, eps22, sqrt2 eps12)``, the Mandel indices
  :data:`~nirom.mechanics.tensors.PLANE_STRAIN_COMPONENTS` = (0, 1, 5); the
  out-of-plane strains are zero, so the law gets ``(eps11, eps22, 0, 0, 0, sqrt2 eps12)``
  and the solver keeps rows/columns (0, 1, 5) of its stress and tangent (sigma_33
  is tracked as the law returns it);
- 3D (tetrahedra): all six components.

``B`` as a sparse matrix (:meth:`StrainOperator.matrix`) has shape
``(n_qp * n_active, n_dofs)``; row ``(c * n_q + q) * n_active + k`` is component
``k`` at point ``q`` of cell ``c`` (cell-major), so ``(B @ u).reshape(n_qp, n_active)``
are the active strains. Its transpose gives the internal force
``B^T (w sigma)`` and ``B^T (w C) B`` is the tangent (:mod:`nirom.mechanics.assembly`);
a hyper-reduced model keeps the rows of a few points.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from nirom.mechanics.space import DisplacementSpace
from nirom.mechanics.tensors import PLANE_STRAIN_COMPONENTS, SQRT2

# (i, j) gradient entries behind each Mandel component, in Mandel order.
_PAIRS = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))


def active_components(dim: int) -> tuple[int, ...]:
    """Mandel indices the solver uses: (0, 1, 5) in plane strain, (0, ..., 5) in 3D."""
    return PLANE_STRAIN_COMPONENTS if dim == 2 else (0, 1, 2, 3, 4, 5)


class StrainOperator:
    """Element strain-displacement arrays of a :class:`DisplacementSpace`.

    Attributes
    ----------
    local : ndarray of shape (n_cells, n_q, n_active, dofs_per_cell)
        ``local[c, q] @ u[dofs[c]]`` are the active Mandel strains at point q of cell c.
    dofs : ndarray of shape (n_cells, dofs_per_cell)
        Global dofs of each cell.
    components : tuple of int
        The active Mandel indices.
    """

    def __init__(self, space: DisplacementSpace) -> None:
        self.space = space
        dim = space.dim
        self.components = active_components(dim)
        self.dofs = space.element_dofs()
        n_local = self.dofs.shape[1]
        n_cells, n_q = space.n_cells, space.n_q
        # Gradients of the scalar shape functions: (n_nodes_per_cell, dim, n_cells, n_q).
        grads = np.stack([np.asarray(phi[0].grad) for phi in space.scalar_basis.basis])
        local = np.zeros((n_cells, n_q, len(self.components), n_local))
        # Vector dof (node a, component i) is local dof dim * a + i (node-major, as the dofs).
        for k, m in enumerate(self.components):
            i, j = _PAIRS[m]
            scale = 1.0 if i == j else 1.0 / SQRT2  # sqrt2 * (u_i,j + u_j,i) / 2
            local[:, :, k, i::dim] += scale * grads[:, j].transpose(1, 2, 0)
            if i != j:
                local[:, :, k, j::dim] += scale * grads[:, i].transpose(1, 2, 0)
        self._check_local_order(dim)
        self.local = local
        self._matrix: sp.csr_matrix | None = None

    def _check_local_order(self, dim: int) -> None:
        # The vector basis numbers local dofs node-major; the loops above rely on it.
        scalar = self.space.scalar_basis.element_dofs
        expected = (dim * scalar[:, None, :] + np.arange(dim)[None, :, None]).reshape(
            -1, scalar.shape[1]
        )
        assert np.array_equal(self.space.basis.element_dofs, expected)

    @property
    def n_active(self) -> int:
        return len(self.components)

    def __call__(self, u: np.ndarray) -> np.ndarray:
        """Active Mandel strains of the dof vector ``u``, shape (n_qp, n_active)."""
        eps = np.einsum("cqkl,cl->cqk", self.local, u[self.dofs], optimize=True)
        return eps.reshape(-1, self.n_active)

    def full(self, active: np.ndarray) -> np.ndarray:
        """Mandel tensors (n, 6) from active components (n, n_active), zeros elsewhere."""
        out = np.zeros((active.shape[0], 6))
        out[:, list(self.components)] = active
        return out

    def matrix(self) -> sp.csr_matrix:
        """B as a sparse matrix (n_qp * n_active, n_dofs), rows cell-major (built once)."""
        if self._matrix is None:
            n_cells, n_q, n_k, _ = self.local.shape
            rows = np.broadcast_to(
                np.arange(n_cells * n_q * n_k).reshape(n_cells, n_q, n_k, 1), self.local.shape
            )
            cols = np.broadcast_to(self.dofs[:, None, None, :], self.local.shape)
            self._matrix = sp.csr_matrix(
                (self.local.ravel(), (rows.ravel(), cols.ravel())),
                shape=(n_cells * n_q * n_k, self.space.n_dofs),
            )
            self._matrix.eliminate_zeros()
        return self._matrix
