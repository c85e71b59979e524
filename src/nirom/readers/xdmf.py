"""XDMF time series, as dolfinx, meshio and ParaView write them.

meshio reads an XDMF file of one grid, and its ``TimeSeriesReader`` one
temporal collection. dolfinx's ``XDMFFile`` writes the mesh once and then
one temporal collection per function (``write_function(u, t)``), each step
a grid that takes the mesh's topology and geometry through ``xi:include``:
these are read here, with h5py (a dependency of nirom for meshio's XDMF).

Read: a ``Domain`` with uniform grids (the first one holding a topology and
a geometry is the mesh) and temporal collections of uniform grids; a step's
grid has its own ``Topology`` / ``Geometry`` or includes a mesh grid's (the
grid its ``xpointer`` names by ``@Name``, else the domain's first uniform
grid); ``Attribute`` s centred on nodes are point data, on cells cell data;
``DataItem`` s in ``HDF`` (``file.h5:/path``) or ``XML`` (inline numbers)
format. The collections' steps are merged by time: every field must be at
every time. Spatial collections (partitioned files), ``Mixed`` topologies and
``Binary`` data items are refused, each in one line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import meshio
import numpy as np

from nirom.errors import MeshError
from nirom.readers.formats import unreadable

INSTEAD = "write the mesh and its functions with dolfinx's XDMFFile or meshio's XDMF writers"

TOPOLOGIES = {
    "polyvertex": "vertex",
    "polyline": "line",
    "edge_3": "line3",
    "triangle": "triangle",
    "quadrilateral": "quad",
    "tetrahedron": "tetra",
    "pyramid": "pyramid",
    "wedge": "wedge",
    "hexahedron": "hexahedron",
    "triangle_6": "triangle6",
    "quadrilateral_8": "quad8",
    "quadrilateral_9": "quad9",
    "tetrahedron_10": "tetra10",
    "pyramid_13": "pyramid13",
    "wedge_15": "wedge15",
    "wedge_18": "wedge18",
    "hexahedron_20": "hexahedron20",
    "hexahedron_27": "hexahedron27",
}


def _unreadable(path: Path, reason: str, instead: str = INSTEAD) -> MeshError:
    return unreadable(path, reason, instead)


def is_time_series(path: str | Path) -> bool:
    """Whether an XDMF file holds a temporal collection (False if it is not XML)."""
    try:
        domain = _domain(Path(path))
    except MeshError:
        return False
    return any(_is_collection(g, "Temporal") for g in domain.findall("Grid"))


def read_series(path: str | Path) -> list[tuple[float, meshio.Mesh]]:
    """Each time step of an XDMF time series: (time, mesh with that step's data).

    Raises
    ------
    MeshError
        Naming the file and what it holds that is not read.
    """
    path = Path(path)
    reader = _Reader(path)
    domain = reader.domain
    collections = [g for g in domain.findall("Grid") if _is_collection(g)]
    for grid in collections:
        if grid.get("CollectionType", "Spatial") != "Temporal":
            raise _unreadable(path, "a spatial collection (one grid per partition) is not read")
    if not collections:
        raise _unreadable(path, "no temporal collection (not a time series)")
    steps: dict[float, dict[str, Any]] = {}
    field_times: dict[str, list[float]] = {}
    for collection in collections:
        for grid in collection.findall("Grid"):
            if _is_collection(grid):
                raise _unreadable(path, "nested collections are not read")
            time_element = grid.find("Time")
            if time_element is None or "Value" not in time_element.attrib:
                raise _unreadable(
                    path, f"a step of collection {collection.get('Name')!r} has no time"
                )
            t = float(time_element.get("Value"))
            points, cells = reader.mesh_of(grid)
            step = steps.setdefault(t, {"points": points, "cells": cells, "point": {}, "cell": {}})
            if not (_same(step["points"], points) and _same_cells(step["cells"], cells)):
                raise _unreadable(
                    path, f"the fields at time {t:g} are on different meshes", "write them on one"
                )
            for name, center, values in reader.attributes(grid):
                if name in step["point"] or name in step["cell"]:
                    raise _unreadable(path, f"field {name!r} given twice at time {t:g}")
                step[center][name] = values
                field_times.setdefault(name, []).append(t)
    times = sorted(steps)
    for name, at in field_times.items():
        if sorted(at) != times:
            missing = sorted(set(times) - set(at))
            raise _unreadable(path, f"field {name!r} is missing at times {missing}")
    out = []
    for t in times:
        step = steps[t]
        mesh = meshio.Mesh(
            step["points"],
            step["cells"],
            point_data=step["point"],
            cell_data={k: [v] for k, v in step["cell"].items()},
        )
        out.append((t, mesh))
    return out


def read_grid(path: str | Path) -> meshio.Mesh:
    """An XDMF file without time series that meshio refuses (several uniform grids):
    the first grid with a topology and a geometry, and the node and cell data of
    the grids on that mesh (their own or included)."""
    path = Path(path)
    reader = _Reader(path)
    grids = [g for g in reader.domain.findall("Grid") if not _is_collection(g)]
    if any(_is_collection(g, "Spatial") for g in reader.domain.findall("Grid")):
        raise _unreadable(path, "a spatial collection (one grid per partition) is not read")
    if not grids:
        raise _unreadable(path, "no grid in the XDMF domain")
    points, cells = reader.mesh_of(reader.mesh_grid(None))
    point_data, cell_data = {}, {}
    for grid in grids:
        own_points, own_cells = reader.mesh_of(grid)
        if not (_same(own_points, points) and _same_cells(own_cells, cells)):
            continue  # another mesh (facet tags, a submesh): not data of this one
        for name, center, values in reader.attributes(grid):
            (point_data if center == "point" else cell_data)[name] = values
    return meshio.Mesh(
        points, cells, point_data=point_data, cell_data={k: [v] for k, v in cell_data.items()}
    )


def _is_collection(grid: ElementTree.Element, kind: str | None = None) -> bool:
    if grid.get("GridType", "Uniform") != "Collection":
        return False
    return kind is None or grid.get("CollectionType", "Spatial") == kind


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a is b or (a.shape == b.shape and np.array_equal(a, b))


def _same_cells(a: list, b: list) -> bool:
    return len(a) == len(b) and all(
        ta == tb and _same(ca, cb) for (ta, ca), (tb, cb) in zip(a, b, strict=True)
    )


def _domain(path: Path) -> ElementTree.Element:
    try:
        root = ElementTree.parse(path).getroot()
    except FileNotFoundError:
        raise MeshError(f"{path}: file not found") from None
    except ElementTree.ParseError as exc:
        raise _unreadable(path, f"truncated or malformed XML: {exc}") from None
    domain = root.find("Domain")
    if root.tag != "Xdmf" or domain is None:
        raise _unreadable(path, "no XDMF Domain")
    return domain


class _Reader:
    """One XDMF file: its domain, its HDF5 files (opened once), cached meshes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.domain = _domain(path)
        self._meshes: dict[tuple[int, int], tuple[np.ndarray, list]] = {}
        self._items: dict[tuple[str, str], np.ndarray] = {}

    def mesh_grid(self, include: ElementTree.Element | None) -> ElementTree.Element:
        """The uniform grid an ``xi:include`` points to (or the domain's first with a mesh)."""
        pointer = include.get("xpointer", "") if include is not None else ""
        named = re.search(r"@Name\s*=\s*['\"]([^'\"]+)['\"]", pointer)
        for grid in self.domain.iter("Grid"):
            if _is_collection(grid):
                continue
            if named and grid.get("Name") != named.group(1):
                continue
            if grid.find("Topology") is not None and grid.find("Geometry") is not None:
                return grid
        raise _unreadable(self.path, "no grid with a topology and a geometry")

    def mesh_of(self, grid: ElementTree.Element) -> tuple[np.ndarray, list]:
        """Points and cell blocks of a grid (its own, or the included mesh grid's)."""
        topology, geometry = grid.find("Topology"), grid.find("Geometry")
        if topology is None or geometry is None:
            include = next((c for c in grid if c.tag.endswith("}include")), None)
            if include is None:
                raise _unreadable(self.path, f"grid {grid.get('Name')!r} has no mesh")
            source = self.mesh_grid(include)
            topology = topology if topology is not None else source.find("Topology")
            geometry = geometry if geometry is not None else source.find("Geometry")
        key = (id(topology), id(geometry))
        if key not in self._meshes:
            self._meshes[key] = (self._geometry(geometry), self._topology(topology))
        return self._meshes[key]

    def _topology(self, element: ElementTree.Element) -> list[tuple[str, np.ndarray]]:
        kind = element.get("TopologyType", element.get("Type", ""))
        name = TOPOLOGIES.get(kind.lower())
        if kind.lower() == "mixed":
            raise _unreadable(self.path, "a Mixed topology is not read", "write one cell type")
        if name is None:
            raise _unreadable(self.path, f"topology {kind!r} is not read")
        data = self._item(element).astype(np.int64)
        per_cell = int(element.get("NodesPerElement", "0") or 0)
        if name == "line" and per_cell == 3:
            name = "line3"
        nodes = {"vertex": 1, "line": 2}.get(name) or per_cell or data.shape[-1]
        return [(name, data.reshape(-1, nodes))]

    def _geometry(self, element: ElementTree.Element) -> np.ndarray:
        kind = element.get("GeometryType", element.get("Type", "XYZ")).upper()
        if kind in ("XY", "XYZ"):
            return self._item(element).astype(float).reshape(-1, len(kind))
        if kind in ("X_Y", "X_Y_Z"):
            items = [self._data(i) for i in element.findall("DataItem")]
            return np.column_stack([np.ravel(i) for i in items]).astype(float)
        raise _unreadable(self.path, f"geometry type {kind!r} is not read")

    def attributes(self, grid: ElementTree.Element) -> list[tuple[str, str, np.ndarray]]:
        """(name, "point" | "cell", values) of a grid's node and cell attributes."""
        out = []
        for element in grid.findall("Attribute"):
            center = {"node": "point", "cell": "cell"}.get(element.get("Center", "Node").lower())
            if center is None:
                continue  # grid, face or edge values are not fields of the mesh
            values = self._item(element)
            if values.ndim == 2 and values.shape[1] == 1:
                values = values[:, 0]
            out.append((element.get("Name", f"attribute{len(out)}"), center, values))
        return out

    def _item(self, element: ElementTree.Element) -> np.ndarray:
        items = element.findall("DataItem")
        if len(items) != 1:
            raise _unreadable(self.path, f"<{element.tag}> needs one DataItem, has {len(items)}")
        return self._data(items[0])

    def _data(self, item: ElementTree.Element) -> np.ndarray:
        fmt = item.get("Format", "XML")
        kind = item.get("ItemType", "Uniform")
        if kind != "Uniform":
            raise _unreadable(self.path, f"DataItem of type {kind!r} is not read")
        shape = tuple(int(d) for d in item.get("Dimensions", "").split())
        text = (item.text or "").strip()
        if fmt == "XML":
            number = item.get("NumberType", item.get("DataType", "Float")).lower()
            values = np.array(text.split(), dtype=float if number == "float" else np.int64)
        elif fmt == "HDF":
            values = self._hdf(text)
        else:
            raise _unreadable(self.path, f"DataItem format {fmt!r} is not read", "write HDF or XML")
        if shape and int(np.prod(shape)) != values.size:
            raise _unreadable(self.path, f"DataItem {text!r} has {values.size} values for {shape}")
        return values.reshape(shape) if shape else values

    def _hdf(self, text: str) -> np.ndarray:
        file, _, dataset = text.partition(":")
        key = (file, dataset)
        if key not in self._items:
            import h5py

            where = self.path.parent / file
            try:
                with h5py.File(where, "r") as h5:
                    self._items[key] = np.asarray(h5[dataset])
            except FileNotFoundError:
                raise _unreadable(self.path, f"its data file {where} not found") from None
            except (KeyError, OSError) as exc:
                raise _unreadable(self.path, f"{file}:{dataset} unreadable ({exc})") from None
        return self._items[key]
