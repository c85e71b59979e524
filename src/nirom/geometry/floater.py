"""Floater's mean-value mapping of a disk-like triangle mesh onto a fixed convex shape.

The boundary loop goes onto the shape's boundary by arc length from a
consistent start, and every interior node is placed at the mean-value
(Floater, 2003) weighted average of its neighbours,

``sum_j w_ij (y_j - y_i) = 0``, ``w_ij = (tan(a_ij / 2) + tan(b_ij / 2)) / |x_j - x_i|``,

with ``a_ij``, ``b_ij`` the angles at node ``i`` of the two triangles
sharing edge ``ij``. The weights are positive, so on a convex shape the
result is a valid embedding (no triangle folds over, Tutte-Floater); the
mapping reproduces affine maps of a mesh already convex.

Shapes: ``"square"`` (the unit square ``[0, 1]^2``) and ``"disk"`` (the disk of
radius 1/2 centred at (1/2, 1/2)). On the square, the boundary is split at
four corner nodes sent to the square's corners, each side by its own arc
length: the corners are the four sharpest turns of the boundary
(``corners="auto"``) or the boundary nodes nearest four given points. The
start (the first corner, or the disk's angle 0) is the boundary node nearest
the lower-left corner of the mesh's bounding box, so meshes of one shape family
start at the same place.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from nirom.errors import MeshError, ParameterError
from nirom.geometry.triangles import arc_length, planar_triangles, single_loop
from nirom.mesh import Mesh

SHAPES = ("square", "disk")
_SQUARE = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])


def floater_map(
    mesh: Mesh,
    shape: str = "square",
    corners: str | Sequence[Sequence[float]] = "auto",
) -> np.ndarray:
    """Coordinates (n, 2) of ``mesh``'s nodes mapped onto ``shape``.

    Parameters
    ----------
    mesh : Mesh
        A planar, disk-like triangle mesh (one boundary loop).
    shape : {"square", "disk"}
    corners : "auto" or four points (x, y)
        Square only: which boundary nodes go to the corners (see the module).
    """
    if shape not in SHAPES:
        raise ParameterError(f"unknown shape {shape!r}; choose one of {', '.join(SHAPES)}")
    points, triangles = planar_triangles(mesh)
    loop = single_loop(triangles)
    loop = np.roll(loop, -_start(points, loop))
    if shape == "disk":
        s = arc_length(points[np.append(loop, loop[0])])
        angle = 2 * np.pi * s[:-1] / s[-1]
        target = 0.5 + 0.5 * np.column_stack([np.cos(angle), np.sin(angle)])
    else:
        target = _square_boundary(points, loop, corner_positions(points, loop, corners))
    return harmonic_fill(points, triangles, loop, target)


def _start(points: np.ndarray, loop: np.ndarray) -> int:
    """Position in ``loop`` of the node nearest the bounding box's lower-left corner."""
    return int(np.argmin(np.hypot(*(points[loop] - points.min(axis=0)).T)))


def corner_positions(
    points: np.ndarray, loop: np.ndarray, corners: str | Sequence[Sequence[float]]
) -> np.ndarray:
    """Four increasing positions in ``loop`` (a loop rolled to its start) of the corners."""
    ring = points[loop]
    if isinstance(corners, str):
        if corners != "auto":
            raise ParameterError(f"corners must be 'auto' or four points, got {corners!r}")
        before, after = ring - np.roll(ring, 1, axis=0), np.roll(ring, -1, axis=0) - ring
        turn = np.abs(
            np.arctan2(
                before[:, 0] * after[:, 1] - before[:, 1] * after[:, 0],
                np.einsum("ij,ij->i", before, after),
            )
        )
        found = np.sort(np.argsort(-turn, kind="stable")[:4])
    else:
        given = np.asarray(corners, dtype=float)
        if given.shape != (4, 2):
            raise ParameterError(f"corners must be four points (x, y), got shape {given.shape}")
        found = np.sort([int(np.argmin(np.hypot(*(ring - c).T))) for c in given])
    if len(set(found.tolist())) != 4:
        raise MeshError("the four corners fall on fewer than four boundary nodes")
    first = int(np.argmin([np.hypot(*(ring[k] - points.min(axis=0))) for k in found]))
    return np.roll(found, -first)


def _square_boundary(points: np.ndarray, loop: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """Boundary nodes on the unit square: each side between corners by arc length."""
    n = loop.size
    target = np.empty((n, 2))
    for side in range(4):
        a, b = corners[side], corners[(side + 1) % 4]
        idx = np.arange(a, a + ((b - a) % n) + 1) % n
        s = arc_length(points[loop[idx]])
        t = (s / s[-1])[:, None]
        target[idx] = (1 - t) * _SQUARE[side] + t * _SQUARE[(side + 1) % 4]
    return target


def mean_value_weights(points: np.ndarray, triangles: np.ndarray) -> sp.csr_matrix:
    """Floater's mean-value weights ``w_ij`` (n, n), positive on every mesh edge."""
    rows, cols, vals = [], [], []
    for k in range(3):
        i, j, m = triangles[:, k], triangles[:, (k + 1) % 3], triangles[:, (k + 2) % 3]
        e1, e2 = points[j] - points[i], points[m] - points[i]
        n1, n2 = np.hypot(*e1.T), np.hypot(*e2.T)
        cos = np.clip(np.einsum("ij,ij->i", e1, e2) / (n1 * n2), -1.0, 1.0)
        half = np.tan(0.5 * np.arccos(cos))
        rows += [i, i]
        cols += [j, m]
        vals += [half / n1, half / n2]
    n = points.shape[0]
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )


def harmonic_fill(
    points: np.ndarray, triangles: np.ndarray, boundary: np.ndarray, target: np.ndarray
) -> np.ndarray:
    """Positions (n, 2): ``boundary`` nodes at ``target``, the others by mean-value weights."""
    n = points.shape[0]
    w = mean_value_weights(points, triangles)
    laplacian = (w - sp.diags(np.asarray(w.sum(axis=1)).ravel())).tocsr()
    interior = np.setdiff1d(np.arange(n), boundary)
    out = np.empty((n, 2))
    out[boundary] = target
    if interior.size:
        a_ii = laplacian[interior][:, interior].tocsc()
        rhs = -laplacian[interior][:, boundary] @ target
        out[interior] = spla.splu(a_ii).solve(np.asarray(rhs))
    return out
