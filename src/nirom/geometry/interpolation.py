"""P1 finite-element interpolation from a triangle mesh to any points, clamped outside.

:func:`interpolation_matrix` returns the sparse ``(n_targets, n_nodes)``
operator ``I`` with ``I @ f`` the P1 interpolant of nodal values ``f`` at the
target points: each row holds the barycentric coordinates of its point in the
triangle that contains it, so linear fields are reproduced exactly. A point
outside the mesh is *clamped*: it takes the value at the nearest point of the
mesh's boundary (a row with two entries); with ``clamp=False`` it is an error.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from nirom.errors import MeshError
from nirom.geometry.triangles import boundary_loops, planar_triangles
from nirom.mesh import Mesh

#: A point counts as inside a triangle when its barycentric coordinates are >= -TOLERANCE.
TOLERANCE = 1e-10
_CANDIDATES = 12


def interpolation_matrix(
    mesh: Mesh,
    targets: np.ndarray,
    *,
    clamp: bool = True,
    points: np.ndarray | None = None,
) -> sp.csr_matrix:
    """Sparse P1 interpolation operator (n_targets, n_nodes) of ``mesh`` at ``targets`` (k, 2).

    ``points`` (n, 2) replaces the mesh's node coordinates (a morphed copy of
    the mesh, e.g. its Floater map, with the same connectivity).
    """
    base, triangles = planar_triangles(mesh)
    coords = base if points is None else np.asarray(points, dtype=float)
    if coords.shape != base.shape:
        raise MeshError(f"points must have shape {base.shape}, got {coords.shape}")
    targets = np.asarray(targets, dtype=float)
    if targets.ndim != 2 or targets.shape[1] != 2:
        raise MeshError(f"target points must have shape (k, 2), got {targets.shape}")
    cell, lam = locate(coords, triangles, targets)
    outside = np.flatnonzero(cell < 0)
    rows = [np.repeat(np.arange(len(targets)), 3)[np.repeat(cell >= 0, 3)]]
    cols = [triangles[cell[cell >= 0]].ravel()]
    vals = [lam[cell >= 0].ravel()]
    if outside.size:
        if not clamp:
            raise MeshError(
                f"{outside.size} target point(s) lie outside the mesh, first "
                f"{targets[outside[0]].tolist()} (clamp=True takes the nearest boundary value)"
            )
        nodes, weights = _clamped(coords, triangles, targets[outside])
        rows.append(np.repeat(outside, 2))
        cols.append(nodes.ravel())
        vals.append(weights.ravel())
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(len(targets), len(coords)),
    )


def _barycentric(
    points: np.ndarray, triangles: np.ndarray, cells: np.ndarray, targets: np.ndarray
) -> np.ndarray:
    """Barycentric coordinates (..., 3) of ``targets`` (..., 2) in ``cells`` (...)."""
    a, b, c = (points[triangles[cells, k]] for k in range(3))
    e1, e2, d = b - a, c - a, targets - a
    det = e1[..., 0] * e2[..., 1] - e1[..., 1] * e2[..., 0]
    l1 = (d[..., 0] * e2[..., 1] - d[..., 1] * e2[..., 0]) / det
    l2 = (e1[..., 0] * d[..., 1] - e1[..., 1] * d[..., 0]) / det
    return np.stack([1 - l1 - l2, l1, l2], axis=-1)


def locate(
    points: np.ndarray, triangles: np.ndarray, targets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Containing cell (k,) (-1 outside) and barycentric coordinates (k, 3) of each target.

    The cells with the nearest centroids are tried first; a target none of
    them holds is checked against every cell (in blocks).
    """
    k = len(targets)
    cell = np.full(k, -1, dtype=np.int64)
    lam = np.zeros((k, 3))
    centroids = points[triangles].mean(axis=1)
    n_try = min(_CANDIDATES, len(triangles))
    _, near = cKDTree(centroids).query(targets, k=n_try)
    near = near.reshape(k, n_try)
    bary = _barycentric(points, triangles, near, targets[:, None, :])
    _pick(bary, near, np.arange(k), cell, lam)
    missing = np.flatnonzero(cell < 0)
    everyone = np.arange(len(triangles))
    block = max(1, 2**20 // len(triangles))
    for start in range(0, missing.size, block):
        some = missing[start : start + block]
        bary = _barycentric(points, triangles, everyone[None, :], targets[some, None, :])
        _pick(bary, np.broadcast_to(everyone, (some.size, everyone.size)), some, cell, lam)
    return cell, lam


def _pick(
    bary: np.ndarray, cells: np.ndarray, which: np.ndarray, cell: np.ndarray, lam: np.ndarray
) -> None:
    """For each row, the candidate with the largest smallest coordinate, if it holds the point."""
    worst = bary.min(axis=-1)
    best = np.argmax(worst, axis=1)
    rows = np.arange(len(which))
    inside = worst[rows, best] >= -TOLERANCE
    hit = which[inside]
    cell[hit] = cells[rows[inside], best[inside]]
    lam[hit] = np.clip(bary[rows[inside], best[inside]], 0.0, None)
    lam[hit] /= lam[hit].sum(axis=1, keepdims=True)


def _clamped(
    points: np.ndarray, triangles: np.ndarray, targets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """End nodes (k, 2) and weights (k, 2) of the nearest boundary point of each target."""
    edges = np.concatenate(
        [np.column_stack([loop, np.roll(loop, -1)]) for loop in boundary_loops(triangles)]
    )
    a, b = points[edges[:, 0]], points[edges[:, 1]]
    ab = b - a
    length2 = np.einsum("ij,ij->i", ab, ab)
    t = np.clip(np.einsum("kej,ej->ke", targets[:, None, :] - a[None], ab) / length2, 0.0, 1.0)
    nearest = a[None] + t[..., None] * ab[None]
    best = np.argmin(np.sum((nearest - targets[:, None, :]) ** 2, axis=-1), axis=1)
    s = t[np.arange(len(targets)), best]
    return edges[best], np.column_stack([1 - s, s])
