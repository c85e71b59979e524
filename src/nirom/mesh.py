"""Mesh: points and cells in meshio's vocabulary, and the bridge to meshio's formats.

Coordinates are in the solver's length unit; nirom does not rescale them.
Cell blocks are ``(cell_type, connectivity)`` pairs with meshio's type names
("triangle", "quad", "tetra", ...), so any format meshio reads (VTU/VTK, XDMF,
Gmsh, Abaqus, Exodus, MED, ...) can come in and go out.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import meshio
import numpy as np

from nirom.errors import MeshError

CellBlock = tuple[str, np.ndarray]


@dataclass(frozen=True, eq=False)
class Mesh:
    """An unstructured mesh.

    Parameters
    ----------
    points : ndarray of shape (n_points, dim)
        Node coordinates, ``dim`` in 1..3.
    cells : sequence of (cell_type, ndarray of shape (n_cells, nodes_per_cell))
        Connectivity blocks indexing ``points``, meshio type names.
    """

    points: np.ndarray
    cells: tuple[CellBlock, ...]

    def __init__(self, points: np.ndarray, cells: Sequence[CellBlock]) -> None:
        pts = np.ascontiguousarray(points, dtype=float)
        if pts.ndim == 1:
            pts = pts[:, None]
        if pts.ndim != 2 or not 1 <= pts.shape[1] <= 3 or pts.shape[0] == 0:
            raise MeshError(f"mesh points must have shape (n_points, 1..3), got {pts.shape}")
        if not np.all(np.isfinite(pts)):
            raise MeshError("mesh points contain NaN or infinite coordinates")
        blocks = []
        for cell_type, conn in cells:
            conn = np.ascontiguousarray(conn, dtype=np.int64)
            if conn.ndim != 2 or conn.shape[0] == 0:
                raise MeshError(
                    f"cell block {cell_type!r}: connectivity must be 2-D, got {conn.shape}"
                )
            if conn.min() < 0 or conn.max() >= pts.shape[0]:
                raise MeshError(
                    f"cell block {cell_type!r}: node index out of range [0, {pts.shape[0] - 1}]"
                )
            blocks.append((str(cell_type), conn))
        object.__setattr__(self, "points", pts)
        object.__setattr__(self, "cells", tuple(blocks))

    @property
    def n_points(self) -> int:
        return int(self.points.shape[0])

    @property
    def n_cells(self) -> int:
        return sum(int(c.shape[0]) for _, c in self.cells)

    @property
    def dim(self) -> int:
        return int(self.points.shape[1])

    def cell_counts(self) -> dict[str, int]:
        """Number of cells of each type."""
        counts: dict[str, int] = {}
        for cell_type, conn in self.cells:
            counts[cell_type] = counts.get(cell_type, 0) + int(conn.shape[0])
        return counts

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mesh) or self.points.shape != other.points.shape:
            return False
        if len(self.cells) != len(other.cells):
            return False
        same_cells = all(
            a[0] == b[0] and np.array_equal(a[1], b[1])
            for a, b in zip(self.cells, other.cells, strict=True)
        )
        return same_cells and np.array_equal(self.points, other.points)

    __hash__ = None  # type: ignore[assignment]

    def check_matches(self, other: Mesh, what: str, rtol: float = 1e-9) -> None:
        """Raise :class:`MeshError` naming ``what`` unless ``other`` is this mesh.

        Coordinates may differ by ``rtol`` times the mesh's bounding-box size
        (text formats round them); connectivity must be identical.
        """
        if other.n_points != self.n_points:
            raise MeshError(
                f"{what}: mesh has {other.n_points} points, the reference mesh has {self.n_points}"
            )
        if other.dim != self.dim:
            # Some formats always store 3 coordinates; compare the common ones if the rest are 0.
            a, b = (self, other) if self.dim < other.dim else (other, self)
            if np.any(b.points[:, a.dim :] != 0):
                raise MeshError(
                    f"{what}: mesh is {other.dim}-D, the reference mesh is {self.dim}-D"
                )
        d = min(self.dim, other.dim)
        scale = max(float(np.ptp(self.points[:, :d], axis=0).max()), 1e-300)
        gap = float(np.abs(other.points[:, :d] - self.points[:, :d]).max())
        if gap > rtol * scale:
            raise MeshError(
                f"{what}: point coordinates differ from the reference mesh by up to {gap:.3g}"
            )
        if other.cell_counts() != self.cell_counts():
            raise MeshError(
                f"{what}: cells {other.cell_counts()} differ from the reference mesh's "
                f"{self.cell_counts()}"
            )
        for (t, a), (_, b) in zip(self.cells, other.cells, strict=True):
            if not np.array_equal(a, b):
                raise MeshError(f"{what}: {t} connectivity differs from the reference mesh")

    def mass_matrix(self) -> Any:
        """Consistent mass matrix M (sparse, n_points x n_points) of the nodal interpolant.

        ``u^T M u`` is the squared L2 norm of the piecewise-linear (or bilinear,
        or for "triangle6"/"tetra10" cells piecewise-quadratic, isoparametric)
        interpolant of nodal values ``u``, in length units**dim. Needs a single
        block of lines, triangles, quads, tetrahedra, hexahedra, 6-node triangles
        or 10-node tetrahedra; raises :class:`MeshError` otherwise.
        """
        import skfem  # scikit-fem is imported only when a norm is needed

        kinds = {
            "line": (skfem.MeshLine1, skfem.ElementLineP1),
            "triangle": (skfem.MeshTri1, skfem.ElementTriP1),
            "quad": (skfem.MeshQuad1, skfem.ElementQuad1),
            "tetra": (skfem.MeshTet1, skfem.ElementTetP1),
            "hexahedron": (skfem.MeshHex1, skfem.ElementHex1),
            "triangle6": (skfem.MeshTri2, skfem.ElementTriP2),
            "tetra10": (skfem.MeshTet2, skfem.ElementTetP2),
        }
        if len(self.cells) != 1 or self.cells[0][0] not in kinds:
            raise MeshError(
                f"a mass matrix needs one block of {', '.join(kinds)} cells, "
                f"got {self.cell_counts()}"
            )
        cell_type, conn = self.cells[0]
        if cell_type in ("triangle6", "tetra10"):
            return self._quadratic_mass_matrix(*kinds[cell_type])
        mesh_cls, element = kinds[cell_type]
        dim = {"line": 1, "triangle": 2, "quad": 2, "tetra": 3, "hexahedron": 3}[cell_type]
        points = self.points[:, :dim]
        if cell_type == "hexahedron":  # meshio's VTK node order -> scikit-fem's
            from skfem.io.meshio import INV_HEX_MAPPING

            conn = conn[:, INV_HEX_MAPPING[:8]]
        fem = mesh_cls(np.ascontiguousarray(points.T), np.ascontiguousarray(conn.T))
        basis = skfem.Basis(fem, element())
        return skfem.BilinearForm(lambda u, v, w: u * v).assemble(basis).tocsr()

    def _quadratic_mass_matrix(self, mesh_cls: Any, element: Any) -> Any:
        """P2 mass matrix on 6-node triangles / 10-node tetrahedra (meshio node order,
        which is scikit-fem's P2 order: vertices, then edges in the same order)."""
        import dataclasses

        import scipy.sparse as sp
        import skfem

        conn = self.cells[0][1]
        n_vertices = 3 if conn.shape[1] == 6 else 4
        dim = n_vertices - 1
        vertices, local = np.unique(conn[:, :n_vertices], return_inverse=True)
        linear_cls = skfem.MeshTri1 if n_vertices == 3 else skfem.MeshTet1
        linear = linear_cls(
            np.ascontiguousarray(self.points[vertices, :dim].T),
            np.ascontiguousarray(local.reshape(-1, n_vertices).T),
        )
        quad = mesh_cls.from_mesh(linear)
        basis = skfem.Basis(quad, element())
        point_of_dof = np.empty(basis.N, dtype=np.int64)
        point_of_dof[basis.element_dofs.T.ravel()] = conn.ravel()
        if np.unique(point_of_dof).size != self.n_points:
            raise MeshError("a P2 mass matrix needs every point to be a node of a cell")
        doflocs = np.ascontiguousarray(self.points[point_of_dof, :dim].T)
        quad = dataclasses.replace(quad, doflocs=doflocs)
        basis = skfem.Basis(quad, element())
        mass = skfem.BilinearForm(lambda u, v, w: u * v).assemble(basis).tocoo()
        return sp.csr_matrix(
            (mass.data, (point_of_dof[mass.row], point_of_dof[mass.col])),
            shape=(self.n_points, self.n_points),
        )

    # -- meshio bridge ------------------------------------------------------
    @classmethod
    def from_meshio(cls, m: meshio.Mesh) -> Mesh:
        return cls(m.points, [(block.type, block.data) for block in m.cells])

    def to_meshio(
        self,
        point_data: Mapping[str, np.ndarray] | None = None,
        cell_data: Mapping[str, np.ndarray] | None = None,
    ) -> meshio.Mesh:
        """meshio mesh with optional point data and cell data.

        ``cell_data`` values are flat arrays over all cells (in block order);
        they are split per block as meshio expects.
        """
        split = {}
        if cell_data:
            offsets = np.cumsum([0] + [c.shape[0] for _, c in self.cells])
            split = {
                name: [np.asarray(v)[offsets[i] : offsets[i + 1]] for i in range(len(self.cells))]
                for name, v in cell_data.items()
            }
        return meshio.Mesh(
            self.points,
            [(t, c) for t, c in self.cells],
            point_data=dict(point_data or {}),
            cell_data=split,
        )

    @classmethod
    def from_skfem(cls, m: Any) -> Mesh:
        """Mesh from a scikit-fem mesh (its ``p`` and ``t`` arrays)."""
        import skfem

        types = {
            skfem.MeshTri1: "triangle",
            skfem.MeshQuad1: "quad",
            skfem.MeshTet1: "tetra",
            skfem.MeshHex1: "hexahedron",
            skfem.MeshLine1: "line",
        }
        cell_type = next((name for kls, name in types.items() if isinstance(m, kls)), None)
        if cell_type is None:
            raise MeshError(f"unsupported scikit-fem mesh type {type(m).__name__}")
        conn = m.t.T
        if cell_type == "hexahedron":  # scikit-fem's node order -> meshio's (VTK)
            from skfem.io.meshio import HEX_MAPPING

            conn = conn[:, HEX_MAPPING[:8]]
        return cls(m.p.T, [(cell_type, conn)])


def read(path: str | os.PathLike[str]) -> tuple[Mesh, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Read a mesh file in any meshio format.

    Returns
    -------
    mesh : Mesh
    point_data : dict name -> ndarray of shape (n_points, ...)
    cell_data : dict name -> ndarray of shape (n_cells, ...), blocks concatenated

    Raises
    ------
    MeshError
        Naming the file, if it is missing, truncated or not a mesh meshio reads.
    """
    path = Path(path)
    if not path.is_file():
        raise MeshError(f"{path}: file not found")
    printed = io.StringIO()
    try:
        # meshio prints reader errors and calls sys.exit when no reader succeeds.
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            m = meshio.read(path)
    except (Exception, SystemExit) as exc:  # many types for foreign or truncated files
        lines = (str(exc) if not isinstance(exc, SystemExit) else printed.getvalue()).split("\n")
        reason = next((ln.strip() for ln in lines if ln.strip()), type(exc).__name__)
        raise MeshError(f"{path}: not a readable mesh file ({reason})") from None
    if m.points.shape[1] == 3 and not np.any(m.points[:, 2]) and _planar(m):
        m.points = m.points[:, :2]  # VTK formats pad planar meshes with z = 0
    try:
        mesh = Mesh.from_meshio(m)
    except MeshError as exc:
        raise MeshError(f"{path}: {exc}") from None
    cell_data = {
        name: np.concatenate([np.asarray(block) for block in blocks])
        for name, blocks in m.cell_data.items()
        if not name.startswith("gmsh:")
    }
    return mesh, {k: np.asarray(v) for k, v in m.point_data.items()}, cell_data


_PLANAR_CELLS = {"vertex", "line", "line3", "triangle", "triangle6", "quad", "quad8", "quad9"}


def _planar(m: meshio.Mesh) -> bool:
    return all(block.type in _PLANAR_CELLS for block in m.cells)
