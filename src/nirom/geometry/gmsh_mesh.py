"""Triangle meshes of a plane outline with gmsh (its Python wheel, imported lazily).

:func:`mesh_sides` meshes the region bounded by named sides (point sequences,
counterclockwise, consecutive sides sharing corners): straight two-point sides
become gmsh lines, longer ones splines through their points. The result is a
scikit-fem ``MeshTri1`` whose ``boundaries`` name the facets of each side, so
loads and supports refer to them by name. gmsh runs single-threaded with a
fixed seed, so the same outline gives the same mesh in any process.
"""

from __future__ import annotations

import numpy as np
import skfem

from nirom.errors import MeshError


def _gmsh():
    try:
        import gmsh
    except ImportError as exc:  # pragma: no cover - gmsh is a dependency of this path
        raise MeshError("meshing an outline needs gmsh: pip install gmsh") from exc
    return gmsh


def mesh_sides(sides: dict[str, np.ndarray], size: float) -> skfem.MeshTri1:
    """A P1 triangle mesh of the region the ``sides`` bound, element size ``size`` (mesh unit).

    ``sides`` maps a name to points (k, 2); the sides follow each other
    counterclockwise and each one's last point is the next one's first.
    """
    gmsh = _gmsh()
    names = list(sides)
    gmsh.initialize(interruptible=False)
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.option.setNumber("General.NumThreads", 1)
        gmsh.option.setNumber("Mesh.RandomSeed", 1)
        gmsh.model.add("outline")
        geo = gmsh.model.geo
        first = geo.addPoint(*sides[names[0]][0], 0.0, size)
        start, curves = first, []
        for k, name in enumerate(names):
            pts = np.asarray(sides[name], dtype=float)
            tags = [start]
            for p in pts[1:-1]:
                tags.append(geo.addPoint(p[0], p[1], 0.0, size))
            end = first if k == len(names) - 1 else geo.addPoint(*pts[-1], 0.0, size)
            tags.append(end)
            curve = geo.addLine(*tags) if len(tags) == 2 else geo.addSpline(tags)
            curves.append(curve)
            start = end
        loop = geo.addCurveLoop(curves)
        geo.addPlaneSurface([loop])
        geo.synchronize()
        for name, curve in zip(names, curves, strict=True):
            gmsh.model.addPhysicalGroup(1, [curve], name=name)
        gmsh.model.addPhysicalGroup(2, [1], name="domain")
        gmsh.model.mesh.generate(2)
        node_tags, coords, _ = gmsh.model.mesh.getNodes()
        _, _, cell_nodes = gmsh.model.mesh.getElements(2, -1)
        edge_nodes = {
            name: gmsh.model.mesh.getElements(1, curve)[2][0]
            for name, curve in zip(names, curves, strict=True)
        }
    finally:
        gmsh.finalize()
    return _to_skfem(node_tags, coords, cell_nodes[0], edge_nodes)


def _to_skfem(
    node_tags: np.ndarray,
    coords: np.ndarray,
    triangles: np.ndarray,
    edges: dict[str, np.ndarray],
) -> skfem.MeshTri1:
    """scikit-fem mesh (unused gmsh nodes dropped, cells counterclockwise, named facets)."""
    index = np.full(int(node_tags.max()) + 1, -1, dtype=np.int64)
    tri = np.asarray(triangles, dtype=np.int64).reshape(-1, 3)
    used = np.unique(tri)
    index[used] = np.arange(used.size)
    lookup = {int(t): k for k, t in enumerate(node_tags)}
    points = np.asarray(coords, dtype=float).reshape(-1, 3)[[lookup[int(t)] for t in used], :2]
    t = index[tri]
    a, b, c = points[t[:, 0]], points[t[:, 1]], points[t[:, 2]]
    area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    t[area < 0] = t[area < 0][:, [0, 2, 1]]
    mesh = skfem.MeshTri1(points.T.copy(), t.T.copy())
    facet_of = {tuple(sorted(f)): k for k, f in enumerate(mesh.facets.T.tolist())}
    boundaries = {}
    for name, nodes in edges.items():
        pairs = index[np.asarray(nodes, dtype=np.int64).reshape(-1, 2)]
        boundaries[name] = np.array([facet_of[tuple(sorted(p))] for p in pairs.tolist()])
    return mesh.with_boundaries(boundaries)
