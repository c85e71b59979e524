"""Dataset fields of a mechanics solve: displacement, stresses and plastic strain.

Names, locations and component orders (stresses in MPa, displacements in mm):

==============  ===========  ==========================================================
field           location     components
==============  ===========  ==========================================================
``u``           point        (x, y) in plane strain, (x, y, z) in 3D
``sigma``       point        physical Voigt: (xx, yy, zz, xy) in plane strain,
                             (xx, yy, zz, yz, xz, xy) in 3D
``von_mises``   point        1: ``sqrt(3/2 s:s)`` of the nodal ``sigma`` (sigma_zz included)
``p``           point        1: cumulated plastic strain
``sigma_qp``    quadrature   as ``sigma``, at every quadrature point (cell-major)
``p_qp``        quadrature   1, at every quadrature point
==============  ===========  ==========================================================

All are time series over the output times. The nodal values of ``sigma`` and
``p`` are the L2 projection of the quadrature values onto the displacement's
scalar Lagrange space (P1 or P2; one factorization of its mass matrix per
space), for viewing; near a plastic front the projected ``p`` may undershoot
slightly (below 0). The quadrature-point fields are the solver's own values,
what a reduced model compares against.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import skfem

from nirom.dataset.schema import FieldSpec
from nirom.mechanics.solver import QuasiStaticResult
from nirom.mechanics.space import DisplacementSpace
from nirom.mechanics.tensors import mandel_to_voigt, von_mises

#: Mandel components kept in the stress output, per dimension (physical Voigt order).
_STRESS_COMPONENTS = {2: (0, 1, 2, 5), 3: (0, 1, 2, 3, 4, 5)}
STRESS_NAMES = {2: ("xx", "yy", "zz", "xy"), 3: ("xx", "yy", "zz", "yz", "xz", "xy")}


def field_specs(dim: int, times: Sequence[float]) -> list[FieldSpec]:
    """The field specifications of a mechanics dataset on a ``dim``-D mesh."""
    times = tuple(float(t) for t in times)
    n_sigma = len(_STRESS_COMPONENTS[dim])
    return [
        FieldSpec("u", "point", dim, times, "mm"),
        FieldSpec("sigma", "point", n_sigma, times, "MPa"),
        FieldSpec("von_mises", "point", 1, times, "MPa"),
        FieldSpec("p", "point", 1, times, "1"),
        FieldSpec("sigma_qp", "quadrature", n_sigma, times, "MPa"),
        FieldSpec("p_qp", "quadrature", 1, times, "1"),
    ]


def voigt_stress(stress: np.ndarray, dim: int) -> np.ndarray:
    """Physical Voigt stress components (..., 4 or 6) from Mandel stresses (..., 6)."""
    return mandel_to_voigt(stress)[..., list(_STRESS_COMPONENTS[dim])]


class NodalProjection:
    """L2 projection of quadrature-point values onto the scalar nodal space.

    ``M s = Q v``, with ``M`` the mass matrix of the scalar Lagrange space and
    ``Q[i, (c, q)] = w_cq phi_i(x_cq)``, both on the solver's quadrature rule.
    """

    def __init__(self, space: DisplacementSpace) -> None:
        basis = space.scalar_basis
        n_cells, n_q = basis.dx.shape
        values = np.stack([np.asarray(phi[0]) for phi in basis.basis])  # (nodes/cell, c, q)
        weighted = values * np.asarray(basis.dx)[None]
        rows = np.broadcast_to(basis.element_dofs[:, :, None], weighted.shape)
        cols = np.broadcast_to(np.arange(n_cells * n_q).reshape(1, n_cells, n_q), weighted.shape)
        self.q = sp.csr_matrix(
            (weighted.ravel(), (rows.ravel(), cols.ravel())), shape=(basis.N, n_cells * n_q)
        )
        # The mass is exact (degree 2 * order rule); Q uses the solver's rule, which is exact
        # for a shape function times a constant, so constants project exactly.
        exact = skfem.Basis(space.fem_mesh, basis.elem, intorder=2 * space.degree)
        mass = skfem.BilinearForm(lambda u, v, w: u * v).assemble(exact)
        self._lu = spla.splu(mass.tocsc())

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """Nodal values (n_nodes, ...) of quadrature values (n_qp, ...)."""
        flat = values.reshape(values.shape[0], -1)
        return self._lu.solve(np.asarray(self.q @ flat)).reshape(-1, *values.shape[1:])


def dataset_fields(
    space: DisplacementSpace,
    result: QuasiStaticResult,
    projection: NodalProjection | None = None,
) -> dict[str, np.ndarray]:
    """The fields of :func:`field_specs` from a solve, shapes ``(n_times, n_entities[, k])``.

    ``projection`` (built once per space) may be passed to save its factorization.
    """
    dim = space.dim
    n_t = len(result.times)
    sigma_qp = voigt_stress(result.stress, dim)  # (n_t, n_qp, k)
    project = projection or NodalProjection(space)
    k = sigma_qp.shape[-1]
    stacked = np.concatenate([sigma_qp, result.p[..., None]], axis=-1)  # (n_t, n_qp, k + 1)
    nodal = project(stacked.transpose(1, 0, 2)).transpose(1, 0, 2)  # (n_t, n_nodes, k + 1)
    sigma = nodal[..., :k]
    full = np.zeros((*sigma.shape[:-1], 6))
    full[..., list(_STRESS_COMPONENTS[dim])] = sigma
    full[..., 3:] *= np.sqrt(2.0)  # back to Mandel shear components for the invariant
    return {
        "u": result.u.reshape(n_t, space.n_nodes, dim),
        "sigma": sigma,
        "von_mises": von_mises(full),
        "p": nodal[..., k],
        "sigma_qp": sigma_qp,
        "p_qp": result.p,
    }
