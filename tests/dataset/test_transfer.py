"""import_folder and export_sample: solver outputs in, ParaView files out."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import meshio
import numpy as np
import pytest
import skfem

from nirom import (
    Dataset,
    DatasetError,
    FieldError,
    FieldSpec,
    Mesh,
    MeshError,
    NiromError,
    ParameterError,
    ParameterSpace,
    Uniform,
    export_sample,
    import_folder,
)

N = 5
MESH = Mesh.from_skfem(skfem.MeshTri().refined(2))
FINE = Mesh.from_skfem(skfem.MeshTri().refined(3))


def params(i: int) -> tuple[float, float]:
    return 1.0 + i, 0.25 + 0.5 * i


def solve_time(i: int) -> float:
    return 0.125 * (i + 1)


def fields_for(a: float, b: float, mesh: Mesh = MESH) -> dict[str, np.ndarray]:
    x, y = mesh.points[:, 0], mesh.points[:, 1]
    return {
        "u": a * x + b * y * y,
        "v": np.stack([a * y, b - x], axis=1),
        "s": a * b + np.arange(mesh.n_cells) / mesh.n_cells,
    }


def write_file(path: Path, mesh: Mesh, fields: dict[str, np.ndarray], **kw) -> None:
    """One solver output: point fields u, v and cell field s (whichever are given)."""
    point = {k: v for k, v in fields.items() if k in ("u", "v")}
    cell = {k: [v] for k, v in fields.items() if k == "s"}
    points = mesh.points
    if path.suffix in (".vtu", ".vtk"):  # VTK stores 3 coordinates; avoid meshio's warning
        points = np.pad(points, ((0, 0), (0, 3 - points.shape[1])))
    m = meshio.Mesh(points, [(t, c) for t, c in mesh.cells], point_data=point, cell_data=cell)
    meshio.write(path, m, **kw)


def make_folder(root: Path, ext: str = "vtu", **kw) -> Path:
    folder = root / "runs"
    folder.mkdir()
    lines = ["file,a,b,solve_time_s"]
    for i in range(N):
        a, b = params(i)
        write_file(folder / f"s{i}.{ext}", MESH, fields_for(a, b), **kw)
        lines.append(f"s{i}.{ext},{a!r},{b!r},{solve_time(i)!r}")
    (folder / "parameters.csv").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return make_folder(tmp_path)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """Dataset path inside an empty folder of its own, so leftovers are visible."""
    (tmp_path / "store").mkdir()
    return tmp_path / "store" / "ds"


def check_imported(ds: Dataset, names=("u", "v", "s")) -> None:
    assert ds.sample_ids() == list(range(N))
    assert ds.counts() == {"done": N, "failed": 0, "staging": 0}
    expected = np.array([params(i) for i in range(N)])
    np.testing.assert_array_equal(ds.parameters(), expected)
    np.testing.assert_array_equal(ds.solve_times(), [solve_time(i) for i in range(N)])
    ds.mesh.check_matches(MESH, "imported mesh")
    for i in range(N):
        sample = ds.sample(i)
        assert sample.status == "done"
        assert sample.mu == dict(zip(("a", "b"), params(i), strict=True))
        assert sample.solve_time == solve_time(i)
        want = fields_for(*params(i))
        assert set(sample.fields) == set(ds.fields)
        for name in names:
            np.testing.assert_allclose(sample.fields[name], want[name], rtol=1e-12, atol=1e-12)


# -- happy path ----------------------------------------------------------------


def test_import_folder_reads_every_sample(folder: Path, out: Path) -> None:
    ds = import_folder(folder, out)
    assert ds.path == out and out.is_dir()
    check_imported(ds)
    assert ds.fields == {
        "u": FieldSpec("u", location="point", components=1),
        "v": FieldSpec("v", location="point", components=2),
        "s": FieldSpec("s", location="cell", components=1),
    }
    assert ds.field("v").shape == (N, MESH.n_points, 2)
    assert ds.field("s").shape == (N, MESH.n_cells)
    # Bounds inferred from the CSV's columns.
    assert ds.space == ParameterSpace([Uniform("a", 1.0, 5.0), Uniform("b", 0.25, 2.25)])
    assert ds.read_meta(3)["info"]["source"].endswith("s3.vtu")
    assert sorted(p.name for p in out.parent.iterdir()) == ["ds"]
    # Reopening from disk gives the same dataset.
    check_imported(Dataset(out))


def test_import_selected_fields_only(folder: Path, out: Path) -> None:
    ds = import_folder(folder, out, fields=["u"])
    assert list(ds.fields) == ["u"]
    check_imported(ds, names=("u",))


def test_import_from_legacy_vtk(tmp_path: Path, out: Path) -> None:
    folder = make_folder(tmp_path, ext="vtk")
    ds = import_folder(folder, out)
    check_imported(ds, names=("u", "s"))
    # Legacy VTK stores vectors with 3 components: the 2 written ones, then zeros.
    v = ds.field("v")
    for i in range(N):
        np.testing.assert_allclose(v[i][:, :2], fields_for(*params(i))["v"], atol=1e-12)
    np.testing.assert_array_equal(v[..., 2:], 0.0)


def test_import_from_xdmf(tmp_path: Path, out: Path) -> None:
    folder = make_folder(tmp_path, ext="xdmf", data_format="XML")
    ds = import_folder(folder, out)
    check_imported(ds)
    assert ds.field_spec("v").components == 2
    assert ds.field_spec("s").location == "cell"


def test_import_uses_given_space(folder: Path, out: Path) -> None:
    space = ParameterSpace([Uniform("b", -1.0, 3.0), Uniform("a", 0.0, 10.0, unit="W/m/K")])
    ds = import_folder(folder, out, space=space)
    assert ds.space == space
    assert ds.summary()["parameters"][1]["low"] == 0.0
    # Columns follow the space's order, not the CSV's.
    np.testing.assert_array_equal(ds.parameters(), [params(i)[::-1] for i in range(N)])


def test_import_constant_column_with_space(folder: Path, out: Path) -> None:
    csv = folder / "parameters.csv"
    csv.write_text("\n".join(_with_column(csv, "b", ["0.75"] * N)) + "\n")
    space = ParameterSpace([Uniform("a", 0.0, 10.0), Uniform("b", 0.0, 1.0)])
    ds = import_folder(folder, out, space=space)
    np.testing.assert_array_equal(ds.parameters()[:, 1], 0.75)


def test_value_outside_given_space_is_refused(folder: Path, out: Path) -> None:
    space = ParameterSpace([Uniform("a", 0.0, 4.5), Uniform("b", 0.0, 10.0)])
    with pytest.raises(ParameterError) as info:
        import_folder(folder, out, space=space)
    msg = str(info.value)
    assert "row 5" in msg and "'a'" in msg and "parameters.csv" in msg
    assert_nothing_left(out)


def test_value_outside_space_message_names_one_row(folder: Path, out: Path) -> None:
    space = ParameterSpace([Uniform("a", 0.0, 4.5), Uniform("b", 0.0, 10.0)])
    with pytest.raises(ParameterError) as info:
        import_folder(folder, out, space=space)
    assert "row 0" not in str(info.value)


# -- malformed input -----------------------------------------------------------


def assert_nothing_left(out: Path) -> None:
    assert not out.exists()
    assert list(out.parent.iterdir()) == []  # no .ds.importing-* or .creating-* folder


def _rows(csv: Path) -> list[list[str]]:
    return [line.split(",") for line in csv.read_text().splitlines()]


def _with_column(csv: Path, column: str, values: list[str]) -> list[str]:
    rows = _rows(csv)
    j = rows[0].index(column)
    for row, value in zip(rows[1:], values, strict=True):
        row[j] = value
    return [",".join(r) for r in rows]


def _set_cell(folder: Path, row: int, column: str, value: str) -> None:
    csv = folder / "parameters.csv"
    rows = _rows(csv)
    rows[row][rows[0].index(column)] = value
    csv.write_text("\n".join(",".join(r) for r in rows) + "\n")


def _rewrite(folder: Path, i: int, mesh: Mesh = MESH, **changes) -> None:
    fields = fields_for(*params(i), mesh=mesh)
    for name, value in changes.items():
        if value is None:
            del fields[name]
        else:
            fields[name] = value(fields[name]) if callable(value) else value
    write_file(folder / f"s{i}.vtu", mesh, fields)


def _csv_missing(folder: Path) -> None:
    (folder / "parameters.csv").unlink()


def _no_file_column(folder: Path) -> None:
    csv = folder / "parameters.csv"
    csv.write_text(csv.read_text().replace("file,", "path,", 1))


def _foreign(folder: Path) -> None:
    (folder / "s2.vtu").write_bytes(np.random.default_rng(0).bytes(4096))


def _truncated(folder: Path) -> None:
    data = (folder / "s2.vtu").read_bytes()
    (folder / "s2.vtu").write_bytes(data[: len(data) // 2])


def _moved(points: np.ndarray) -> Mesh:
    points = points.copy()
    points[7] += 0.05
    return Mesh(points, MESH.cells)


def _with(arr: np.ndarray, index, value: float) -> np.ndarray:
    arr = arr.copy()
    arr[index] = value
    return arr


MALFORMED = [
    pytest.param(_csv_missing, DatasetError, ["parameters.csv", "not found"], id="csv-missing"),
    pytest.param(_no_file_column, DatasetError, ["parameters.csv", "'file'"], id="no-file-column"),
    pytest.param(
        lambda f: _set_cell(f, 3, "a", "abc"),
        ParameterError,
        ["row 3", "'a'", "abc"],
        id="non-numeric",
    ),
    pytest.param(
        lambda f: _set_cell(f, 2, "b", "nan"),
        ParameterError,
        ["row 2", "'b'", "nan"],
        id="nan-parameter",
    ),
    pytest.param(
        lambda f: _set_cell(f, 4, "file", "nope.vtu"),
        DatasetError,
        ["row 4", "nope.vtu"],
        id="missing-file",
    ),
    pytest.param(
        _foreign,
        MeshError,
        ["s2.vtu"],
        id="foreign-file",
    ),
    pytest.param(
        _truncated,
        MeshError,
        ["s2.vtu"],
        id="truncated-file",
    ),
    pytest.param(
        lambda f: write_file(f / "s3.vtu", FINE, fields_for(*params(3), mesh=FINE)),
        MeshError,
        ["s3.vtu", f"{FINE.n_points} points"],
        id="different-mesh",
    ),
    pytest.param(
        lambda f: write_file(f / "s3.vtu", _moved(MESH.points), fields_for(*params(3))),
        MeshError,
        ["s3.vtu", "coordinates"],
        id="moved-coordinates",
    ),
    pytest.param(lambda f: _rewrite(f, 1, u=None), FieldError, ["s1.vtu", "'u'"], id="no-u"),
    pytest.param(
        lambda f: _rewrite(f, 4, u=lambda u: _with(u, 3, np.nan)),
        FieldError,
        ["s4.vtu", "'u'", "NaN"],
        id="nan-field",
    ),
    pytest.param(
        lambda f: _rewrite(f, 4, v=lambda v: _with(v, (0, 1), np.inf)),
        FieldError,
        ["s4.vtu", "'v'", "infinite"],
        id="inf-field",
    ),
    pytest.param(
        lambda f: _rewrite(f, 2, v=lambda v: np.pad(v, ((0, 0), (0, 1)))),
        FieldError,
        ["s2.vtu", "'v'", "3 components"],
        id="v-three-components",
    ),
    pytest.param(
        lambda f: (f / "parameters.csv").write_text(
            "\n".join(_with_column(f / "parameters.csv", "b", ["0.5"] * N)) + "\n"
        ),
        ParameterError,
        ["'b'", "constant"],
        id="constant-column",
    ),
]


@pytest.mark.parametrize(("damage", "error", "culprits"), MALFORMED)
def test_malformed_input_is_refused_and_leaves_nothing(
    folder: Path, out: Path, damage, error: type[NiromError], culprits: list[str]
) -> None:
    damage(folder)
    with pytest.raises(error) as info:
        import_folder(folder, out)
    assert isinstance(info.value, NiromError)
    msg = str(info.value)
    for culprit in culprits:
        assert culprit in msg
    assert "\n" not in msg
    assert_nothing_left(out)


def test_row_with_extra_values_is_refused(folder: Path, out: Path) -> None:
    _set_cell(folder, 2, "solve_time_s", "0.25,9")
    with pytest.raises(NiromError, match="row"):
        import_folder(folder, out)
    assert_nothing_left(out)


def test_existing_out_is_refused_and_left_alone(folder: Path, out: Path) -> None:
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    with pytest.raises(DatasetError, match="already exists"):
        import_folder(folder, out)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert (out / "keep.txt").read_text() == "precious"
    assert sorted(p.name for p in out.parent.iterdir()) == ["ds"]


# -- export ---------------------------------------------------------------------


@pytest.fixture
def imported(folder: Path, out: Path) -> Dataset:
    return import_folder(folder, out)


def test_export_sample_round_trips_fields(imported: Dataset, tmp_path: Path) -> None:
    target = tmp_path / "export" / "s2.vtu"
    assert export_sample(imported, 2, target) == [target]
    m = meshio.read(target)
    Mesh.from_meshio(m).check_matches(MESH, "exported mesh")
    want = fields_for(*params(2))
    assert set(m.point_data) == {"u", "v"}
    assert set(m.cell_data) == {"s"}
    np.testing.assert_allclose(m.point_data["u"], want["u"], atol=1e-12)
    np.testing.assert_allclose(m.point_data["v"], want["v"], atol=1e-12)
    np.testing.assert_allclose(np.concatenate(m.cell_data["s"]), want["s"], atol=1e-12)


def test_export_subset_of_fields(imported: Dataset, tmp_path: Path) -> None:
    target = tmp_path / "s0.vtu"
    export_sample(imported, 0, target, fields=["s"])
    m = meshio.read(target)
    assert set(m.point_data) == set() and set(m.cell_data) == {"s"}


def test_export_sample_writes_parameters_as_field_data(imported: Dataset, tmp_path: Path) -> None:
    target = tmp_path / "s2.vtu"
    export_sample(imported, 2, target)
    field_data = meshio.read(target).field_data
    a, b = params(2)
    assert set(field_data) == {"a", "b"}
    np.testing.assert_array_equal(field_data["a"], [a])
    np.testing.assert_array_equal(field_data["b"], [b])


def test_failed_sample_cannot_be_exported(imported: Dataset, tmp_path: Path) -> None:
    bad = imported.record_failure({"a": 2.0, "b": 1.0}, "solver diverged")
    assert bad == N
    target = tmp_path / "bad.vtu"
    with pytest.raises(DatasetError, match=f"sample {bad} is failed"):
        export_sample(imported, bad, target)
    assert not target.exists()


def test_export_time_series_writes_steps_and_pvd(tmp_path: Path) -> None:
    times = (0.0, 0.5, 1.0)
    space = ParameterSpace([Uniform("k", 0.0, 1.0)])
    ds = Dataset.create(tmp_path / "ts", space, [FieldSpec("T", times=times)], MESH)
    x = MESH.points[:, 0]
    series = np.stack([(1.0 + t) * x + t for t in times])
    assert series.shape == (3, MESH.n_points)
    sid = ds.append({"k": 0.3}, {"T": series})

    written = export_sample(ds, sid, tmp_path / "out" / "run.vtu")
    steps = [tmp_path / "out" / f"run_t{k:04d}.vtu" for k in range(3)]
    pvd = tmp_path / "out" / "run.pvd"
    assert written == [*steps, pvd]
    assert sorted((tmp_path / "out").iterdir()) == sorted(written)
    for k, step in enumerate(steps):
        np.testing.assert_allclose(meshio.read(step).point_data["T"], series[k], atol=1e-12)

    entries = ET.parse(pvd).getroot().findall("./Collection/DataSet")
    assert [float(e.get("timestep")) for e in entries] == list(times)
    assert [e.get("file") for e in entries] == [s.name for s in steps]


def test_export_unknown_sample_names_it(imported: Dataset, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no sample 42"):
        export_sample(imported, 42, tmp_path / "x.vtu")


def test_import_from_copied_folder_elsewhere(folder: Path, tmp_path: Path) -> None:
    """Paths in the CSV are relative to the folder, not to the working directory."""
    moved = tmp_path / "elsewhere" / "runs"
    shutil.copytree(folder, moved)
    ds = import_folder(moved, tmp_path / "ds2")
    assert len(ds) == N
