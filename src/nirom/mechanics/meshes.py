"""Meshes of the built-in mechanics cases, with named boundaries and curved P2 edges.

Mapped (structured) triangulations, so no mesh generator is needed and a
resolution integer sets the size: the quarter of a plate with a central hole
(graded towards the hole), the quarter of a thick cylinder's cross-section,
and a box of tetrahedra. For degree-2 elements, :func:`quadratic` moves the
edge nodes of the circular boundaries onto the circles (isoparametric P2), so
the geometry error does not spoil the P2 convergence order. Lengths in mm.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import numpy as np
import skfem

from nirom.checks import check_integer, check_number
from nirom.errors import ParameterError

Mapping2D = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _patch(mapping: Mapping2D, nx: int, ny: int) -> tuple[np.ndarray, np.ndarray]:
    """Points (2, n) of a mapped (nx x ny)-quad patch and its triangles (3, 2 nx ny)."""
    xi, eta = np.meshgrid(np.linspace(0, 1, nx + 1), np.linspace(0, 1, ny + 1), indexing="ij")
    x, y = mapping(xi.ravel(), eta.ravel())
    idx = np.arange((nx + 1) * (ny + 1)).reshape(nx + 1, ny + 1)
    a, b = idx[:-1, :-1].ravel(), idx[1:, :-1].ravel()
    c, d = idx[1:, 1:].ravel(), idx[:-1, 1:].ravel()
    return np.vstack([x, y]), np.hstack([np.vstack([a, b, c]), np.vstack([a, c, d])])


def _merge(patches: list[tuple[np.ndarray, np.ndarray]], scale: float) -> skfem.MeshTri1:
    """One triangle mesh from patches, identifying points that coincide (shared edges)."""
    points = np.hstack([p for p, _ in patches])
    offsets = np.cumsum([0] + [p.shape[1] for p, _ in patches])
    tris = np.hstack([t + off for (_, t), off in zip(patches, offsets, strict=False)])
    keys = np.round(points / (scale * 1e-9)).astype(np.int64)
    _, first, inverse = np.unique(keys, axis=1, return_index=True, return_inverse=True)
    mesh = skfem.MeshTri1(np.ascontiguousarray(points[:, first]), inverse.ravel()[tris])
    return mesh


def _tag(mesh: skfem.Mesh, tests: Mapping[str, Callable[[np.ndarray], np.ndarray]]) -> skfem.Mesh:
    boundaries = {
        name: mesh.facets_satisfying(test, boundaries_only=True) for name, test in tests.items()
    }
    return mesh.with_boundaries(boundaries)


def _geometric(n: int, first: float, length: float) -> np.ndarray:
    """Fractions 0..1 of ``n`` intervals growing geometrically from ``first`` (of ``length``)."""
    if first * n >= length:
        return np.linspace(0.0, 1.0, n + 1)
    lo, hi = 1.0, 2.0
    while first * (hi**n - 1) / (hi - 1) < length:
        hi *= 2
    for _ in range(200):  # bisection on the ratio
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if first * (mid**n - 1) / (mid - 1) < length else (lo, mid)
    ratio = 0.5 * (lo + hi)
    sizes = first * ratio ** np.arange(n)
    return np.concatenate([[0.0], np.cumsum(sizes) / sizes.sum()])


def plate_with_hole(radius: float, width: float, height: float, n: int) -> skfem.MeshTri1:
    """Quarter plate ``[0, width] x [0, height]`` minus the disk of ``radius`` at the origin.

    ``n`` cells along each half of the quarter hole and radially (graded so cells at
    the hole are about as long as wide), square cells of side ``width / n`` above
    ``y = width``. Boundaries: "hole", "left" (x = 0), "bottom" (y = 0),
    "right" (x = width), "top" (y = height).
    """
    n = check_integer("resolution", n, 1)
    radius = check_number("radius", radius, "positive")
    width = check_number("width", width, "positive")
    height = check_number("height", height, "positive")
    if not radius < 0.8 * width or height < width:
        raise ParameterError(
            f"plate with hole needs radius < 0.8 width <= 0.8 height, got radius {radius:g}, "
            f"width {width:g}, height {height:g}"
        )
    fractions = _geometric(n, np.pi * radius / (4 * n), width - radius)

    def grade(s: np.ndarray) -> np.ndarray:
        return np.interp(s, np.linspace(0, 1, n + 1), fractions)

    def lower(xi: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        theta = xi * np.pi / 4
        ax, ay = radius * np.cos(theta), radius * np.sin(theta)
        g = grade(s)
        return ax + g * (width - ax), ay + g * (xi * width - ay)

    def upper(xi: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        theta = np.pi / 4 + xi * np.pi / 4
        ax, ay = radius * np.cos(theta), radius * np.sin(theta)
        g = grade(s)
        return ax + g * ((1 - xi) * width - ax), ay + g * (width - ay)

    patches = [_patch(lower, n, n), _patch(upper, n, n)]
    rows = int(np.ceil((height - width) / (width / n) - 1e-9))
    if rows > 0:
        patches.append(
            _patch(lambda xi, eta: (xi * width, width + eta * (height - width)), n, rows)
        )
    mesh = _merge(patches, width)
    tol = 1e-9 * width
    return _tag(
        mesh,
        {
            # Chord midpoints lie inside the circle; no other boundary comes near it.
            "hole": lambda x: np.hypot(x[0], x[1]) < radius * (1 + 1e-9),
            "left": lambda x: np.abs(x[0]) < tol,
            "bottom": lambda x: np.abs(x[1]) < tol,
            "right": lambda x: np.abs(x[0] - width) < tol,
            "top": lambda x: np.abs(x[1] - height) < tol,
        },
    )


def quarter_annulus(inner: float, outer: float, n: int) -> skfem.MeshTri1:
    """Quarter of the ring ``inner <= r <= outer``, ``x, y >= 0``: ``n`` cells through the
    wall, ``2 n`` around. Boundaries: "inner", "outer", "left" (x = 0), "bottom" (y = 0)."""
    n = check_integer("resolution", n, 1)
    if not 0 < inner < outer:
        raise ParameterError(f"annulus needs 0 < inner < outer, got {inner:g}, {outer:g}")

    def ring(xi: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r, theta = inner + s * (outer - inner), xi * np.pi / 2
        return r * np.cos(theta), r * np.sin(theta)

    mesh = _merge([_patch(ring, 2 * n, n)], outer)
    tol = 1e-9 * outer
    return _tag(
        mesh,
        {
            "inner": lambda x: np.hypot(x[0], x[1]) < inner * (1 + 1e-9),
            "outer": lambda x: (
                (np.hypot(x[0], x[1]) > 0.5 * (inner + outer)) & (np.minimum(x[0], x[1]) > tol)
            ),
            "left": lambda x: np.abs(x[0]) < tol,
            "bottom": lambda x: np.abs(x[1]) < tol,
        },
    )


def box(lengths: tuple[float, float, float], n: int) -> skfem.MeshTet1:
    """Box ``[0, lx] x [0, ly] x [0, lz]`` of tetrahedra, ``n`` cells per side. Boundaries:
    "x0", "x1", "y0", "y1", "z0", "z1" (the faces at the low and high coordinates)."""
    n = check_integer("resolution", n, 1)
    mesh = skfem.MeshTet.init_tensor(*(np.linspace(0.0, length, n + 1) for length in lengths))
    tests = {}
    for axis, name in enumerate("xyz"):
        for end, value in (("0", 0.0), ("1", lengths[axis])):
            tests[name + end] = lambda x, a=axis, v=value: np.isclose(x[a], v)
    return _tag(mesh, tests)


def extrude(mesh: skfem.MeshTri1, thickness: float, layers: int) -> skfem.MeshTet1:
    """The triangle mesh extruded to ``0 <= z <= thickness`` in ``layers`` layers of prisms,
    each cut into three tetrahedra (the diagonals of the side faces follow the global vertex
    numbers, so neighbouring prisms conform). Boundaries: the triangle mesh's named ones,
    extruded, plus "back" (z = 0) and "front" (z = thickness)."""
    layers = check_integer("layers", layers, 1)
    thickness = check_number("thickness", thickness, "positive")
    n = mesh.p.shape[1]
    z = np.linspace(0.0, thickness, layers + 1)
    points = np.vstack(
        [np.tile(mesh.p, layers + 1), np.repeat(z, n)[None, :]]
    )  # node i of layer j is j n + i
    tri = np.sort(mesh.t, axis=0)  # a < b < c: the cut of each side face is then shared
    a, b, c = tri
    tets = []
    for j in range(layers):
        lo, hi = j * n, (j + 1) * n
        tets += [
            [a + lo, b + lo, c + lo, c + hi],
            [a + lo, b + lo, b + hi, c + hi],
            [a + lo, a + hi, b + hi, c + hi],
        ]
    t = np.hstack([np.array(tet) for tet in tets])
    solid = skfem.MeshTet1(points, t)
    # A facet lies on an extruded named boundary when its vertices' (x, y) lie on that
    # boundary's edges: test by the facet midpoint's distance to the boundary's edge midpoints.
    tests: dict[str, Callable[[np.ndarray], np.ndarray]] = {}
    for name, facets in (mesh.boundaries or {}).items():
        edges = mesh.facets[:, np.asarray(facets)]
        p0, p1 = mesh.p[:, edges[0]], mesh.p[:, edges[1]]
        tests[name] = _near_segments(p0, p1, 1e-9 * float(np.ptp(mesh.p)))
    tol = 1e-9 * thickness
    tests["back"] = lambda x: np.abs(x[2]) < tol
    tests["front"] = lambda x: np.abs(x[2] - thickness) < tol
    return _tag(solid, tests)


def _near_segments(
    p0: np.ndarray, p1: np.ndarray, tol: float
) -> Callable[[np.ndarray], np.ndarray]:
    """Test of points (3, m) whose (x, y) lie on one of the segments p0 -> p1 (2, s)."""
    from scipy.spatial import cKDTree

    d = p1 - p0
    length2 = np.maximum((d**2).sum(axis=0), 1e-300)
    tree = cKDTree(0.5 * (p0 + p1).T)
    reach = 0.5 * float(np.sqrt(length2.max())) + tol

    def test(x: np.ndarray) -> np.ndarray:
        xy = x[:2].T
        out = np.zeros(xy.shape[0], dtype=bool)
        for i, near in enumerate(tree.query_ball_point(xy, reach)):
            if near:
                near = np.asarray(near)
                s = np.clip(
                    ((xy[i][:, None] - p0[:, near]) * d[:, near]).sum(0) / length2[near], 0, 1
                )
                gap = xy[i][:, None] - (p0[:, near] + s * d[:, near])
                out[i] = bool(np.any((gap**2).sum(axis=0) <= tol**2))
        return out

    return test


def quadratic(
    mesh: skfem.MeshTri1 | skfem.MeshTet1, circles: Mapping[str, tuple[float, float, float]]
) -> skfem.Mesh:
    """The P2 (``MeshTri2``/``MeshTet2``) version of ``mesh`` with the edge nodes of the
    named boundaries moved onto circles ``(centre x, centre y, radius)`` (isoparametric; in
    3D, onto the cylinders of those circles along z)."""
    quad = (skfem.MeshTri2 if isinstance(mesh, skfem.MeshTri1) else skfem.MeshTet2).from_mesh(mesh)
    doflocs = np.array(quad.doflocs, copy=True)
    n_vertices = mesh.p.shape[1]
    for name, (cx, cy, r) in circles.items():
        facets = np.asarray(mesh.boundaries[name])
        if mesh.dim() == 2:
            node = n_vertices + facets  # the edge node of facet f (2-D: facets are edges)
        else:  # the edges of the boundary's triangles: skfem numbers edge nodes after vertices
            node = n_vertices + np.unique(mesh.f2e[:, facets])
        dx, dy = doflocs[0, node] - cx, doflocs[1, node] - cy
        scale = r / np.hypot(dx, dy)
        doflocs[0, node], doflocs[1, node] = cx + scale * dx, cy + scale * dy
    curved = dataclasses.replace(quad, doflocs=doflocs)
    return curved.with_boundaries(dict(mesh.boundaries))
