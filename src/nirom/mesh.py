"""Mesh: points and cells in meshio's vocabulary, and the bridge to meshio's formats.

Coordinates are in the solver's length unit; nirom does not rescale them.
Cell blocks are ``(cell_type, connectivity)`` pairs with meshio's type names
("triangle", "quad", "tetra", ...), so any format meshio reads (VTU/VTK, XDMF,
Gmsh, Abaqus, Exodus, MED, ...) can come in and go out; :mod:`nirom.readers`
reads what meshio does not (VTU 2.x, PVTU, XDMF time series).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import meshio
import numpy as np

from nirom.errors import MeshError

CellBlock = tuple[str, np.ndarray]


def match_points(
    reference: np.ndarray, other: np.ndarray, *, rtol: float = 1e-9, what: str = ""
) -> np.ndarray:
    """The permutation ``order`` with ``other[order]`` equal to ``reference`` point for point.

    Points match when they lie within ``rtol`` times the reference's
    bounding-box size (its largest extent) of each other; each point of
    ``other`` is matched once. A coordinate column only one side has must be
    zero (formats that always store three coordinates).

    Parameters
    ----------
    reference, other : ndarray of shape (n_points, dim)
        Node coordinates of two meshes.
    rtol : float
        Tolerance relative to the bounding-box size.
    what : str
        Names ``other`` in errors.

    Returns
    -------
    ndarray of shape (n_points,), integers

    Raises
    ------
    MeshError
        In one line naming both meshes' sizes: the point counts differ, some
        point has no partner within the tolerance (with the worst distance),
        or two points fall on one.
    """
    from scipy.spatial import cKDTree

    ref = np.asarray(reference, dtype=float)
    oth = np.asarray(other, dtype=float)
    ref, oth = (a[:, None] if a.ndim == 1 else a for a in (ref, oth))
    label = f"{what or 'mesh'}: "
    sizes = f"its {oth.shape[0]} points vs the reference's {ref.shape[0]}"
    if ref.shape[0] != oth.shape[0]:
        raise MeshError(f"{label}{sizes}: the point counts differ")
    d = min(ref.shape[1], oth.shape[1])
    for name, extra in (("reference", ref[:, d:]), ("other", oth[:, d:])):
        if np.any(extra != 0):
            raise MeshError(
                f"{label}{sizes}: the {name} points are {d + extra.shape[1]}-D, the others {d}-D"
            )
    ref, oth = ref[:, :d], oth[:, :d]
    tol = rtol * max(float(np.ptp(ref, axis=0).max()) if ref.size else 0.0, 1e-300)
    if ref.shape[0] == 0 or np.sqrt(np.sum((oth - ref) ** 2, axis=1)).max() <= tol:
        return np.arange(ref.shape[0])
    distance, order = cKDTree(oth).query(ref)
    worst = float(distance.max())
    if worst > tol:
        raise MeshError(
            f"{label}{sizes}: {int(np.count_nonzero(distance > tol))} point(s) have no partner "
            f"within {tol:.3g}, the worst at {worst:.3g}"
        )
    if np.unique(order).size != order.size:
        raise MeshError(
            f"{label}{sizes}: {order.size - np.unique(order).size} point(s) matched twice "
            f"(points closer than the tolerance {tol:.3g})"
        )
    return order.astype(np.int64)


# Edge nodes of the quadratic cells, as vertex pairs in meshio's (VTK's) order.
_P2_EDGES = {
    "triangle6": ((0, 1), (1, 2), (2, 0)),
    "tetra10": ((0, 1), (1, 2), (2, 0), (0, 3), (1, 3), (2, 3)),
}


def _check_edge_nodes(
    points: np.ndarray, conn: np.ndarray, pairs: tuple[tuple[int, int], ...], cell_type: str
) -> None:
    """MeshError unless each edge node of every cell lies nearer the middle of its own
    edge (meshio's order) than of the cell's other edges."""
    n_vertices = conn.shape[1] - len(pairs)
    middles = [0.5 * (points[conn[:, a]] + points[conn[:, b]]) for a, b in pairs]
    wrong = np.zeros(conn.shape[0], dtype=bool)
    for j in range(len(pairs)):
        node = points[conn[:, n_vertices + j]]
        own = np.sum((node - middles[j]) ** 2, axis=1)
        for k in range(len(pairs)):
            if k != j:
                wrong |= np.sum((node - middles[k]) ** 2, axis=1) < own
    if wrong.any():
        order = ", ".join(f"{a}{b}" for a, b in pairs)
        raise MeshError(
            f"{cell_type} cells: {int(wrong.sum())} of {conn.shape[0]} list their edge nodes "
            f"in another order than meshio's (edges {order}), first cell {int(np.argmax(wrong))}"
        )


def _cells_text(mesh: Mesh) -> str:
    """``"128 triangle"``, ``"10 triangle + 4 quad"``: a mesh's cells for messages."""
    return " + ".join(f"{n} {t}" for t, n in mesh.cell_counts().items()) + " cells"


def _row_keys(rows: np.ndarray) -> np.ndarray:
    """One comparable key per row of an integer array (for set operations on rows)."""
    rows = np.ascontiguousarray(rows)
    return rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()


def _cells_by_type(mesh: Mesh) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Cell type -> (flat indices of its cells over all blocks, their connectivity)."""
    offsets = np.cumsum([0] + [conn.shape[0] for _, conn in mesh.cells])
    out: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}
    for (cell_type, conn), start in zip(mesh.cells, offsets, strict=False):
        index, blocks = out.setdefault(cell_type, ([], []))
        index.append(np.arange(start, start + conn.shape[0]))
        blocks.append(conn)
    return {t: (np.concatenate(i), np.concatenate(c)) for t, (i, c) in out.items()}


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

    def node_order(self, other: Mesh, *, rtol: float = 1e-9, what: str = "") -> np.ndarray | None:
        """How ``other``'s nodes map onto this mesh's: ``order`` with
        ``other.points[order]`` equal to ``self.points``, or None when they already
        are in the same order.

        Values on ``other``'s nodes (axis of length ``n_points``) are taken to this
        mesh by indexing that axis with ``order``. Points match as
        :func:`match_points` says; the cells must be the same too (the same node
        sets, in any order, with their nodes listed in any order:
        :meth:`cell_order`). Raises a one-line :class:`MeshError` naming both
        meshes' sizes (and ``what``) otherwise.
        """
        order = match_points(self.points, other.points, rtol=rtol, what=what)
        identity = bool(np.array_equal(order, np.arange(self.n_points)))
        self.cell_order(other, None if identity else order, what=what)
        return None if identity else order

    def cell_order(
        self, other: Mesh, node_order: np.ndarray | None = None, *, what: str = ""
    ) -> np.ndarray | None:
        """How ``other``'s cells map onto this mesh's, given the node map ``node_order``
        (:meth:`node_order`; None: the same nodes).

        Returns ``order`` over all cells (blocks concatenated) with ``other``'s cell
        ``order[k]`` made of the same nodes as this mesh's cell ``k`` (of the same
        type, nodes listed in any order), or None when every cell is at its place.
        Raises a one-line :class:`MeshError` naming both meshes' sizes otherwise.
        """
        label = f"{what or 'mesh'}: "
        sizes = (
            f"its {other.n_points} points and {_cells_text(other)} vs the reference's "
            f"{self.n_points} and {_cells_text(self)}"
        )
        if other.cell_counts() != self.cell_counts():
            raise MeshError(f"{label}{sizes}: the cells differ")
        if node_order is None and len(self.cells) == len(other.cells):
            same = zip(self.cells, other.cells, strict=True)
            if all(a[0] == b[0] and np.array_equal(a[1], b[1]) for a, b in same):
                return None
        renumber = None
        if node_order is not None:  # other's node order[k] is this mesh's node k
            renumber = np.empty(self.n_points, dtype=np.int64)
            renumber[node_order] = np.arange(self.n_points)
        order = np.empty(self.n_cells, dtype=np.int64)
        ours, theirs = _cells_by_type(self), _cells_by_type(other)
        for cell_type, (index, conn) in ours.items():
            their_index, their_conn = theirs[cell_type]
            if renumber is not None:
                their_conn = renumber[their_conn]
            a, b = np.sort(conn, axis=1), np.sort(their_conn, axis=1)
            sa, sb = np.lexsort(a.T[::-1]), np.lexsort(b.T[::-1])
            if not np.array_equal(a[sa], b[sb]):
                bad = int(np.count_nonzero(~np.isin(_row_keys(a), _row_keys(b))))
                raise MeshError(f"{label}{sizes}: {bad} {cell_type} cell(s) join other nodes")
            order[index[sa]] = their_index[sb]
        return None if np.array_equal(order, np.arange(self.n_cells)) else order

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
        """P2 mass matrix on 6-node triangles / 10-node tetrahedra.

        A cell may list its vertices in any order; its edge nodes follow them in
        meshio's order (triangle6: edges 01, 12, 20; tetra10: 01, 12, 20, 03, 13,
        23). Each of scikit-fem's P2 dofs is found by what it lies on (a vertex,
        or the edge between two vertices), not by its place in a cell, so the
        order scikit-fem sorts cells into does not matter.
        """
        import dataclasses

        import scipy.sparse as sp
        import skfem

        cell_type, conn = self.cells[0]
        n_vertices = 3 if cell_type == "triangle6" else 4
        dim = n_vertices - 1
        if self.dim < dim:
            raise MeshError(f"{cell_type} cells need {dim}-D points, the mesh is {self.dim}-D")
        vertices, local = np.unique(conn[:, :n_vertices], return_inverse=True)
        local = local.reshape(-1, n_vertices)
        linear_cls = skfem.MeshTri1 if n_vertices == 3 else skfem.MeshTet1
        linear = linear_cls(
            np.ascontiguousarray(self.points[vertices, :dim].T), np.ascontiguousarray(local.T)
        )
        quad = mesh_cls.from_mesh(linear)
        basis = skfem.Basis(quad, element())
        point_of_dof = np.full(basis.N, -1, dtype=np.int64)
        point_of_dof[basis.nodal_dofs[0]] = vertices
        # The node of each edge, keyed by its two vertices (numbered as in ``linear``).
        pairs = _P2_EDGES[cell_type]
        ends = np.sort(np.concatenate([local[:, [a, b]] for a, b in pairs]), axis=1)
        mids = conn[:, n_vertices:].T.ravel()
        _check_edge_nodes(self.points[:, :dim], conn, pairs, cell_type)
        keys = ends[:, 0] * vertices.size + ends[:, 1]
        keys, first = np.unique(keys, return_index=True)
        edge_node = mids[first]
        if keys.size != np.unique(np.column_stack([ends, mids]), axis=0).shape[0]:
            raise MeshError(f"{cell_type} cells disagree on the node of an edge they share")
        edges = linear.facets if dim == 2 else linear.edges
        edge_dofs = basis.facet_dofs[0] if dim == 2 else basis.edge_dofs[0]
        lo, hi = np.sort(edges, axis=0)
        point_of_dof[edge_dofs] = edge_node[np.searchsorted(keys, lo * vertices.size + hi)]
        if np.unique(point_of_dof).size != self.n_points:
            raise MeshError(f"a P2 mass matrix needs every point to be a node of a {cell_type}")
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
    """Read a mesh file: VTU of any version, PVTU, XDMF, or any meshio format.

    Goes through :func:`nirom.readers.read_mesh` (a ``.pvd`` or XDMF time
    series must have one step: read series with
    :func:`nirom.dataset.transfer.read_series`).

    Returns
    -------
    mesh : Mesh
    point_data : dict name -> ndarray of shape (n_points, ...)
    cell_data : dict name -> ndarray of shape (n_cells, ...), blocks concatenated

    Raises
    ------
    MeshError
        One line naming the file, if it is missing, truncated or not a mesh
        nirom reads (with the format found and what to write instead).
    """
    from nirom.readers import read_mesh

    return from_meshio_data(read_mesh(path), path)


def from_meshio_data(
    m: meshio.Mesh, path: str | os.PathLike[str]
) -> tuple[Mesh, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Mesh, point data and concatenated cell data of a meshio mesh read from ``path``.

    The zero z column VTK formats add to planar meshes is dropped, and Gmsh's
    bookkeeping cell data (``gmsh:*``); errors name ``path``.
    """
    points = m.points
    if points.shape[1] == 3 and not np.any(points[:, 2]) and _planar(m):
        points = points[:, :2]  # VTK formats pad planar meshes with z = 0
    try:
        mesh = Mesh(points, [(block.type, block.data) for block in m.cells])
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
