"""XDMF time series as dolfinx writes them (one temporal collection per function) and
multi-grid XDMF files, read to the values dolfinx wrote."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nirom import mesh as mesh_io
from nirom.dataset.transfer import read_series
from nirom.errors import MeshError
from nirom.readers import xdmf

DOLFINX = Path(__file__).resolve().parents[1] / "data" / "dolfinx"


def test_dolfinx_series_of_two_functions_reads_to_what_dolfinx_wrote() -> None:
    expected = np.load(DOLFINX / "series.npz")
    mesh, point_data, cell_data, times = read_series(DOLFINX / "series.xdmf")
    assert times == (0.0, 0.5, 1.0)
    np.testing.assert_array_equal(mesh.points, expected["points"][:, :2])
    np.testing.assert_array_equal(mesh.cells[0][1], expected["cells"])
    assert point_data["u"].shape == (3, 12) and point_data["v"].shape == (3, 12, 3)
    np.testing.assert_array_equal(point_data["u"], expected["u"])
    np.testing.assert_array_equal(point_data["v"], expected["v"])
    assert cell_data == {}


def test_p2_geometry_comes_as_triangle6_in_meshio_order() -> None:
    expected = np.load(DOLFINX / "p2geom.npz")
    mesh, point_data, _, times = read_series(DOLFINX / "p2geom.xdmf")
    assert times == (0.0, 1.0)
    ((cell_type, conn),) = mesh.cells
    assert cell_type == "triangle6"
    np.testing.assert_array_equal(conn, expected["cells"])
    np.testing.assert_array_equal(point_data["w"], expected["w"])
    # The geometry is straight (an affine map of the unit square): edge node k is the
    # middle of meshio's vertex pair k, (0, 1), (1, 2), (2, 0).
    for k, (a, b) in enumerate([(0, 1), (1, 2), (2, 0)]):
        middle = 0.5 * (mesh.points[conn[:, a]] + mesh.points[conn[:, b]])
        np.testing.assert_allclose(mesh.points[conn[:, 3 + k]], middle, atol=1e-15)
    assert mesh.mass_matrix().sum() == pytest.approx(0.8, rel=1e-12)  # the sheared area


def test_a_series_is_not_one_mesh_file() -> None:
    with pytest.raises(MeshError, match="a time series of 3 steps; read it with"):
        mesh_io.read(DOLFINX / "series.xdmf")


def _write(tmp_path: Path, grids: str) -> Path:
    path = tmp_path / "hand.xdmf"
    path.write_text(
        '<?xml version="1.0"?>\n<Xdmf Version="3.0" xmlns:xi="http://www.w3.org/2001/XInclude">'
        f"<Domain>{grids}</Domain></Xdmf>\n"
    )
    return path


MESH = (
    '<Grid Name="mesh" GridType="Uniform">'
    '<Topology TopologyType="Triangle" NumberOfElements="2">'
    '<DataItem Dimensions="2 3" NumberType="Int" Format="XML">0 1 2 0 2 3</DataItem></Topology>'
    '<Geometry GeometryType="XY"><DataItem Dimensions="4 2" Format="XML">0 0 1 0 1 1 0 1'
    "</DataItem></Geometry></Grid>"
)
INCLUDE = (
    "<xi:include xpointer=\"xpointer(//Grid[@Name='mesh']/*[self::Topology or self::Geometry])\"/>"
)


def _step(name: str, t: float, values: str) -> str:
    return (
        f'<Grid Name="{name}" GridType="Uniform">{INCLUDE}<Time Value="{t}"/>'
        f'<Attribute Name="{name}" AttributeType="Scalar" Center="Node">'
        f'<DataItem Dimensions="4" Format="XML">{values}</DataItem></Attribute></Grid>'
    )


def test_steps_include_the_named_mesh_grid_and_xml_data_items(tmp_path: Path) -> None:
    collection = (
        '<Grid Name="u" GridType="Collection" CollectionType="Temporal">'
        f"{_step('u', 1.0, '1 2 3 4')}{_step('u', 0.5, '5 6 7 8')}</Grid>"
    )
    steps = xdmf.read_series(_write(tmp_path, MESH + collection))
    assert [t for t, _ in steps] == [0.5, 1.0]  # by increasing time
    assert steps[0][1].point_data["u"].tolist() == [5, 6, 7, 8]
    assert steps[1][1].cells[0].data.tolist() == [[0, 1, 2], [0, 2, 3]]


def test_a_field_missing_at_a_time_is_refused_naming_it(tmp_path: Path) -> None:
    collections = (
        '<Grid Name="u" GridType="Collection" CollectionType="Temporal">'
        f"{_step('u', 0.0, '1 2 3 4')}{_step('u', 1.0, '1 2 3 4')}</Grid>"
        '<Grid Name="v" GridType="Collection" CollectionType="Temporal">'
        f"{_step('v', 0.0, '1 2 3 4')}</Grid>"
    )
    with pytest.raises(MeshError, match=r"field 'v' is missing at times \[1.0\]") as info:
        read_series(_write(tmp_path, MESH + collections))
    assert "\n" not in str(info.value) and "cannot read an XDMF file" in str(info.value)


def test_spatial_collections_are_refused_in_one_line(tmp_path: Path) -> None:
    path = _write(tmp_path, f'<Grid GridType="Collection" CollectionType="Spatial">{MESH}</Grid>')
    with pytest.raises(MeshError, match="spatial collection") as info:
        read_series(path)
    assert str(info.value).startswith(str(path))


def test_a_mesh_with_a_tag_grid_reads_where_meshio_stops(tmp_path: Path) -> None:
    """dolfinx's write_mesh + write_meshtags: two uniform grids, the second on facets."""
    tags = (
        '<Grid Name="facets" GridType="Uniform">'
        '<Topology TopologyType="PolyLine" NodesPerElement="2" NumberOfElements="1">'
        '<DataItem Dimensions="1 2" NumberType="Int" Format="XML">0 1</DataItem></Topology>'
        f"{INCLUDE.replace('self::Topology or ', '')}"
        '<Attribute Name="facets" Center="Cell"><DataItem Dimensions="1" Format="XML">3'
        "</DataItem></Attribute></Grid>"
    )
    with_data = MESH.replace(
        "</Geometry></Grid>",
        '</Geometry><Attribute Name="T" Center="Node"><DataItem Dimensions="4 1" Format="XML">'
        "1 2 3 4</DataItem></Attribute></Grid>",
    )
    mesh, point_data, cell_data = mesh_io.read(_write(tmp_path, with_data + tags))
    assert mesh.cell_counts() == {"triangle": 2}
    assert point_data["T"].tolist() == [1, 2, 3, 4] and cell_data == {}
