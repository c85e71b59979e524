"""The built-in mechanics cases through generation, the dataset, `nirom info` and `nirom export`."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import meshio
import numpy as np
import pytest

from nirom.cli import main
from nirom.dataset import Dataset, import_folder, quadrature_points
from nirom.errors import ParameterError
from nirom.solvers import SolverError, make_solver

SMALL_PLATE = ["-s", "resolution=3", "-s", "steps_per_cycle=8"]


def _cycle_ends(ds: Dataset, i: int, steps: int) -> np.ndarray:
    p = ds.sample(i).fields["p_qp"]  # (n_times, n_qp)
    return p[steps::steps].max(axis=1)


def _generate_plate(out: Path, options: list[str], workers: str = "0") -> Dataset:
    args = ["generate", "plate-hole", "--samples", "4", "--out", str(out), "-w", workers]
    assert main(args + options) == 0
    return Dataset(out)


def test_plate_hole_generation_grows_plastic_strain_and_exports_to_paraview(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = _generate_plate(tmp_path / "plate", SMALL_PLATE)
    assert len(ds) == 4 and ds.sample_ids("failed") == []
    assert ds.format_version == 2 and ds.quadrature.cell_type == "triangle6"
    assert set(ds.fields) == {"u", "sigma", "von_mises", "p", "sigma_qp", "p_qp"}
    for i in ds.sample_ids():
        ends = _cycle_ends(ds, i, 8)  # p at the end of each half cycle
        assert np.all(np.diff(ends) > 0) and ends[0] > 0, ends
        assert ds.read_meta(i)["info"]["newton_iterations"] > 0
    sample = ds.sample(0)
    assert sample.fields["u"].shape == (17, ds.mesh.n_points, 2)
    assert sample.fields["sigma_qp"].shape == (17, ds.mesh.n_cells * 3, 4)
    # The quadrature points a reader places lie in the plate, off the hole.
    xq = quadrature_points(ds.mesh, ds.quadrature)
    assert np.hypot(xq[:, 0], xq[:, 1]).min() > 10.0 and xq.max() < 100.0

    assert main(["info", str(ds.path)]) == 0
    text = capsys.readouterr().out
    assert "quadrature" in text and "3 points per triangle6 cell" in text

    out = tmp_path / "vtu"
    assert main(["export", str(ds.path), "--out", str(out), "--sample", "1"]) == 0
    pvd = out / "sample_000001.pvd"
    entries = ElementTree.parse(pvd).getroot().iter("DataSet")
    files = [pvd.parent / e.attrib["file"] for e in entries]
    assert len(files) == 17
    last = meshio.read(files[-1])
    assert {"u", "sigma", "von_mises", "p"} <= set(last.point_data)
    assert last.cells[0].type == "triangle6"
    np.testing.assert_allclose(last.point_data["p"], ds.sample(1).fields["p"][-1], atol=1e-12)
    cloud = meshio.read(out / "sample_000001_qp_t0016.vtu")
    np.testing.assert_allclose(cloud.point_data["p_qp"], ds.sample(1).fields["p_qp"][-1])


def test_external_time_series_import_as_a_mechanics_dataset(tmp_path: Path) -> None:
    # An external code's output: one .pvd collection (a file per step) per sample.
    solver = make_solver(
        "thick-cylinder",
        {"resolution": 2, "steps": 2, "law": "elastic", "parameters": ["pressure"]},
    )
    folder = tmp_path / "runs"
    rows = ["file,pressure"]
    for k, pressure in enumerate((60.0, 90.0)):
        fields = solver.solve({"pressure": pressure})
        from nirom.dataset import write_fields

        specs = [s for s in solver.fields if s.location == "point"]
        write_fields(folder / f"run{k}" / "out.vtu", solver.mesh, specs, fields)
        rows.append(f"run{k}/out.pvd,{pressure}")
    (folder / "parameters.csv").write_text("\n".join(rows) + "\n")
    ds = import_folder(folder, tmp_path / "imported", fields=["u", "p"])
    assert ds.fields["u"].times == tuple(solver.times) and ds.fields["u"].components == 2
    u = ds.field("u")
    assert u.shape == (2, len(solver.times), solver.mesh.n_points, 2)
    np.testing.assert_allclose(u[1, 2], 1.5 * u[0, 2], rtol=1e-9)  # linear in the pressure


def test_a_sample_past_the_limit_pressure_is_recorded_failed_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    args = [
        "generate",
        "thick-cylinder",
        "--samples",
        "2",
        "--out",
        str(tmp_path / "cyl"),
        "-w",
        "0",
        "--design",
        "grid",
        "-s",
        "resolution=2",
        "-s",
        "steps=3",
        "-s",
        'parameters=["pressure"]',
        "-s",
        'bounds={"pressure": [150, 260]}',
    ]
    assert main(args) == 0
    ds = Dataset(tmp_path / "cyl")
    limit = 2 / np.sqrt(3) * 250.0 * np.log(2.0)  # 200 MPa at the nominal sigma_y
    failed = ds.sample_ids("failed")
    assert failed == [1] and ds.sample_ids() == [0]
    for i in failed:
        meta = ds.read_meta(i)
        assert meta["mu"]["pressure"] > limit
        assert "Newton failed" in meta["error"] and "minimum step" in meta["error"]
    assert all(ds.read_meta(i)["mu"]["pressure"] < limit for i in ds.sample_ids())


def test_case_options_are_checked_with_one_line_errors() -> None:
    with pytest.raises(ParameterError, match="parameters must be distinct names"):
        make_solver("plate-hole", {"parameters": ["load", "sigma_y"]})
    with pytest.raises(ParameterError, match="bounds given for"):
        make_solver("plate-hole", {"bounds": {"K": [1, 2]}})
    with pytest.raises(ParameterError, match="degree"):
        make_solver("plate-hole", {"degree": 3})
    with pytest.raises(SolverError, match="bad options"):
        make_solver("thick-cylinder", {"color": "red"})


@pytest.mark.slow
def test_plate_hole_with_default_options_on_two_workers(tmp_path: Path) -> None:
    ds = _generate_plate(tmp_path / "plate", [], workers="2")
    assert len(ds) == 4
    for i in ds.sample_ids():
        ends = _cycle_ends(ds, i, 10)
        assert np.all(np.diff(ends) > 0), ends


def test_extruded_plate_is_a_conforming_3d_mesh_with_the_hole_on_its_cylinder() -> None:
    import skfem

    from nirom.mechanics.meshes import extrude, plate_with_hole, quadratic
    from nirom.mechanics.space import DisplacementSpace

    plane = plate_with_hole(10.0, 50.0, 100.0, 3)
    solid = extrude(plane, 4.0, 2)
    assert isinstance(solid, skfem.MeshTet1)
    assert set(solid.boundaries) == {"hole", "left", "bottom", "right", "top", "back", "front"}
    # Conforming: every interior face is shared by exactly two cells, so the boundary
    # faces are the plane mesh's boundary edges times layers (2 each) plus both caps.
    n_boundary_edges = plane.boundary_facets().size
    assert solid.boundary_facets().size == 2 * 2 * n_boundary_edges + 2 * plane.t.shape[1]
    space = DisplacementSpace(quadratic(solid, {"hole": (0.0, 0.0, 10.0)}), 2)
    exact = 4.0 * (50.0 * 100.0 - np.pi * 10.0**2 / 4)
    assert abs(space.quadrature_weights().sum() - exact) < 1e-6 * exact
    x = space.mesh.points[space.boundary_nodes("hole")]
    assert np.abs(np.hypot(x[:, 0], x[:, 1]) - 10.0).max() < 1e-12


def test_3d_plate_hole_solves_with_symmetry_on_its_back_face() -> None:
    case = make_solver(
        "plate-hole", {"layers": 1, "resolution": 2, "degree": 1, "cycles": 1, "steps_per_cycle": 4}
    )
    assert case.fe_space.dim == 3
    fields = case.solve(case.space.as_dict(case.space.from_unit(np.full((1, 3), 0.5))[0]))
    u = fields["u"]  # (times, nodes, 3)
    back = case.fe_space.boundary_nodes("back")
    assert np.abs(u[:, back, 2]).max() == 0.0
    assert np.abs(u[:, :, 1]).max() > 0.0 and fields["sigma"].shape[-1] == 6


def test_strains_past_the_small_strain_range_are_warned_once_in_record_and_console(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An over-loaded viscoplastic plate converges to large strains: each such sample's
    record says so, and the generation prints it once."""
    options = {
        "resolution": 2,
        "degree": 1,
        "cycles": 1,
        "steps_per_cycle": 4,
        "parameters": ["load"],
        "bounds": {"load": [100.0, 500.0]},  # grid: 200 and 400 MPa
    }
    args = ["generate", "plate-hole", "-n", "2", "--design", "grid", "-o", str(tmp_path / "p")]
    args += ["-w", "0"] + [a for k, v in options.items() for a in ("-s", f"{k}={json.dumps(v)}")]
    with pytest.warns(UserWarning, match="small-strain"):
        assert main(args) == 0
    out = capsys.readouterr().out
    assert out.count("small-strain range") == 1 and "warning: sample 1" in out
    ds = Dataset(tmp_path / "p")
    warned = {i: ds.read_meta(i)["info"].get("warnings") for i in ds.sample_ids()}
    assert warned[0] is None  # 200 MPa stays small
    assert "strains reach" in warned[1][0]
