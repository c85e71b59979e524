"""Planar triangle meshes as geometry needs them: checked arrays, orientation, boundary loops.

Every function of :mod:`nirom.geometry` takes a nirom :class:`~nirom.mesh.Mesh`
and reads it through :func:`planar_triangles`, which refuses what the
algorithms cannot take with a one-line :class:`~nirom.errors.MeshError`
naming the culprit: another dimension (a 3-D mesh; a planar mesh stored with
a zero z column is accepted), cells that are not triangles, degenerate cells,
and inverted cells (a cell folded over a neighbour: the two cells sharing an
edge lie on the same side of it). The node order of a cell carries no meaning
(scikit-fem sorts it), so every triangle is returned counterclockwise.
"""

from __future__ import annotations

import numpy as np

from nirom.errors import MeshError
from nirom.mesh import Mesh


def signed_areas(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Signed areas (m,) of triangles (m, 3) on points (n, 2); positive counterclockwise."""
    a, b, c = (points[triangles[:, k]] for k in range(3))
    cross = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    return 0.5 * cross


def planar_triangles(mesh: Mesh, what: str = "mesh") -> tuple[np.ndarray, np.ndarray]:
    """Points (n, 2) and counterclockwise triangles (m, 3) of a planar triangle mesh.

    Quadratic triangles (``triangle6``) give their three vertices. Raises
    :class:`MeshError` for another dimension, other cells, degenerate or
    inverted triangles.
    """
    points = np.asarray(mesh.points, dtype=float)
    if points.shape[1] == 3 and np.all(points[:, 2] == 0):
        points = points[:, :2]
    if points.shape[1] != 2:
        raise MeshError(f"{what}: a {points.shape[1]}-D mesh; geometry takes planar meshes")
    others = sorted({t for t, _ in mesh.cells if t not in ("triangle", "triangle6")})
    if others:
        raise MeshError(f"{what}: cells {others} are not triangles; geometry takes triangle meshes")
    triangles = np.concatenate([conn[:, :3] for _, conn in mesh.cells])
    area = signed_areas(points, triangles)
    scale = np.ptp(points, axis=0).max() ** 2
    flat = np.flatnonzero(np.abs(area) <= 1e-14 * scale)
    if flat.size:
        raise MeshError(
            f"{what}: {flat.size} degenerate triangle(s) of zero area, first cell {flat[0]}"
        )
    folds = folded_pairs(points, triangles)
    if len(folds):
        raise MeshError(
            f"{what}: {len(folds)} inverted triangle(s) folding over a neighbour, first cells "
            f"{folds[0][0]} and {folds[0][1]}"
        )
    triangles = np.where((area < 0)[:, None], triangles[:, [0, 2, 1]], triangles)
    return points, np.ascontiguousarray(triangles)


def folded_pairs(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Pairs of cells (k, 2) that share an edge and lie on the same side of it."""
    local = [(0, 1, 2), (1, 2, 0), (2, 0, 1)]
    edges = np.concatenate([np.sort(triangles[:, [a, b]], axis=1) for a, b, _ in local])
    opposite = np.concatenate([triangles[:, c] for _, _, c in local])
    cells = np.tile(np.arange(len(triangles)), 3)
    order = np.lexsort((edges[:, 1], edges[:, 0]))
    edges, opposite, cells = edges[order], opposite[order], cells[order]
    shared = np.flatnonzero(np.all(edges[1:] == edges[:-1], axis=1))
    a, b = points[edges[shared, 0]], points[edges[shared, 1]]

    def side(node: np.ndarray) -> np.ndarray:
        d, e = b - a, points[node] - a
        return d[:, 0] * e[:, 1] - d[:, 1] * e[:, 0]

    same = side(opposite[shared]) * side(opposite[shared + 1]) > 0
    return np.column_stack([cells[shared][same], cells[shared + 1][same]])


def boundary_loops(triangles: np.ndarray) -> list[np.ndarray]:
    """Closed boundary loops (node indices in order, first not repeated) of ccw triangles.

    The outer boundary runs counterclockwise (holes clockwise). A boundary
    edge is a directed edge whose reverse belongs to no triangle.
    """
    edges = np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]])
    inner = {(int(a), int(b)) for a, b in edges}
    following = {int(a): int(b) for a, b in edges if (int(b), int(a)) not in inner}
    loops = []
    while following:
        start = min(following)
        loop = [start]
        node = following.pop(start)
        while node != start:
            loop.append(node)
            if node not in following:
                raise MeshError("mesh boundary is not a set of closed loops (a non-manifold node)")
            node = following.pop(node)
        loops.append(np.array(loop, dtype=np.int64))
    return loops


def single_loop(triangles: np.ndarray, what: str = "mesh") -> np.ndarray:
    """The one boundary loop of a disk-like mesh; MeshError when there are several."""
    loops = boundary_loops(triangles)
    if len(loops) != 1:
        raise MeshError(
            f"{what}: {len(loops)} boundary loops; mapping onto a fixed shape needs one "
            "(a disk-like mesh, no holes, one piece)"
        )
    return loops[0]


def arc_length(points: np.ndarray) -> np.ndarray:
    """Cumulative length (k,) along a polyline of points (k, 2), starting at 0."""
    steps = np.hypot(*np.diff(points, axis=0).T)
    return np.concatenate([[0.0], np.cumsum(steps)])
