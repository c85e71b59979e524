"""The mesh of a case: a built-in mapped mesh or a file, with named boundaries, as a
scikit-fem mesh for :class:`~nirom.mechanics.space.DisplacementSpace`.

From a file (any format :func:`nirom.readers.read_mesh` reads) the volume cells
are taken (``triangle`` / ``triangle6`` in 2D, plane strain; ``tetra`` /
``tetra10`` in 3D); quadratic cells bring their edge nodes (curved
isoparametric geometry), in any vertex order, with edge nodes in meshio's
order. Boundaries are named sets of facets, found from

- the file's facet cells (lines in 2D, triangles in 3D) and their tags: Gmsh
  physical groups (``gmsh:physical`` with their names), meshio ``cell_sets``
  (Abaqus ELSET, MED groups), or an integer cell-data array of a VTU;
- the file's node sets (meshio ``point_sets``: Abaqus NSET): the facets whose
  vertices all belong to the set;
- geometric selectors of the case file (``{x = 0}``, ``{circle = [cx, cy, r]}``).

The mesh's node numbering is scikit-fem's (vertices, then edge nodes), not the
file's: datasets in the file's order are matched by coordinates
(:meth:`nirom.mesh.Mesh.node_order`).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import skfem

from nirom.errors import MeshError, ParameterError
from nirom.mechanics.meshes import box, extrude, plate_with_hole, quadratic, quarter_annulus

# meshio's (VTK's) edge order of the quadratic cells' edge nodes.
_EDGES = {
    "triangle6": ((0, 1), (1, 2), (2, 0)),
    "tetra10": ((0, 1), (1, 2), (2, 0), (0, 3), (1, 3), (2, 3)),
}
_VOLUME = {"triangle": (2, 1), "triangle6": (2, 2), "tetra": (3, 1), "tetra10": (3, 2)}
_FACETS = {2: ("line", "line3"), 3: ("triangle", "triangle6")}


def _plate(options: Mapping[str, Any]) -> tuple[skfem.Mesh, dict[str, tuple[float, ...]]]:
    radius = float(options.get("radius", 10.0))
    mesh = plate_with_hole(
        radius,
        float(options.get("width", 50.0)),
        float(options.get("height", 100.0)),
        int(options.get("resolution", 9)),
    )
    if int(options.get("layers", 0)):
        mesh = extrude(mesh, float(options.get("thickness", 10.0)), int(options["layers"]))
    return mesh, {"hole": (0.0, 0.0, radius)}


def _annulus(options: Mapping[str, Any]) -> tuple[skfem.Mesh, dict[str, tuple[float, ...]]]:
    inner, outer = float(options.get("inner", 10.0)), float(options.get("outer", 20.0))
    mesh = quarter_annulus(inner, outer, int(options.get("resolution", 8)))
    return mesh, {"inner": (0.0, 0.0, inner), "outer": (0.0, 0.0, outer)}


def _box(options: Mapping[str, Any]) -> tuple[skfem.Mesh, dict[str, tuple[float, ...]]]:
    lengths = tuple(float(v) for v in options.get("lengths", (1.0, 1.0, 1.0)))
    return box(lengths, int(options.get("resolution", 4))), {}  # type: ignore[arg-type]


#: Built-in mapped meshes: name -> (options -> (mesh, circles of curved boundaries)).
GENERATORS: dict[str, Callable[[Mapping[str, Any]], tuple[skfem.Mesh, dict]]] = {
    "plate-with-hole": _plate,
    "quarter-annulus": _annulus,
    "box": _box,
}


def case_mesh(spec: Mapping[str, Any], where: str = "case") -> skfem.Mesh:
    """The scikit-fem mesh of a case's ``[mesh]`` (checked description), with its named
    boundaries; P2 geometry (``MeshTri2`` / ``MeshTet2``) when ``degree`` is 2."""
    degree = int(spec.get("degree", 1))
    if "generator" in spec:
        mesh, circles = GENERATORS[spec["generator"]](spec.get("options", {}))
        mesh = _with_selectors(mesh, spec.get("boundaries", {}), where)
        return quadratic(mesh, circles) if degree == 2 else mesh
    path, boundaries = Path(spec["file"]), spec.get("boundaries", {})
    return _file_mesh(path, degree, boundaries, where, spec.get("sha256"))


def file_digest(path: Path) -> str:
    """SHA-256 of a mesh file (recorded with a case, so a changed file is noticed)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _file_mesh(
    path: Path, degree: int, boundaries: Mapping[str, Any], where: str, sha256: str | None
) -> skfem.Mesh:
    from nirom.readers import read_mesh

    if not path.is_file():
        raise MeshError(f"{where}: mesh file {path} not found")
    if sha256 is not None and file_digest(path) != sha256:
        raise MeshError(f"{where}: mesh file {path} changed since the case was recorded")
    m = read_mesh(path)
    solid = any(b.type in ("tetra", "tetra10") for b in m.cells)  # then triangles are facets
    kinds = [b.type for b in m.cells if b.type in _VOLUME and _VOLUME[b.type][0] == 2 + solid]
    if len(set(kinds)) != 1:
        found = sorted({b.type for b in m.cells})
        raise MeshError(
            f"{where}: {path} must hold one kind of volume cell (triangle, triangle6, tetra, "
            f"tetra10), found {found}"
        )
    kind = kinds[0]
    dim, order = _VOLUME[kind]
    if order == 2 and degree != 2:
        raise MeshError(f"{where}: {path} has quadratic {kind} cells; set mesh.degree = 2")
    cells = np.concatenate([b.data for b in m.cells if b.type == kind]).astype(np.int64)
    points = np.asarray(m.points, dtype=float)
    if dim == 2:
        if points.shape[1] == 3 and np.any(points[:, 2]):
            raise MeshError(f"{where}: {path}: triangles off the plane z = 0")
        points = points[:, :2]
    vertices, renumber = np.unique(cells[:, : dim + 1], return_inverse=True)
    t = renumber.reshape(-1, dim + 1).T
    linear = (skfem.MeshTri1 if dim == 2 else skfem.MeshTet1)(
        np.ascontiguousarray(points[vertices].T), np.ascontiguousarray(t)
    )
    node_of = np.full(points.shape[0], -1, dtype=np.int64)
    node_of[vertices] = np.arange(vertices.size)  # file node -> skfem vertex
    named = _file_sets(m, linear, node_of, dim, path, where)
    selected = _select(linear, boundaries, named, where)
    linear = linear.with_boundaries(selected)
    if order == 1:
        return linear
    return _curved(linear, points, cells, kind, where, path)


def _curved(
    linear: skfem.Mesh, points: np.ndarray, cells: np.ndarray, kind: str, where: str, path: Path
) -> skfem.Mesh:
    """The P2 mesh with the file's edge nodes (curved isoparametric geometry)."""
    quad = (skfem.MeshTri2 if kind == "triangle6" else skfem.MeshTet2).from_mesh(linear)
    doflocs = np.array(quad.doflocs, copy=True)
    n_v = linear.p.shape[1]
    # The file's edge node of each edge (its sorted skfem vertices), found by key.
    n_vertices = 3 if kind == "triangle6" else 4
    vertices = np.unique(cells[:, :n_vertices])
    index = np.full(int(cells.max()) + 1, -1, dtype=np.int64)
    index[vertices] = np.arange(vertices.size)
    pairs, nodes = [], []
    for j, (a, b) in enumerate(_EDGES[kind]):
        pairs.append(np.sort(index[cells[:, [a, b]]], axis=1))
        nodes.append(cells[:, n_vertices + j])
    pairs = np.vstack(pairs)
    nodes = np.concatenate(nodes)
    edges = np.sort(linear.edges.T if kind == "tetra10" else linear.facets.T, axis=1)
    key = pairs[:, 0] * n_v + pairs[:, 1]
    order = np.argsort(key)
    wanted = edges[:, 0] * n_v + edges[:, 1]
    found = np.minimum(np.searchsorted(key[order], wanted), key.size - 1)
    if np.any(key[order][found] != wanted):
        raise MeshError(f"{where}: {path}: an edge of the mesh has no edge node")
    edge_nodes = nodes[order][found]
    doflocs[:, n_v:] = points[edge_nodes].T
    curved = dataclasses.replace(quad, doflocs=doflocs)
    return curved.with_boundaries(dict(linear.boundaries or {}))


# -- named sets --------------------------------------------------------------------------
def _facet_index(mesh: skfem.Mesh) -> tuple[np.ndarray, np.ndarray]:
    """Sorted keys of the mesh's facets (by their sorted vertices) and the facet ids."""
    f = np.sort(mesh.facets, axis=0)
    n = mesh.p.shape[1]
    key = f[0] * n * n + f[1] * n + (f[2] if f.shape[0] == 3 else 0)
    order = np.argsort(key)
    return key[order], order


def _facets_of(mesh: skfem.Mesh, vertex_rows: np.ndarray) -> np.ndarray:
    """Facet ids of facet cells given by their (skfem) vertices (m, dim); -1 where none."""
    keys, ids = _facet_index(mesh)
    n = mesh.p.shape[1]
    v = np.sort(vertex_rows, axis=1)
    key = v[:, 0] * n * n + v[:, 1] * n + (v[:, 2] if v.shape[1] == 3 else 0)
    at = np.minimum(np.searchsorted(keys, key), keys.size - 1)
    return np.where(keys[at] == key, ids[at], -1)


def _file_sets(
    m: Any, mesh: skfem.Mesh, node_of: np.ndarray, dim: int, path: Path, where: str
) -> dict[str, np.ndarray]:
    """Named facet sets of the file: tagged facet cells and node sets."""
    sets: dict[str, list[np.ndarray]] = {}
    names = {int(tag): name for name, (tag, d) in (m.field_data or {}).items() if int(d) == dim - 1}
    for b, block in enumerate(m.cells):
        if block.type not in _FACETS[dim]:
            continue
        vertices = node_of[block.data[:, :dim]]
        if np.any(vertices < 0):
            continue  # a facet cell on nodes no volume cell uses
        facets = _facets_of(mesh, vertices)
        for data_name, blocks in (m.cell_data or {}).items():
            values = np.asarray(blocks[b])
            if data_name == "gmsh:geometrical" or values.dtype.kind not in "iu":
                continue
            for tag in np.unique(values):
                fallback = str(int(tag)) if data_name == "gmsh:physical" else f"{data_name}:{tag}"
                sets.setdefault(names.get(int(tag), fallback), []).append(facets[values == tag])
        for set_name, members in (m.cell_sets or {}).items():
            rows = np.asarray(members[b]) if b < len(members) and members[b] is not None else None
            if rows is not None and rows.size:
                sets.setdefault(set_name, []).append(facets[rows])
    for set_name, nodes in (m.point_sets or {}).items():
        inside = np.zeros(mesh.p.shape[1], dtype=bool)
        ids = node_of[np.asarray(nodes, dtype=np.int64)]
        inside[ids[ids >= 0]] = True
        on = np.flatnonzero(np.all(inside[mesh.facets], axis=0))
        on = np.intersect1d(on, mesh.boundary_facets())
        if on.size:
            sets.setdefault(set_name, []).append(on)
    return {k: np.unique(np.concatenate(v)[np.concatenate(v) >= 0]) for k, v in sets.items()}


def _select(
    mesh: skfem.Mesh,
    boundaries: Mapping[str, Any],
    named: Mapping[str, np.ndarray],
    where: str,
) -> dict[str, np.ndarray]:
    """The case's boundaries: each as it says, or every named set of the file by default."""
    if not boundaries:
        return {k: v for k, v in named.items() if v.size}
    out = {}
    for name, spec in boundaries.items():
        if isinstance(spec, str):
            if spec not in named:
                raise MeshError(
                    f"{where}: boundary {name!r}: the mesh file has no set {spec!r}; its sets: "
                    f"{', '.join(sorted(named)) or 'none'}"
                )
            out[name] = named[spec]
        else:
            out[name] = _geometric(mesh, name, spec, where)
    return out


def _with_selectors(mesh: skfem.Mesh, boundaries: Mapping[str, Any], where: str) -> skfem.Mesh:
    """A generated mesh's boundaries plus (or renamed by) the case's selectors."""
    if not boundaries:
        return mesh
    named = dict(mesh.boundaries or {})
    return mesh.with_boundaries({**named, **_select(mesh, boundaries, named, where)})


def _geometric(mesh: skfem.Mesh, name: str, spec: Mapping[str, Any], where: str) -> np.ndarray:
    """Boundary facets whose vertices all satisfy a selector (tolerance 1e-8 of the size)."""
    ((key, value),) = spec.items()
    p = mesh.p
    tol = 1e-8 * float(np.ptp(p, axis=1).max())
    if key in ("x", "y", "z"):
        axis = "xyz".index(key)
        if axis >= p.shape[0]:
            raise ParameterError(f"{where}: boundary {name!r}: no {key} on a {p.shape[0]}-D mesh")
        on = np.abs(p[axis] - float(value)) <= tol
    else:
        cx, cy, r = (float(v) for v in value)
        on = np.abs(np.hypot(p[0] - cx, p[1] - cy) - r) <= max(tol, 1e-8 * r)
    facets = mesh.boundary_facets()
    chosen = facets[np.all(on[mesh.facets[:, facets]], axis=0)]
    if chosen.size == 0:
        raise MeshError(f"{where}: boundary {name!r} ({key} = {value}) holds no boundary facet")
    return chosen


def write_gmsh(space: Any, path: str | Path) -> Path:
    """A case's mesh (a :class:`~nirom.mechanics.space.DisplacementSpace`) as a Gmsh 2.2
    file another code can read: the volume cells (``triangle``/``triangle6``,
    ``tetra``/``tetra10``, nodes in nirom's order) in the physical group "domain", and
    each named boundary as facet cells (``line``/``line3``, ``triangle``/``triangle6``) in a
    physical group of its name. A case file pointing at it describes the same mesh."""
    import meshio

    fem = space.fem_mesh
    dim, degree = space.dim, space.degree
    points = space.mesh.points
    if dim == 2:
        points = np.column_stack([points, np.zeros(len(points))])
    ((volume_type, volume),) = space.mesh.cells
    facet_type = {(2, 1): "line", (2, 2): "line3", (3, 1): "triangle", (3, 2): "triangle6"}
    cells, tags, field_data = [], [], {}
    n_vertices = int(fem.t.max()) + 1  # a P2 mesh's p holds its edge nodes after them
    for tag, (name, facets) in enumerate(sorted(space.boundaries.items()), start=1):
        facets = np.asarray(facets)
        rows = fem.facets[:, facets].T
        if degree == 2:
            if dim == 2:
                edge_nodes = (n_vertices + facets)[:, None]
            else:  # the edges of each triangle, in meshio's order (01, 12, 20)
                edge_nodes = np.column_stack(
                    [_edge_node(fem, rows[:, a], rows[:, b]) for a, b in _EDGES["triangle6"]]
                )
            rows = np.column_stack([rows, edge_nodes])
        cells.append((facet_type[(dim, degree)], rows))
        tags.append(np.full(len(rows), tag, dtype=np.int32))
        field_data[name] = np.array([tag, dim - 1])
    domain = len(cells) + 1
    cells.append((volume_type, volume))
    tags.append(np.full(len(volume), domain, dtype=np.int32))
    field_data["domain"] = np.array([domain, dim])
    mesh = meshio.Mesh(
        points,
        cells,
        cell_data={"gmsh:physical": tags, "gmsh:geometrical": tags},
        field_data=field_data,
    )
    meshio.write(path, mesh, file_format="gmsh22", binary=False)
    return Path(path)


def _edge_node(fem: skfem.Mesh, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The P2 node of the edges (a, b) of a tetrahedral mesh: vertices, then edges."""
    edges = np.sort(fem.edges, axis=0)
    n = int(fem.t.max()) + 1
    key = edges[0] * n + edges[1]
    order = np.argsort(key)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    return n + order[np.searchsorted(key[order], lo * n + hi)]
