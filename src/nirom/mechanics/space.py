"""The displacement space: Lagrange P1 / P2 on triangles (plane strain) or tetrahedra (3D).

A :class:`DisplacementSpace` wraps a scikit-fem mesh (``MeshTri1``/``MeshTri2``,
``MeshTet1``/``MeshTet2``; the ``*2`` meshes carry curved, isoparametric P2
geometry) and fixes the numbering every other mechanics module uses:

- **nodes** are the scalar Lagrange degrees of freedom (the vertices for P1, the
  vertices then the edge nodes for P2), in scikit-fem's order; :attr:`mesh` is the
  nirom :class:`~nirom.mesh.Mesh` on those nodes ("triangle", "triangle6",
  "tetra" or "tetra10" cells in meshio's node order), so a displacement is a point
  field;
- **dofs** are node-major: dof ``dim * node + component``, so ``u.reshape(-1, dim)``
  is the nodal displacement;
- **quadrature points** are cell-major: point ``q`` of cell ``c`` is entry
  ``c * n_q + q`` of every quadrature-point array, with the rule
  :attr:`quadrature` (reference points and weights, recorded in datasets).

The rule is the lowest that integrates the stiffness exactly on affine cells:
one point for P1 (constant strain), three (triangles) or four (tetrahedra) for
P2, the usual choice of elastoplastic codes (e.g. 6-node triangles with three
points). Lengths are in the mesh's unit (mm in the built-in cases).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import skfem

from nirom.dataset.quadrature import QuadratureRule
from nirom.errors import MeshError, ParameterError
from nirom.mesh import Mesh

# Reference rules (scikit-fem's reference simplices): points (dim, n_q), weights (n_q,).
_RULES: dict[tuple[str, int], tuple[list[list[float]], list[float]]] = {
    ("tri", 1): ([[1 / 3], [1 / 3]], [0.5]),
    ("tri", 2): ([[1 / 6, 2 / 3, 1 / 6], [1 / 6, 1 / 6, 2 / 3]], [1 / 6, 1 / 6, 1 / 6]),
    ("tet", 1): ([[0.25], [0.25], [0.25]], [1 / 6]),
}
_CELL_TYPES = {
    ("tri", 1): "triangle",
    ("tri", 2): "triangle6",
    ("tet", 1): "tetra",
    ("tet", 2): "tetra10",
}


def _rule(shape: str, degree: int) -> tuple[np.ndarray, np.ndarray]:
    if (shape, degree) in _RULES:
        points, weights = _RULES[(shape, degree)]
        return np.array(points), np.array(weights)
    # Four-point, degree-2 rule on the tetrahedron.
    a, b = (5 + 3 * np.sqrt(5)) / 20, (5 - np.sqrt(5)) / 20
    points = np.full((3, 4), b)
    for q in range(3):
        points[q, q + 1] = a
    return points, np.full(4, 1 / 24)


class DisplacementSpace:
    """Vector Lagrange space of degree 1 or 2 on a triangle or tetrahedron mesh.

    Parameters
    ----------
    fem_mesh : skfem.Mesh
        ``MeshTri1``, ``MeshTri2``, ``MeshTet1`` or ``MeshTet2`` (a ``*1`` mesh with
        ``degree=2`` gets straight-sided P2 geometry), optionally with named
        boundaries (``fem_mesh.boundaries``: name -> facet indices), which loads
        and Dirichlet conditions refer to.
    degree : {1, 2}
        Polynomial degree of the displacement.

    Attributes
    ----------
    dim : int
        2 (plane strain) or 3.
    basis, scalar_basis : skfem.CellBasis
        Vector and scalar bases with the quadrature rule below.
    quadrature : QuadratureRule
        Reference points and weights (what datasets record).
    mesh : Mesh
        The nodes and cells as a nirom mesh (P2 nodes included).
    """

    def __init__(self, fem_mesh: Any, degree: int = 1) -> None:
        if degree not in (1, 2):
            raise ParameterError(f"element degree must be 1 or 2, got {degree!r}")
        self.degree = int(degree)
        m = fem_mesh
        if isinstance(m, skfem.MeshTri1):
            shape, scalar = "tri", {1: skfem.ElementTriP1, 2: skfem.ElementTriP2}[self.degree]
        elif isinstance(m, skfem.MeshTet1):
            shape, scalar = "tet", {1: skfem.ElementTetP1, 2: skfem.ElementTetP2}[self.degree]
        else:
            raise MeshError(
                f"mechanics needs a triangle or tetrahedron mesh, got {type(m).__name__}"
            )
        curved = type(m) in (skfem.MeshTri2, skfem.MeshTet2)
        if curved and self.degree == 1:
            raise MeshError("a curved (quadratic) mesh needs degree=2 elements")
        if self.degree == 2 and not curved:
            m = (skfem.MeshTri2 if shape == "tri" else skfem.MeshTet2).from_mesh(fem_mesh)
            m = m.with_boundaries(dict(fem_mesh.boundaries or {}))
        self.fem_mesh = m
        self.shape = shape
        points, weights = _rule(shape, self.degree)
        self.scalar_basis = skfem.Basis(m, scalar(), quadrature=(points, weights))
        self.basis = skfem.Basis(m, skfem.ElementVector(scalar()), quadrature=(points, weights))
        cell_type = _CELL_TYPES[(shape, self.degree)]
        self.quadrature = QuadratureRule(cell_type, f"P{self.degree}", points.T, weights)
        conn = np.ascontiguousarray(self.scalar_basis.element_dofs.T)
        self.mesh = Mesh(self.scalar_basis.doflocs.T, [(cell_type, conn)])

    # -- sizes ---------------------------------------------------------------
    @property
    def dim(self) -> int:
        return int(self.fem_mesh.dim())

    @property
    def n_nodes(self) -> int:
        return int(self.scalar_basis.N)

    @property
    def n_dofs(self) -> int:
        return int(self.basis.N)

    @property
    def n_cells(self) -> int:
        return int(self.fem_mesh.t.shape[1])

    @property
    def n_q(self) -> int:
        """Quadrature points per cell."""
        return int(self.quadrature.weights.size)

    @property
    def n_qp(self) -> int:
        """Quadrature points in all, ``n_cells * n_q``."""
        return self.n_cells * self.n_q

    @property
    def boundaries(self) -> Mapping[str, np.ndarray]:
        """Named boundaries: name -> facet indices."""
        return dict(self.fem_mesh.boundaries or {})

    # -- quadrature ------------------------------------------------------------
    def quadrature_weights(self) -> np.ndarray:
        """Weights times Jacobians, shape (n_qp,), cell-major: ``sum(w * f(x_q))`` is the
        integral of ``f`` (area in length**2 per unit thickness in plane strain, volume in 3D)."""
        return np.ascontiguousarray(self.basis.dx).ravel()

    def quadrature_points(self) -> np.ndarray:
        """Physical coordinates of the quadrature points, shape (n_qp, dim), cell-major."""
        x = np.asarray(self.basis.global_coordinates())  # (dim, n_cells, n_q)
        return np.ascontiguousarray(x.reshape(self.dim, -1).T)

    def element_dofs(self) -> np.ndarray:
        """Global dofs of each cell, shape (n_cells, dofs per cell), in the basis' local order."""
        return np.ascontiguousarray(self.basis.element_dofs.T)

    def boundary_nodes(self, name: str) -> np.ndarray:
        """Nodes (scalar dofs) on the named boundary, sorted."""
        facets = self.facets(name)
        return np.unique(self.scalar_basis.get_dofs(facets).all())

    def facets(self, name: str) -> np.ndarray:
        """Facet indices of the named boundary; ParameterError listing the names if unknown."""
        found = self.boundaries
        if name not in found:
            raise ParameterError(
                f"no boundary {name!r}; the mesh has {', '.join(sorted(found)) or 'none'}"
            )
        return np.asarray(found[name])

    def describe(self) -> dict[str, Any]:
        """JSON summary: cell type, degree, nodes, dofs, cells, quadrature points."""
        return {
            "cell_type": self.quadrature.cell_type,
            "degree": self.degree,
            "dim": self.dim,
            "nodes": self.n_nodes,
            "dofs": self.n_dofs,
            "cells": self.n_cells,
            "quadrature_points": self.n_qp,
        }
