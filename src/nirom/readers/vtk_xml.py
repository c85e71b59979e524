"""VTK's XML unstructured grids: ``.vtu`` of any format version and ``.pvtu`` pieces.

Read here rather than through meshio, which refuses VTU version 2.x (what
VTK 9, ParaView 5.10+ and dolfinx write), VTK's Lagrange cells and parallel
``.pvtu`` files. The format is small and documented (VTK's "VTK File
Formats"): every ``DataArray`` is ``ascii``, inline ``binary`` (base64) or
``appended`` (raw bytes or base64 after the ``<AppendedData>`` marker), each
binary block led by a header of ``header_type`` integers (UInt32 before
version 1.0, UInt32 or UInt64 after), optionally compressed block by block
(``vtkZLibDataCompressor``, ``vtkLZMADataCompressor``; LZ4 needs the ``lz4``
package), in the file's ``byte_order``.

Cells come back as meshio blocks (consecutive cells of one type, in file
order, so concatenated cell data stay in file order). VTK's Lagrange cells of
order 1 and 2 (dolfinx writes every Lagrange function so, ``VTK_LAGRANGE_TRIANGLE``
for P1 and P2) become meshio's linear and quadratic types ("triangle",
"triangle6", "tetra10", ...) with meshio's node order.

A ``.pvtu`` is its pieces merged into one mesh: ghost cells (``vtkGhostType``)
dropped, points of a piece that lie on a point of an earlier piece (within
1e-10 of the bounding box, the partition boundaries) welded to it, and, when
every piece carries ``vtkOriginalPointIds`` / ``vtkOriginalCellIds`` that
number the merged points / cells 0..n-1 (dolfinx writes its global
numbering: each process's owned nodes in turn), points and cells ordered by
them; otherwise in the order met, piece by piece. The same partition thus
always reads the same; another number of processes gives another order.
"""

from __future__ import annotations

import base64
import itertools
import lzma
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import meshio
import numpy as np

from nirom.errors import MeshError
from nirom.readers.formats import unreadable

# VTK's data type names.
DTYPES = {
    "Int8": np.int8,
    "UInt8": np.uint8,
    "Int16": np.int16,
    "UInt16": np.uint16,
    "Int32": np.int32,
    "UInt32": np.uint32,
    "Int64": np.int64,
    "UInt64": np.uint64,
    "Float32": np.float32,
    "Float64": np.float64,
}

# VTK cell type ids -> meshio names (VTK's node order is meshio's for these).
VTK_CELLS = {
    1: "vertex",
    3: "line",
    5: "triangle",
    9: "quad",
    10: "tetra",
    12: "hexahedron",
    13: "wedge",
    14: "pyramid",
    21: "line3",
    22: "triangle6",
    23: "quad8",
    24: "tetra10",
    25: "hexahedron20",
    26: "wedge15",
    27: "pyramid13",
    28: "quad9",
    29: "hexahedron27",
    34: "triangle7",
    35: "line4",
}

# VTK Lagrange cells (type id, number of nodes) -> meshio name and the node
# order: meshio's node k is VTK's node order[k]. Orders 1 and 2 only.
LAGRANGE_CELLS: dict[tuple[int, int], tuple[str, list[int] | None]] = {
    (68, 2): ("line", None),
    (68, 3): ("line3", None),
    (69, 3): ("triangle", None),
    (69, 6): ("triangle6", None),  # vertices, then edges (0,1), (1,2), (2,0): as meshio
    (70, 4): ("quad", None),
    (70, 9): ("quad9", None),  # edges (0,1), (1,2), (3,2), (0,3): the same midpoints
    (71, 4): ("tetra", None),
    (71, 10): ("tetra10", None),  # edges (0,1), (1,2), (0,2), (0,3), (1,3), (2,3): as meshio
    (72, 8): ("hexahedron", None),
    (72, 27): ("hexahedron27", None),  # files of version 2.1 on; see OLD_HEXAHEDRON
    (73, 6): ("wedge", None),
    (74, 5): ("pyramid", None),
}
# Before file version 2.1, VTK numbered the Lagrange hexahedron's edges 10 and 11
# the other way round: VTK's reader swaps nodes 18 and 19 of older files, so do we.
OLD_HEXAHEDRON = [*range(18), 19, 18, *range(20, 27)]
LAGRANGE_NAMES = {
    68: "curve",
    69: "triangle",
    70: "quadrilateral",
    71: "tetrahedron",
    72: "hexahedron",
    73: "wedge",
    74: "pyramid",
}
OTHER_CELLS = {
    2: "poly-vertex",
    4: "poly-line",
    6: "triangle strip",
    7: "polygon",
    8: "pixel",
    11: "voxel",
    15: "pentagonal prism",
    16: "hexagonal prism",
    42: "polyhedron",
}
GHOST_CELL = 1  # vtkDataSetAttributes::DUPLICATECELL
GHOST_POINT = 1  # vtkDataSetAttributes::DUPLICATEPOINT
WELD_RTOL = 1e-10
FIXED_CELLS = "write fixed-size cells (lines, triangles, quads, tetrahedra, ... of order 1 or 2)"
ZLIB = "write it with zlib compression"


@dataclass
class Piece:
    """One ``<Piece>`` of an unstructured grid, as in the file."""

    points: np.ndarray
    connectivity: np.ndarray
    offsets: np.ndarray
    types: np.ndarray
    point_data: dict[str, np.ndarray] = field(default_factory=dict)
    cell_data: dict[str, np.ndarray] = field(default_factory=dict)
    version: tuple[int, ...] = (2, 2)  # the file's format version


def read(path: str | Path) -> meshio.Mesh:
    """A ``.vtu`` or ``.pvtu`` file (told by its root element) as one meshio mesh.

    Raises
    ------
    MeshError
        One line naming the file, what it holds and what to write instead.
    """
    path = Path(path)
    root, appended = _parse(path)
    kind = root.get("type", "")
    if kind == "PUnstructuredGrid":
        return _read_pvtu(path, root)
    if kind != "UnstructuredGrid":
        raise unreadable(path, "only unstructured grids are read")
    pieces, field_data = _pieces(path, root, appended)
    if len(pieces) == 1:
        return _to_meshio(path, pieces[0], field_data)
    return _to_meshio(path, _merge(path, pieces), field_data)


# -- XML and data arrays ---------------------------------------------------------------


def _parse(path: Path) -> tuple[ElementTree.Element, bytes | None]:
    """The XML root (appended data cut out) and the appended bytes after the ``_`` marker."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise MeshError(f"{path}: file not found") from None
    appended = None
    start = raw.find(b"<AppendedData")
    if start >= 0:
        open_end = raw.find(b">", start)
        marker = raw.find(b"_", open_end)
        stop = raw.rfind(b"</AppendedData>")
        if open_end < 0 or marker < 0 or stop < marker:
            raise unreadable(path, "truncated: the appended data are not closed")
        appended = raw[marker + 1 : stop]
        raw = raw[: open_end + 1] + b"</AppendedData>" + raw[stop + len(b"</AppendedData>") :]
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError as exc:
        raise unreadable(path, f"truncated or malformed XML: {exc}") from None
    if root.tag != "VTKFile":
        raise unreadable(path, f"XML root <{root.tag}>, not <VTKFile>")
    return root, appended


@dataclass
class _Decoder:
    """How the file stores binary data: header integers, byte order, compressor."""

    path: Path
    header: np.dtype
    order: str
    decompress: Callable[[bytes, int], bytes] | None
    appended: bytes | None
    appended_base64: bool

    @classmethod
    def of(cls, path: Path, root: ElementTree.Element, appended: bytes | None) -> _Decoder:
        order = "<" if root.get("byte_order", "LittleEndian") == "LittleEndian" else ">"
        header_name = root.get("header_type", "UInt32")
        if header_name not in ("UInt32", "UInt64"):
            raise unreadable(path, f"header_type {header_name!r} is not UInt32 or UInt64")
        header = np.dtype(DTYPES[header_name]).newbyteorder(order)
        compressor = root.get("compressor")
        block = root.find("AppendedData")
        encoding = block.get("encoding", "raw") if block is not None else "raw"
        if appended is not None and encoding == "base64":
            appended = appended.strip()
        return cls(
            path, header, order, _decompressor(path, compressor), appended, encoding == "base64"
        )

    def array(self, element: ElementTree.Element) -> np.ndarray:
        """A DataArray's values, flat, in its type."""
        name = element.get("Name", "?")
        kind = element.get("type", "")
        if kind not in DTYPES:
            raise unreadable(self.path, f"DataArray {name!r} has type {kind!r}, not a number")
        dtype = np.dtype(DTYPES[kind]).newbyteorder(self.order)
        fmt = element.get("format", "ascii")
        try:
            if fmt == "ascii":
                return _ascii(element.text or "", dtype.newbyteorder("="))
            if fmt == "binary":
                return self._binary((element.text or "").strip().encode(), dtype, True)
            if fmt == "appended":
                if self.appended is None:
                    raise ValueError("no <AppendedData> in the file")
                data = self.appended[int(element.get("offset", "0")) :]
                return self._binary(data, dtype, self.appended_base64)
        except (ValueError, zlib.error, lzma.LZMAError, IndexError) as exc:
            raise unreadable(self.path, f"DataArray {name!r} unreadable ({exc})") from None
        raise unreadable(self.path, f"DataArray {name!r} has unknown format {fmt!r}")

    def _binary(self, data: bytes, dtype: np.dtype, encoded: bool) -> np.ndarray:
        size = self.header.itemsize
        if self.decompress is None:
            if encoded:  # header and data encoded together, or each on its own
                head = _b64(data[: _chars(size)])[:size]
                n_bytes = int(np.frombuffer(head, self.header)[0])
                joint = _b64(data[: _chars(size + n_bytes)])
                body = (
                    joint[size : size + n_bytes]
                    if len(joint) >= size + n_bytes
                    else _b64(data[_chars(size) : _chars(size) + _chars(n_bytes)])
                )
            else:
                n_bytes = int(np.frombuffer(data[:size], self.header)[0])
                body = data[size : size + n_bytes]
            if len(body) != n_bytes:
                raise ValueError(f"{len(body)} bytes where the header says {n_bytes}")
            return _values(body, dtype)
        # Compressed: [n_blocks, block size, last block size, compressed sizes...], then blocks.
        first = _b64(data[: _chars(size)])[:size] if encoded else data[:size]
        n_blocks = int(np.frombuffer(first, self.header)[0])
        head_bytes = size * (3 + n_blocks)
        head = _b64(data[: _chars(head_bytes)])[:head_bytes] if encoded else data[:head_bytes]
        header = np.frombuffer(head, self.header).astype(np.int64)
        block, last, sizes = int(header[1]), int(header[2]), header[3:]
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        start = _chars(head_bytes)
        body = _b64(data[start : start + _chars(int(bounds[-1]))]) if encoded else data[head_bytes:]
        if bounds[-1] > len(body):
            raise ValueError(f"{len(body)} compressed bytes where the header says {bounds[-1]}")
        out = []
        for k in range(n_blocks):
            expected = last if (k == n_blocks - 1 and last) else block
            out.append(self.decompress(body[bounds[k] : bounds[k + 1]], expected))
        return _values(b"".join(out), dtype)


def _chars(n_bytes: int) -> int:
    """Base64 characters that encode ``n_bytes`` bytes on their own (with padding)."""
    return -(-n_bytes // 3) * 4


def _b64(text: bytes) -> bytes:
    return base64.b64decode(text.translate(None, b" \t\r\n"))


def _ascii(text: str, dtype: np.dtype) -> np.ndarray:
    """Numbers separated by white space (ValueError at anything else)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # NumPy < 2.3: a partial read
        try:
            return np.fromstring(text, dtype=dtype, sep=" ")
        except DeprecationWarning as exc:
            raise ValueError(str(exc)) from None


def _values(body: bytes, dtype: np.dtype) -> np.ndarray:
    if len(body) % dtype.itemsize:
        raise ValueError(f"{len(body)} bytes is not a whole number of {dtype.name} values")
    return np.frombuffer(body, dtype).astype(dtype.newbyteorder("="))


def _decompressor(path: Path, name: str | None) -> Callable[[bytes, int], bytes] | None:
    if name is None:
        return None
    if name == "vtkZLibDataCompressor":
        return lambda data, size: zlib.decompress(data)
    if name == "vtkLZMADataCompressor":
        return lambda data, size: lzma.decompress(data)
    if name == "vtkLZ4DataCompressor":
        try:
            import lz4.block
        except ImportError:
            raise unreadable(
                path, "LZ4 compression needs the lz4 package: pip install lz4", ZLIB
            ) from None
        return lambda data, size: lz4.block.decompress(data, uncompressed_size=size)
    raise unreadable(path, f"unknown compressor {name!r}", ZLIB)


# -- pieces ------------------------------------------------------------------------------


def _pieces(
    path: Path, root: ElementTree.Element, appended: bytes | None
) -> tuple[list[Piece], dict[str, np.ndarray]]:
    decoder = _Decoder.of(path, root, appended)
    grid = root.find("UnstructuredGrid")
    if grid is None:
        raise unreadable(path, "no <UnstructuredGrid> element")
    field_data = _arrays(decoder, grid.find("FieldData"), None)
    version = _version(path, root)
    pieces = []
    for element in grid.findall("Piece"):
        n_points = int(element.get("NumberOfPoints", "0"))
        n_cells = int(element.get("NumberOfCells", "0"))
        points_array = element.find("Points/DataArray")
        if points_array is None:
            raise unreadable(path, "a piece has no <Points>")
        points = decoder.array(points_array).reshape(n_points, -1).astype(float)
        cells = {a.get("Name"): a for a in element.findall("Cells/DataArray")}
        if cells.get("faces") is not None:
            raise unreadable(path, "polyhedron cells are not read", FIXED_CELLS)
        missing = [k for k in ("connectivity", "offsets", "types") if k not in cells]
        if missing and n_cells:
            raise unreadable(path, f"<Cells> lacks {', '.join(missing)}")
        connectivity, offsets, types = (
            decoder.array(cells[k]).astype(np.int64) if k in cells else np.zeros(0, dtype=np.int64)
            for k in ("connectivity", "offsets", "types")
        )
        if offsets.size == n_cells + 1 and n_cells and offsets[0] == 0:
            offsets = offsets[1:]  # some writers lead with 0
        if offsets.size != n_cells or types.size != n_cells:
            raise unreadable(
                path, f"{offsets.size} offsets and {types.size} types for {n_cells} cells"
            )
        pieces.append(
            Piece(
                points,
                connectivity,
                offsets,
                types,
                _arrays(decoder, element.find("PointData"), n_points),
                _arrays(decoder, element.find("CellData"), n_cells),
                version,
            )
        )
    if not pieces:
        raise unreadable(path, "no <Piece> in the grid")
    return pieces, field_data


def _version(path: Path, root: ElementTree.Element) -> tuple[int, ...]:
    text = root.get("version", "0.1")
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        raise unreadable(path, f"VTK file version {text!r} is not a number") from None


def _arrays(
    decoder: _Decoder, block: ElementTree.Element | None, n: int | None
) -> dict[str, np.ndarray]:
    """Numeric DataArrays of a PointData / CellData / FieldData block, shaped (n[, c])."""
    out: dict[str, np.ndarray] = {}
    if block is None:
        return out
    for element in block.findall("DataArray"):
        if element.get("type") not in DTYPES:
            continue  # String arrays (names, units) are not fields
        values = decoder.array(element)
        name = element.get("Name", f"array{len(out)}")
        rows = n if n is not None else int(element.get("NumberOfTuples", values.size) or 1)
        if rows and values.size % rows:
            raise unreadable(
                decoder.path, f"DataArray {name!r}: {values.size} values for {rows} tuples"
            )
        components = values.size // rows if rows else 1
        out[name] = values if components == 1 else values.reshape(rows, components)
    return out


def _cell_blocks(path: Path, piece: Piece) -> list[tuple[str, np.ndarray]]:
    """meshio blocks: runs of cells of one type and size, in file order."""
    n = piece.types.size
    if not n:
        return []
    starts = np.concatenate([[0], piece.offsets[:-1]])
    sizes = piece.offsets - starts
    if np.any(sizes <= 0) or piece.offsets[-1] > piece.connectivity.size:
        raise unreadable(path, "cell offsets do not fit the connectivity")
    key = piece.types * (1 << 20) + sizes
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(key)) + 1, [n]])
    blocks: list[tuple[str, np.ndarray]] = []
    for a, b in itertools.pairwise(bounds):
        name, order = _cell_type(path, int(piece.types[a]), int(sizes[a]))
        if (int(piece.types[a]), int(sizes[a])) == (72, 27) and piece.version < (2, 1):
            order = OLD_HEXAHEDRON
        conn = piece.connectivity[starts[a:b, None] + np.arange(sizes[a])]
        blocks.append((name, conn if order is None else conn[:, order]))
    return blocks


def _cell_type(path: Path, vtk_type: int, size: int) -> tuple[str, list[int] | None]:
    if vtk_type in VTK_CELLS:
        return VTK_CELLS[vtk_type], None
    if (vtk_type, size) in LAGRANGE_CELLS:
        return LAGRANGE_CELLS[(vtk_type, size)]
    if vtk_type in LAGRANGE_NAMES:
        raise unreadable(
            path,
            f"VTK Lagrange {LAGRANGE_NAMES[vtk_type]} cells of {size} nodes: "
            "orders 1 and 2 are read",
            "write the fields at order 1 or 2",
        )
    what = OTHER_CELLS.get(vtk_type, "unknown")
    raise unreadable(path, f"VTK cell type {vtk_type} ({what}) is not read", FIXED_CELLS)


def _to_meshio(path: Path, piece: Piece, field_data: dict[str, np.ndarray]) -> meshio.Mesh:
    if piece.points.shape[1] != 3:
        raise unreadable(path, f"points have {piece.points.shape[1]} coordinates, VTK stores 3")
    blocks = _cell_blocks(path, piece)
    if blocks and (max(int(c.max()) for _, c in blocks) >= len(piece.points)):
        raise unreadable(path, f"cells refer to points beyond the {len(piece.points)} points")
    bounds = np.cumsum([0] + [len(c) for _, c in blocks])
    cell_data = {
        name: [values[bounds[k] : bounds[k + 1]] for k in range(len(blocks))]
        for name, values in piece.cell_data.items()
    }
    return meshio.Mesh(
        piece.points,
        blocks,
        point_data=piece.point_data,
        cell_data=cell_data,
        field_data=field_data,
    )


# -- parallel files -------------------------------------------------------------------------


def _read_pvtu(path: Path, root: ElementTree.Element) -> meshio.Mesh:
    grid = root.find("PUnstructuredGrid")
    sources = [p.get("Source") for p in (grid.findall("Piece") if grid is not None else [])]
    if not sources or None in sources:
        raise unreadable(path, "no <Piece Source=...> entries")
    pieces: list[Piece] = []
    field_data: dict[str, np.ndarray] = {}
    for source in sources:
        piece_path = path.parent / str(source)
        if not piece_path.is_file():
            raise unreadable(path, f"piece {source} not found")
        piece_root, appended = _parse(piece_path)
        if piece_root.get("type") != "UnstructuredGrid":
            raise unreadable(piece_path, f"a piece of {path.name} must be an UnstructuredGrid")
        found, data = _pieces(piece_path, piece_root, appended)
        pieces += found
        field_data = field_data or data
    return _to_meshio(path, _merge(path, pieces), field_data)


def _merge(path: Path, pieces: list[Piece]) -> Piece:
    """One piece from several: ghost cells dropped, shared points welded (module doc)."""
    from scipy.spatial import cKDTree

    names = [set(p.point_data) for p in pieces] + [set(p.cell_data) for p in pieces]
    point_names = set.intersection(*names[: len(pieces)])
    cell_names = set.intersection(*names[len(pieces) :])
    everything = np.concatenate([p.points for p in pieces])
    scale = max(float(np.ptp(everything, axis=0).max()) if everything.size else 0.0, 1e-300)
    merged_points = np.zeros((0, everything.shape[1]))
    where: list[np.ndarray] = []  # per piece: merged index of each of its points
    for piece in pieces:
        index = np.full(len(piece.points), -1, dtype=np.int64)
        if len(merged_points) and len(piece.points):
            tree = cKDTree(merged_points)
            distance, nearest = tree.query(piece.points, distance_upper_bound=WELD_RTOL * scale)
            hit = np.isfinite(distance)
            index[hit] = nearest[hit]
        new = np.flatnonzero(index < 0)
        index[new] = len(merged_points) + np.arange(new.size)
        merged_points = np.concatenate([merged_points, piece.points[new]])
        where.append(index)
    n_merged = len(merged_points)
    # Point values from an owned copy of each point where the writer flags ghosts.
    point_data = {}
    for name in sorted(point_names - {"vtkGhostType"}):
        first = pieces[0].point_data[name]
        merged = np.zeros((n_merged, *first.shape[1:]), dtype=first.dtype)
        for owned_pass in (False, True):  # owned copies written last win
            for piece, index in zip(pieces, where, strict=True):
                mask = _owned_points(piece) == owned_pass
                merged[index[mask]] = piece.point_data[name][mask]
        point_data[name] = merged
    # Cells of each piece but its ghosts, renumbered.
    conn, sizes, types = [], [], []
    cell_data: dict[str, list[np.ndarray]] = {n: [] for n in cell_names - {"vtkGhostType"}}
    for piece, index in zip(pieces, where, strict=True):
        ghost = piece.cell_data.get("vtkGhostType")
        keep = np.flatnonzero(
            np.ones(piece.types.size, bool) if ghost is None else (ghost & GHOST_CELL) == 0
        )
        nodes, size = _take_cells(piece.connectivity, piece.offsets, keep)
        conn.append(index[nodes])
        sizes.append(size)
        types.append(piece.types[keep])
        for name in cell_data:
            cell_data[name].append(piece.cell_data[name][keep])
    merged = Piece(
        merged_points,
        np.concatenate(conn),
        np.cumsum(np.concatenate(sizes)).astype(np.int64),
        np.concatenate(types),
        point_data,
        {name: np.concatenate(v) for name, v in cell_data.items()},
        min(p.version for p in pieces),
    )
    return _by_original_ids(merged)


def _owned_points(piece: Piece) -> np.ndarray:
    ghost = piece.point_data.get("vtkGhostType")
    n = len(piece.points)
    return np.ones(n, bool) if ghost is None else (ghost & GHOST_POINT) == 0


def _take_cells(
    connectivity: np.ndarray, offsets: np.ndarray, cells: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Connectivity entries of ``cells`` (in that order) and their sizes."""
    starts = np.concatenate([[0], offsets[:-1]])[cells]
    sizes = (offsets[cells] - starts).astype(np.int64)
    first = np.cumsum(sizes) - sizes
    entries = np.repeat(starts - first, sizes) + np.arange(int(sizes.sum()))
    return connectivity[entries], sizes


def _by_original_ids(piece: Piece) -> Piece:
    """Points and cells in the order of ``vtkOriginalPointIds`` / ``vtkOriginalCellIds``
    when these number them 0..n-1 (the writer's global numbering); else as merged."""
    ids = piece.point_data.get("vtkOriginalPointIds")
    n = len(piece.points)
    if ids is not None and ids.ndim == 1 and np.array_equal(np.sort(ids), np.arange(n)):
        order = np.argsort(ids)
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n)
        piece.points = piece.points[order]
        piece.connectivity = rank[piece.connectivity]
        piece.point_data = {k: v[order] for k, v in piece.point_data.items()}
    ids = piece.cell_data.get("vtkOriginalCellIds")
    n_cells = piece.types.size
    if ids is not None and ids.ndim == 1 and np.array_equal(np.sort(ids), np.arange(n_cells)):
        order = np.argsort(ids)
        piece.connectivity, sizes = _take_cells(piece.connectivity, piece.offsets, order)
        piece.offsets = np.cumsum(sizes)
        piece.types = piece.types[order]
        piece.cell_data = {k: v[order] for k, v in piece.cell_data.items()}
    return piece
