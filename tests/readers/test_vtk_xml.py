"""VTU of every version and encoding, VTK Lagrange cells and PVTU pieces, read to the
arrays their writers were given (dolfinx's and VTK's own files, in tests/data)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import meshio
import numpy as np
import pytest

from nirom import mesh as mesh_io
from nirom.errors import MeshError
from nirom.readers import vtk_xml

DATA = Path(__file__).resolve().parents[1] / "data"
DOLFINX = DATA / "dolfinx"
VTK = DATA / "vtk"
ASCII = 1e-14  # dolfinx writes ascii with 16 significant digits

# meshio's (VTK's) vertex pairs of the edge nodes of quadratic cells.
EDGES = {
    "triangle6": [(0, 1), (1, 2), (2, 0)],
    "tetra10": [(0, 1), (1, 2), (2, 0), (0, 3), (1, 3), (2, 3)],
}


def _check_edge_nodes(points: np.ndarray, cell_type: str, conn: np.ndarray) -> None:
    """On straight cells, edge node k is the middle of meshio's k-th vertex pair."""
    n_vertices = conn.shape[1] - len(EDGES[cell_type])
    for k, (a, b) in enumerate(EDGES[cell_type]):
        middle = 0.5 * (points[conn[:, a]] + points[conn[:, b]])
        np.testing.assert_allclose(points[conn[:, n_vertices + k]], middle, atol=1e-14)


def test_dolfinx_vtu_2_2_p1_reads_to_what_dolfinx_wrote() -> None:
    expected = np.load(DOLFINX / "heat.npz")
    mesh, point_data, cell_data = mesh_io.read(DOLFINX / "heat_p0_000001.vtu")
    assert mesh.dim == 2  # the zero z column of a planar mesh is dropped
    np.testing.assert_allclose(mesh.points, expected["points"][:, :2], atol=ASCII)
    assert [t for t, _ in mesh.cells] == ["triangle"]  # VTK_LAGRANGE_TRIANGLE, 3 nodes
    np.testing.assert_array_equal(mesh.cells[0][1], expected["cells"])
    np.testing.assert_allclose(point_data["u"], expected["u"][1], atol=ASCII)
    np.testing.assert_allclose(point_data["v"], expected["v"][1], atol=ASCII)
    assert set(cell_data) == {"vtkGhostType", "vtkOriginalCellIds"}


def test_dolfinx_p2_on_triangles_comes_as_triangle6_in_meshio_order() -> None:
    expected = np.load(DOLFINX / "p2.npz")  # dof coordinates and values, dof order
    mesh, point_data, _ = mesh_io.read(DOLFINX / "p2_p0_000000.vtu")
    ((cell_type, conn),) = mesh.cells
    assert cell_type == "triangle6" and conn.shape == (8, 6)
    np.testing.assert_allclose(mesh.points, expected["points"][:, :2], atol=ASCII)
    np.testing.assert_allclose(point_data["w"], expected["w"], atol=ASCII)
    _check_edge_nodes(mesh.points, cell_type, conn)
    assert mesh.mass_matrix().sum() == pytest.approx(1.0, rel=1e-12)  # the unit square's area


def test_dolfinx_p2_on_tetrahedra_comes_as_tetra10_in_meshio_order() -> None:
    expected = np.load(DOLFINX / "tet.npz")
    mesh, point_data, _ = mesh_io.read(DOLFINX / "tet_p0_000000.vtu")
    ((cell_type, conn),) = mesh.cells
    assert cell_type == "tetra10" and conn.shape == (6, 10) and mesh.dim == 3
    np.testing.assert_allclose(mesh.points, expected["points"], atol=ASCII)
    np.testing.assert_allclose(point_data["w"], expected["w"], atol=ASCII)
    _check_edge_nodes(mesh.points, cell_type, conn)


def test_pvtu_of_two_processes_is_one_mesh_without_ghosts_or_seams() -> None:
    expected = np.load(DOLFINX / "par.npz")  # each rank's owned nodes, ranks in turn
    mesh, point_data, cell_data = mesh_io.read(DOLFINX / "par000001.pvtu")
    # Both pieces hold ghost cells and the points of the shared edge; merged, the
    # 3 x 3 square has its 16 points and 18 triangles, each once.
    assert (mesh.n_points, mesh.n_cells) == (16, 18)
    conn = mesh.cells[0][1]
    assert np.unique(np.sort(conn, axis=1), axis=0).shape[0] == 18
    np.testing.assert_allclose(mesh.points, expected["points"][:, :2], atol=ASCII)
    np.testing.assert_allclose(point_data["u"], expected["u"][1], atol=ASCII)
    assert "vtkGhostType" not in point_data and "vtkGhostType" not in cell_data
    assert mesh.mass_matrix().sum() == pytest.approx(1.0, rel=1e-12)  # covers the square once


def test_pvtu_pieces_without_ghost_flags_are_welded_at_their_seam(tmp_path: Path) -> None:
    """Two VTU pieces of a 2 x 1 quad strip sharing the middle edge's 2 points."""
    left = meshio.Mesh(
        np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], float),
        [("quad", np.array([[0, 1, 2, 3]]))],
        point_data={"u": np.array([0.0, 1.0, 1.0, 0.0])},
    )
    right = meshio.Mesh(
        np.array([[1, 1, 0], [1, 0, 0], [2, 0, 0], [2, 1, 0]], float),
        [("quad", np.array([[1, 2, 3, 0]]))],
        point_data={"u": np.array([1.0, 1.0, 2.0, 2.0])},
    )
    meshio.write(tmp_path / "left.vtu", left)
    meshio.write(tmp_path / "right.vtu", right)
    (tmp_path / "strip.pvtu").write_text(
        '<?xml version="1.0"?>\n<VTKFile type="PUnstructuredGrid" version="1.0">\n'
        '<PUnstructuredGrid GhostLevel="0"><PPointData><PDataArray type="Float64" Name="u"/>'
        '</PPointData><PPoints><PDataArray type="Float64" NumberOfComponents="3"/></PPoints>'
        '<Piece Source="left.vtu"/><Piece Source="right.vtu"/></PUnstructuredGrid></VTKFile>\n'
    )
    mesh, point_data, _ = mesh_io.read(tmp_path / "strip.pvtu")
    assert mesh.n_points == 6
    np.testing.assert_array_equal(mesh.cells[0][1], [[0, 1, 2, 3], [1, 4, 5, 2]])
    np.testing.assert_array_equal(point_data["u"], mesh.points[:, 0])


@pytest.mark.parametrize("name", ["raw_zlib", "base64", "lzma", "ascii"])
def test_every_encoding_vtk_writes(name: str) -> None:
    """VTK 9.7's own writer: appended raw + zlib + UInt64 headers, appended base64,
    inline base64 + LZMA, ascii; a triangle, a quad, two triangles in file order."""
    expected = np.load(VTK / "grid.npz")
    m = vtk_xml.read(VTK / f"grid_{name}.vtu")
    assert [(b.type, len(b.data)) for b in m.cells] == [
        ("triangle", 1),
        ("quad", 1),
        ("triangle", 2),
    ]
    np.testing.assert_array_equal(m.cells[2].data, expected["cells"][2:, :3])
    np.testing.assert_array_equal(m.points, expected["points"])
    np.testing.assert_array_equal(m.point_data["u"], expected["u"])
    np.testing.assert_array_equal(m.point_data["v"], expected["v"])
    assert m.field_data["TimeValue"].tolist() == [2.5]
    _, _, cell_data = mesh_io.read(VTK / f"grid_{name}.vtu")
    np.testing.assert_array_equal(cell_data["tag"], expected["tag"])  # file order kept


@pytest.mark.parametrize(
    ("binary", "compression", "header"),
    [
        (True, None, "UInt32"),
        (True, None, "UInt64"),
        (True, "zlib", "UInt64"),
        (True, "lzma", "UInt32"),
        (False, None, "UInt32"),
    ],
)
def test_meshio_written_vtu_reads_as_meshio_reads_it(
    tmp_path: Path, binary: bool, compression: str | None, header: str
) -> None:
    rng = np.random.default_rng(3)
    points = rng.random((40, 3))
    cells = [("tetra", rng.integers(0, 40, (25, 4))), ("triangle", rng.integers(0, 40, (7, 3)))]
    source = meshio.Mesh(
        points,
        cells,
        point_data={"p": rng.random(40), "q": rng.random((40, 3))},
        cell_data={
            "c": [rng.integers(0, 9, 25).astype(np.int32), rng.integers(0, 9, 7).astype(np.int32)]
        },
    )
    path = tmp_path / "m.vtu"
    meshio.write(path, source, binary=binary, compression=compression, header_type=header)
    ours, theirs = vtk_xml.read(path), meshio.read(path)
    np.testing.assert_array_equal(ours.points, theirs.points)
    for a, b in zip(ours.cells, theirs.cells, strict=True):
        assert a.type == b.type
        np.testing.assert_array_equal(a.data, b.data)
    for name in ("p", "q"):
        np.testing.assert_array_equal(ours.point_data[name], theirs.point_data[name])
    for a, b in zip(ours.cell_data["c"], theirs.cell_data["c"], strict=True):
        np.testing.assert_array_equal(a, b)


def test_lagrange_hexahedron_order_follows_the_file_version(tmp_path: Path) -> None:
    """VTK numbered the order-2 hexahedron's edges 10 and 11 the other way round before
    file version 2.1; VTK's reader swaps nodes 18 and 19 of older files, and so do we."""
    expected = np.load(VTK / "hex27.npz")
    new = vtk_xml.read(VTK / "hex27.vtu")  # version 2.3
    assert new.cells[0].type == "hexahedron27"
    np.testing.assert_array_equal(new.cells[0].data[0], np.arange(27))
    np.testing.assert_array_equal(new.points, expected["points"])
    old = tmp_path / "old.vtu"
    old.write_text((VTK / "hex27.vtu").read_text().replace('version="2.3"', 'version="1.0"'))
    swapped = vtk_xml.read(old).cells[0].data[0]
    np.testing.assert_array_equal(swapped, [*range(18), 19, 18, *range(20, 27)])


def _one_line_error(path: Path, *parts: str) -> None:
    with pytest.raises(MeshError) as info:
        mesh_io.read(path)
    text = str(info.value)
    assert "\n" not in text and str(path) in text
    for part in parts:
        assert part in text, text


def test_unreadable_files_are_one_line_errors_naming_what_they_found(tmp_path: Path) -> None:
    good = (VTK / "grid_raw_zlib.vtu").read_bytes()
    (tmp_path / "cut.vtu").write_bytes(good[: len(good) // 2])
    _one_line_error(tmp_path / "cut.vtu", "truncated")
    text = (VTK / "grid_ascii.vtu").read_text()
    (tmp_path / "poly.vtu").write_text(text.replace('type="UnstructuredGrid"', 'type="PolyData"'))
    _one_line_error(tmp_path / "poly.vtu", "PolyData", "write")
    cubic = (DOLFINX / "p2_p0_000000.vtu").read_text()
    (tmp_path / "polygon.vtu").write_text(cubic.replace(">69 69 69", ">7 69 69"))
    _one_line_error(tmp_path / "polygon.vtu", "VTK cell type 7 (polygon)", "write")
    (tmp_path / "lagrange.vtu").write_text(
        (DOLFINX / "heat_p0_000000.vtu")
        .read_text()
        .replace('"types" format="ascii">69', '"types" format="ascii">72')
    )
    _one_line_error(tmp_path / "lagrange.vtu", "Lagrange hexahedron cells of 3 nodes")
    (tmp_path / "model.xyz").write_bytes(b"\x00\x01binary junk\xff" * 10)
    _one_line_error(tmp_path / "model.xyz", "binary file with extension .xyz", "write a VTU")
    (tmp_path / "empty.vtk").write_bytes(b"")
    _one_line_error(tmp_path / "empty.vtk", "empty file")
    (tmp_path / "u.bp").mkdir()  # dolfinx's VTXWriter (ADIOS2) writes a folder
    _one_line_error(tmp_path / "u.bp", "a folder", "write VTKFile (.pvd) or XDMFFile output")


@pytest.mark.skipif(importlib.util.find_spec("lz4") is not None, reason="lz4 is installed")
def test_lz4_without_its_package_says_what_to_install(tmp_path: Path) -> None:
    path = tmp_path / "lz4.vtu"
    shutil.copy(VTK / "grid_raw_zlib.vtu", path)
    path.write_bytes(path.read_bytes().replace(b"vtkZLibDataCompressor", b"vtkLZ4DataCompressor"))
    _one_line_error(path, "pip install lz4")
