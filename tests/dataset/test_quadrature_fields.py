"""Fields at quadrature points: the recorded rule, shapes, format versions, export."""

from __future__ import annotations

import json
from pathlib import Path

import meshio
import numpy as np
import pytest

from nirom.dataset import (
    Dataset,
    FieldSpec,
    QuadratureRule,
    export_sample,
    quadrature_points,
    quadrature_weights,
)
from nirom.errors import FieldError, MeshError, SchemaError
from nirom.mesh import Mesh
from nirom.parameters import ParameterSpace, Uniform

SPACE = ParameterSpace([Uniform("a", 0.0, 1.0)])
# Two triangles of the unit square; the 3-point rule of degree 2.
MESH = Mesh(
    np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]),
    [("triangle", [[0, 1, 2], [0, 2, 3]])],
)
RULE = QuadratureRule(
    "triangle", "P1", [[1 / 6, 1 / 6], [2 / 3, 1 / 6], [1 / 6, 2 / 3]], [1 / 6, 1 / 6, 1 / 6]
)
FIELDS = [
    FieldSpec("u", "point", 2, (0.0, 1.0)),
    FieldSpec("s_qp", "quadrature", 4, (0.0, 1.0), "MPa"),
]


def _dataset(path: Path) -> Dataset:
    return Dataset.create(path, SPACE, FIELDS, MESH, quadrature=RULE)


def test_quadrature_fields_store_one_value_per_point_cell_major(tmp_path: Path) -> None:
    ds = _dataset(tmp_path / "q")
    values = np.arange(2 * 6 * 4, dtype=float).reshape(2, 6, 4)
    ds.append({"a": 0.5}, {"u": np.zeros((2, 4, 2)), "s_qp": values}, sample_id=0)
    again = Dataset(tmp_path / "q")
    assert again.format_version == 2
    assert again.field_shape("s_qp") == (2, 6, 4)
    np.testing.assert_array_equal(again.field("s_qp")[0], values)
    rule = again.quadrature
    np.testing.assert_array_equal(rule.points, RULE.points)
    # Cell-major: entries 3..5 are the points of cell 1, inside that cell (x < y).
    xq = quadrature_points(again.mesh, rule)
    assert np.all(xq[3:, 0] < xq[3:, 1]) and np.all(xq[:3, 0] > xq[:3, 1])
    assert quadrature_weights(again.mesh, rule).sum() == pytest.approx(1.0)
    assert again.summary()["quadrature"]["points"] == 6
    with pytest.raises(FieldError, match="expected shape"):
        ds.append({"a": 0.1}, {"u": np.zeros((2, 4, 2)), "s_qp": values[:, :5]})


def test_a_dataset_without_quadrature_fields_stays_version_1(tmp_path: Path) -> None:
    ds = Dataset.create(tmp_path / "plain", SPACE, FIELDS[:1], MESH)
    assert ds.format_version == 1 and ds.quadrature is None
    meta = json.loads((tmp_path / "plain" / "zarr.json").read_text())
    assert meta["attributes"]["nirom"]["format_version"] == 1


def test_quadrature_fields_need_a_rule_that_fits_the_mesh(tmp_path: Path) -> None:
    with pytest.raises(FieldError, match="need the quadrature rule"):
        Dataset.create(tmp_path / "a", SPACE, FIELDS, MESH)
    tet_rule = QuadratureRule("tetra", "P1", [[0.25, 0.25, 0.25]], [1 / 6])
    with pytest.raises(MeshError, match="rule is for tetra cells"):
        Dataset.create(tmp_path / "b", SPACE, FIELDS, MESH, quadrature=tet_rule)
    with pytest.raises(FieldError, match="sum to the reference measure"):
        QuadratureRule("triangle", "P1", [[1 / 3, 1 / 3]], [1.0])


def test_a_future_format_version_is_refused_by_name(tmp_path: Path) -> None:
    _dataset(tmp_path / "q")
    meta_file = tmp_path / "q" / "zarr.json"
    doc = json.loads(meta_file.read_text())
    doc["attributes"]["nirom"]["format_version"] = 3
    meta_file.write_text(json.dumps(doc))
    with pytest.raises(SchemaError, match="format version 3"):
        Dataset(tmp_path / "q")


def test_export_writes_quadrature_fields_as_a_point_cloud(tmp_path: Path) -> None:
    ds = _dataset(tmp_path / "q")
    values = np.random.default_rng(0).normal(size=(2, 6, 4))
    ds.append({"a": 0.5}, {"u": np.ones((2, 4, 2)), "s_qp": values}, sample_id=0)
    written = export_sample(ds, 0, tmp_path / "out" / "s.vtu")
    names = sorted(p.name for p in written)
    assert "s.pvd" in names and "s_qp.pvd" in names
    cloud = meshio.read(tmp_path / "out" / "s_qp_t0001.vtu")
    np.testing.assert_allclose(cloud.point_data["s_qp"], values[1])
    np.testing.assert_allclose(cloud.points[:, :2], quadrature_points(MESH, RULE))
    mesh_file = meshio.read(tmp_path / "out" / "s_t0001.vtu")
    assert set(mesh_file.point_data) == {"u"}
