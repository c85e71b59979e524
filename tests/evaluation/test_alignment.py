"""Meshes checked where results meet: evaluation, the report and predict --mesh compare the
model's mesh with the dataset's (or the file's), match the same points in another order and
refuse any other mesh in one line."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from nirom.dataset import FieldSpec
from nirom.errors import MeshError
from nirom.evaluation import evaluate
from nirom.evaluation.alignment import match_dataset
from nirom.mesh import Mesh
from nirom.mesh_matching import MeshMatch, match_meshes


def _assert_same(a: object, b: object, path: str = "") -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), path
        for key in a:
            _assert_same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{path}[{k}]")
    elif isinstance(a, float):
        assert b == pytest.approx(a, rel=1e-12, abs=1e-15), path
    else:
        assert a == b, path


def test_a_reordered_dataset_evaluates_to_the_same_figures(reordered: SimpleNamespace) -> None:
    original = evaluate(reordered.model, reordered.test, n_timing=2)
    shuffled = evaluate(reordered.model, reordered.shuffled, n_timing=2)
    _assert_same(original["fields"], shuffled["fields"])  # all but the timings
    # Not vacuous: the figures are those of a model that errs a little on every field.
    assert original["fields"]["u"]["relative_l2"]["mean"] > 1e-4
    assert original["fields"]["s"]["projection_floor"]["mean"] < 1e-12


def test_predictions_come_back_in_the_dataset_s_order(reordered: SimpleNamespace) -> None:
    match = match_dataset(reordered.model, reordered.shuffled)
    assert not match.identity
    np.testing.assert_array_equal(match.nodes, np.argsort(reordered.perm))
    mean = reordered.model.predict(reordered.shuffled.parameters())
    on_data = match.to_target(mean, reordered.model.fields_)
    np.testing.assert_array_equal(on_data["u"], mean["u"][:, reordered.perm])
    np.testing.assert_array_equal(on_data["g"], mean["g"])
    back = match.to_model(on_data, reordered.model.fields_)
    for name in mean:
        np.testing.assert_array_equal(back[name], mean[name])
    assert match_dataset(reordered.model, reordered.test).identity


def test_a_dataset_on_another_mesh_is_refused_in_one_line(reordered: SimpleNamespace) -> None:
    with pytest.raises(MeshError) as excinfo:
        evaluate(reordered.model, reordered.coarse, n_timing=2)
    message = str(excinfo.value)
    assert "\n" not in message
    assert message == (
        f"{reordered.coarse.path} does not match the model's mesh: its 25 points vs the "
        "reference's 81: the point counts differ"
    )


def test_the_same_points_with_other_cells_are_refused(reordered: SimpleNamespace) -> None:
    mesh = reordered.mesh
    conn = mesh.cells[0][1].copy()
    conn[[0, 1]] = conn[[1, 0]]
    conn[0, 0] = conn[5, 0] if conn[5, 0] not in conn[0] else conn[5, 1]
    other = Mesh(mesh.points, [("triangle", conn)])
    with pytest.raises(
        MeshError,
        match=r"^f\.vtu does not match the model's mesh: its 81 points "
        r"and 128 triangle cells vs the reference's 81 and 128 triangle cells: 1 ",
    ):
        match_meshes(mesh, other, what="f.vtu does not match the model's mesh")


def test_the_report_compares_the_meshes(reordered: SimpleNamespace, tmp_path: Path) -> None:
    from nirom.report.html import write_report

    def tables(path: Path) -> list[str]:
        page = path.read_text(encoding="utf-8")
        return re.findall(r"<h2>(?:Test metrics|Worst test samples).*?</table>", page)

    original = write_report(reordered.model, reordered.test, tmp_path / "original.html")
    shuffled = write_report(reordered.model, reordered.shuffled, tmp_path / "shuffled.html")
    assert len(tables(original)) == 2
    assert tables(shuffled) == tables(original)
    with pytest.raises(MeshError, match="does not match the model's mesh: its 25 points"):
        write_report(reordered.model, reordered.coarse, tmp_path / "r.html")


def test_quadrature_values_follow_the_cells_but_not_other_node_orders() -> None:
    points = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    model_mesh = Mesh(points, [("triangle", np.array([[0, 1, 2], [1, 3, 2]]))])
    swapped = Mesh(points, [("triangle", np.array([[1, 3, 2], [0, 1, 2]]))])
    spec = {"q": FieldSpec("q", "quadrature")}
    values = {"q": np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]])}  # 3 points per cell
    match = match_meshes(model_mesh, swapped, what="swapped")
    np.testing.assert_array_equal(match.to_target(values, spec)["q"], [[4, 5, 6, 1, 2, 3]])
    rotated = Mesh(points, [("triangle", np.array([[1, 2, 0], [1, 3, 2]]))])
    match = match_meshes(model_mesh, rotated, what="rotated")
    with pytest.raises(MeshError, match="'q' at quadrature points: the cells list their nodes"):
        match.to_target(values, spec)
    assert MeshMatch().to_target(values, spec)["q"] is values["q"]
