"""Quadrature rules of datasets with quadrature-point fields, and where their points lie.

A field with location ``"quadrature"`` has one value per quadrature point of
every cell, **cell-major**: point ``q`` of cell ``c`` is entry ``c * n_q + q``.
The dataset records the rule (:class:`QuadratureRule`): the cell type, the
finite element, and the points and weights on the reference cell, so any reader
can place the points (:func:`quadrature_points`) and integrate with them
(:func:`quadrature_weights`) without nirom's solver.

Reference cells (scikit-fem's): the triangle with vertices (0, 0), (1, 0), (0, 1)
(area 1/2) and the tetrahedron with vertices (0, 0, 0), (1, 0, 0), (0, 1, 0),
(0, 0, 1) (volume 1/6); the weights sum to those measures. A cell maps from the
reference cell through its own nodes' shape functions (meshio node order): linear
for "triangle" and "tetra", quadratic for "triangle6" and "tetra10", whose edge
nodes may lie on a curved boundary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from nirom.errors import FieldError, MeshError
from nirom.mesh import Mesh

# cell type -> (reference dimension, nodes, reference measure)
_CELLS = {
    "triangle": (2, 3, 0.5),
    "triangle6": (2, 6, 0.5),
    "tetra": (3, 4, 1 / 6),
    "tetra10": (3, 10, 1 / 6),
}
# Edge nodes of the quadratic cells, as vertex pairs in meshio's order.
_EDGES = {
    "triangle6": ((0, 1), (1, 2), (2, 0)),
    "tetra10": ((0, 1), (1, 2), (2, 0), (0, 3), (1, 3), (2, 3)),
}


@dataclass(frozen=True, eq=False)
class QuadratureRule:
    """A quadrature rule on a reference cell.

    Parameters
    ----------
    cell_type : str
        meshio cell type the rule is for: "triangle", "triangle6", "tetra", "tetra10".
    element : str
        The finite element of the solution, for people (e.g. "P2").
    points : ndarray of shape (n_q, ref_dim)
        Reference coordinates of the points.
    weights : ndarray of shape (n_q,)
        Reference weights, summing to the reference cell's measure.
    """

    cell_type: str
    element: str
    points: np.ndarray
    weights: np.ndarray

    def __post_init__(self) -> None:
        if self.cell_type not in _CELLS:
            raise FieldError(
                f"quadrature rule: cell type must be one of {', '.join(_CELLS)}, "
                f"got {self.cell_type!r}"
            )
        dim, _, measure = _CELLS[self.cell_type]
        points = np.array(self.points, dtype=float, ndmin=2)
        weights = np.array(self.weights, dtype=float).ravel()
        if points.shape != (weights.size, dim) or weights.size == 0:
            raise FieldError(
                f"quadrature rule: points must have shape (n_q, {dim}) matching "
                f"{weights.size} weights, got {points.shape}"
            )
        if not np.all(np.isfinite(points)) or not np.isclose(weights.sum(), measure):
            raise FieldError(
                f"quadrature rule: weights must sum to the reference measure {measure:g}, "
                f"got {weights.sum():g}"
            )
        points.setflags(write=False)
        weights.setflags(write=False)
        object.__setattr__(self, "points", points)
        object.__setattr__(self, "weights", weights)

    @property
    def n_points(self) -> int:
        """Points per cell, ``n_q``."""
        return int(self.weights.size)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cell_type": self.cell_type,
            "element": self.element,
            "points": self.points.tolist(),
            "weights": self.weights.tolist(),
            "order": "cell-major: entry c * n_q + q is point q of cell c",
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QuadratureRule:
        return cls(data["cell_type"], data["element"], data["points"], data["weights"])


def _shape_functions(cell_type: str, xi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values (n_q, n_nodes) and reference gradients (n_q, n_nodes, ref_dim) at ``xi``."""
    n_q, dim = xi.shape
    lam = np.column_stack([1.0 - xi.sum(axis=1), xi])  # barycentric coordinates
    dlam = np.vstack([-np.ones(dim), np.eye(dim)])  # (dim + 1, dim)
    if cell_type in ("triangle", "tetra"):
        return lam, np.broadcast_to(dlam, (n_q, dim + 1, dim)).copy()
    values = [lam[:, i] * (2 * lam[:, i] - 1) for i in range(dim + 1)]
    grads = [(4 * lam[:, i] - 1)[:, None] * dlam[i] for i in range(dim + 1)]
    for a, b in _EDGES[cell_type]:
        values.append(4 * lam[:, a] * lam[:, b])
        grads.append(4 * (lam[:, b, None] * dlam[a] + lam[:, a, None] * dlam[b]))
    return np.stack(values, axis=1), np.stack(grads, axis=1)


def _cells(mesh: Mesh, rule: QuadratureRule) -> np.ndarray:
    blocks = [conn for cell_type, conn in mesh.cells if cell_type == rule.cell_type]
    if len(mesh.cells) != 1 or not blocks:
        raise MeshError(
            f"quadrature rule for {rule.cell_type} cells needs a mesh of one block of them, "
            f"got {mesh.cell_counts()}"
        )
    return blocks[0]


def quadrature_points(mesh: Mesh, rule: QuadratureRule) -> np.ndarray:
    """Physical coordinates of the quadrature points, shape (n_cells * n_q, dim), cell-major."""
    conn = _cells(mesh, rule)
    values, _ = _shape_functions(rule.cell_type, rule.points)
    x = np.einsum("qn,cnd->cqd", values, mesh.points[conn])
    return x.reshape(-1, mesh.dim)


def quadrature_weights(mesh: Mesh, rule: QuadratureRule) -> np.ndarray:
    """Physical weights ``w_q |det J_c(xi_q)|``, shape (n_cells * n_q,), cell-major.

    ``sum(weights * f(points))`` integrates ``f`` over the mesh (area for
    triangles, volume for tetrahedra).
    """
    conn = _cells(mesh, rule)
    dim = _CELLS[rule.cell_type][0]
    if mesh.dim != dim:
        raise MeshError(f"{rule.cell_type} cells need {dim}-D points, the mesh is {mesh.dim}-D")
    _, grads = _shape_functions(rule.cell_type, rule.points)
    jac = np.einsum("cnd,qne->cqde", mesh.points[conn], grads)
    return (np.abs(np.linalg.det(jac)) * rule.weights).reshape(-1)


def check_rule(mesh: Mesh, rule: QuadratureRule) -> None:
    """MeshError unless ``mesh`` has only the cells ``rule`` integrates."""
    if [t for t, _ in mesh.cells] != [rule.cell_type]:
        raise MeshError(
            f"the quadrature rule is for {rule.cell_type} cells, the mesh has {mesh.cell_counts()}"
        )
