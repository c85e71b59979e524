"""The ``nirom`` command: real console script via subprocess, the rest via ``main``."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import meshio
import numpy as np
import pytest
import skfem

import nirom
from nirom import Dataset, Mesh, ParameterSpace, Uniform, import_folder
from nirom.cli import main

N = 5
MESH = Mesh.from_skfem(skfem.MeshTri().refined(2))
TIMES = [0.5, 1.5, 0.25, 2.0, 1.0]


def params(i: int) -> tuple[float, float]:
    return 1.0 + i, 0.5 * i


def make_folder(folder: Path) -> Path:
    folder.mkdir(parents=True)
    points = np.pad(MESH.points, ((0, 0), (0, 1)))
    x, y = MESH.points[:, 0], MESH.points[:, 1]
    lines = ["file,a,b,solve_time_s"]
    for i in range(N):
        a, b = params(i)
        m = meshio.Mesh(
            points,
            [(t, c) for t, c in MESH.cells],
            point_data={"u": a * x + b * y, "v": np.stack([a * x, b * y], axis=1)},
            cell_data={"s": [np.full(MESH.n_cells, a * b)]},
        )
        meshio.write(folder / f"run{i}.vtu", m)
        lines.append(f"run{i}.vtu,{a!r},{b!r},{TIMES[i]!r}")
    (folder / "parameters.csv").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_folder(tmp_path_factory.mktemp("cli") / "runs")


@pytest.fixture(scope="module")
def dataset(folder: Path) -> Path:
    """An imported dataset with 5 done samples and 1 failed one (id 5). Read-only."""
    path = folder.parent / "ds"
    ds = import_folder(folder, path)
    assert ds.record_failure({"a": 3.0, "b": 9.0}, "solver diverged") == N
    return path


def nirom_cmd(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        ["nirom", *map(str, args)], capture_output=True, text=True, env=env, timeout=120
    )


def assert_user_error(rc: int, err: str, *culprits: str) -> None:
    assert rc == 1
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error:")
    for culprit in culprits:
        assert culprit in lines[0]


# -- version / help -------------------------------------------------------------


def test_version() -> None:
    proc = nirom_cmd("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"nirom {nirom.__version__}"


def test_help_lists_verbs() -> None:
    proc = nirom_cmd("--help")
    assert proc.returncode == 0, proc.stderr
    section = proc.stdout.split("Commands", 1)[1]
    names = {m.group(1) for line in section.splitlines() if (m := re.match(r"\W*(\w+)\s{2}", line))}
    # Every verb the README lists under "The `nirom` command", and no other.
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    listed = readme.split("**The `nirom` command**:", 1)[1].split(".\n", 1)[0]
    documented = set(re.findall(r"`(\w+)`", listed))
    assert len(documented) >= 16
    assert names == documented


# -- info -------------------------------------------------------------------------


def test_info_prints_counts(dataset: Path) -> None:
    proc = nirom_cmd("info", dataset)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "5 done" in proc.stdout and "1 failed" in proc.stdout
    assert f"{MESH.n_points} points" in proc.stdout


def test_info_json(dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(dataset), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    ds = Dataset(dataset)
    assert summary["samples"]["done"] == len(ds) == N
    assert summary["samples"]["failed"] == len(ds.sample_ids("failed")) == 1
    assert summary["mesh"]["points"] == ds.mesh.n_points == MESH.n_points
    assert summary["mesh"]["cells"] == {"triangle": MESH.n_cells}
    assert [p["name"] for p in summary["parameters"]] == ["a", "b"]
    assert {f["name"] for f in summary["fields"]} == {"u", "v", "s"}
    times = summary["solve_time_s"]
    assert times["median"] == pytest.approx(np.median(TIMES))
    assert times["min"] == min(TIMES) and times["max"] == max(TIMES)
    assert times["total"] == pytest.approx(sum(TIMES))


# -- import -----------------------------------------------------------------------


def test_import_creates_dataset(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "imported"
    proc = nirom_cmd("import", folder, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert "Imported 5 samples" in proc.stdout
    ds = Dataset(out)
    assert ds.sample_ids() == list(range(N))
    assert set(ds.fields) == {"u", "v", "s"}
    np.testing.assert_array_equal(ds.parameters(), [params(i) for i in range(N)])


def test_import_selected_field(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "imported"
    assert main(["import", str(folder), "--out", str(out), "--field", "v"]) == 0
    assert list(Dataset(out).fields) == ["v"]


def test_import_with_space_file(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    space = tmp_path / "space.toml"
    space.write_text(
        '[[parameters]]\nname = "a"\nkind = "uniform"\nlow = 0.0\nhigh = 10.0\n\n'
        '[[parameters]]\nname = "b"\nkind = "uniform"\nlow = -1.0\nhigh = 4.0\nunit = "m"\n'
    )
    out = tmp_path / "imported"
    assert main(["import", str(folder), "--out", str(out), "--space", str(space)]) == 0
    assert capsys.readouterr().err == ""
    assert Dataset(out).space == ParameterSpace(
        [Uniform("a", 0.0, 10.0), Uniform("b", -1.0, 4.0, unit="m")]
    )


def test_import_malformed_space_file(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    space = tmp_path / "space.toml"
    space.write_text('[[parameters]\nname = "a"\n')
    out = tmp_path / "imported"
    rc = main(["import", str(folder), "--out", str(out), "--space", str(space)])
    assert_user_error(rc, capsys.readouterr().err, str(space))
    assert not out.exists()


def test_import_space_file_with_non_numeric_bound(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    space = tmp_path / "space.toml"
    space.write_text('[[parameters]]\nname = "a"\nkind = "uniform"\nlow = "zero"\nhigh = 1.0\n')
    rc = main(["import", str(folder), "--out", str(tmp_path / "ds"), "--space", str(space)])
    assert_user_error(rc, capsys.readouterr().err, str(space))


# -- export -----------------------------------------------------------------------


def test_export_one_sample(dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "vtu"
    proc = nirom_cmd("export", dataset, "--out", out, "--sample", "1")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["sample_000001.vtu"]
    m = meshio.read(out / "sample_000001.vtu")
    np.testing.assert_array_equal(m.point_data["u"], Dataset(dataset).sample(1).fields["u"])


def test_export_all_done_samples(
    dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "vtu"
    assert main(["export", str(dataset), "--out", str(out)]) == 0
    # The failed sample 5 is left out.
    assert sorted(p.name for p in out.iterdir()) == [f"sample_{i:06d}.vtu" for i in range(N)]
    assert "Wrote 5 file(s)" in capsys.readouterr().out


# -- demo -------------------------------------------------------------------------


def test_demo(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    proc = nirom_cmd("demo", "--out", out, "--samples", "8", "--test", "3", "--resolution", "6")
    assert proc.returncode == 0, proc.stderr
    ds = Dataset(out / "train.nirom")
    assert ds.sample_ids() == list(range(8))
    assert (out / "sample_000000.vtu").is_file()
    assert (out / "u_worst_sample.png").stat().st_size > 0


# -- user errors ------------------------------------------------------------------


def _garbage_meta(tmp: Path, dataset: Path) -> list[str]:
    (tmp / "ds").mkdir()
    (tmp / "ds" / "zarr.json").write_bytes(b"\x00\xffnot json at all {")
    return ["info", str(tmp / "ds")]


def _future_version(tmp: Path, dataset: Path) -> list[str]:
    shutil.copytree(dataset, tmp / "ds")
    meta_file = tmp / "ds" / "zarr.json"
    doc = json.loads(meta_file.read_text())
    doc["attributes"]["nirom"]["format_version"] = 999
    meta_file.write_text(json.dumps(doc))
    return ["info", str(tmp / "ds")]


def _plain_file(tmp: Path, dataset: Path) -> list[str]:
    (tmp / "notes.txt").write_text("hello")
    return ["info", str(tmp / "notes.txt")]


def _empty_dir(tmp: Path, dataset: Path) -> list[str]:
    (tmp / "empty").mkdir()
    return ["info", str(tmp / "empty")]


def _null_attributes(tmp: Path, dataset: Path) -> list[str]:
    (tmp / "ds").mkdir()
    (tmp / "ds" / "zarr.json").write_text('{"attributes": null}')
    return ["info", str(tmp / "ds")]


USER_ERRORS = [
    pytest.param(lambda tmp, ds: ["info", str(tmp / "nope")], ["{tmp}/nope"], id="info-missing"),
    pytest.param(_empty_dir, ["{tmp}/empty", "zarr.json"], id="info-empty-dir"),
    pytest.param(_plain_file, ["{tmp}/notes.txt", "not a directory"], id="info-file"),
    pytest.param(
        _garbage_meta, ["{tmp}/ds/zarr.json", "not valid JSON"], id="info-garbage-zarr-json"
    ),
    pytest.param(_future_version, ["{tmp}/ds", "version 999"], id="info-future-format"),
    pytest.param(
        lambda tmp, ds: ["import", str(tmp / "no-runs"), "--out", str(tmp / "x")],
        ["{tmp}/no-runs"],
        id="import-missing-folder",
    ),
    pytest.param(
        lambda tmp, ds: ["export", str(ds), "--out", str(tmp / "x"), "--sample", "42"],
        ["{ds}: no sample 42"],
        id="export-unknown-sample",
    ),
    pytest.param(
        _null_attributes,
        ["{tmp}/ds"],
        id="info-zarr-json-null-attributes",
    ),
    pytest.param(
        lambda tmp, ds: ["info", str(tmp / "results[old]")],
        ["{tmp}/results[old]"],
        id="culprit-with-brackets",
    ),
]


@pytest.mark.parametrize(("make_args", "culprits"), USER_ERRORS)
def test_user_error(
    make_args,
    culprits: list[str],
    dataset: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = make_args(tmp_path, dataset)
    rc = main(args)
    captured = capsys.readouterr()
    culprits = [c.format(tmp=tmp_path, ds=dataset) for c in culprits]
    assert_user_error(rc, captured.err, *culprits)
    assert "Traceback" not in captured.out


@pytest.mark.parametrize(
    ("option", "culprit"),
    [
        (["--energy", "2"], "discarded_energy must be a number in (0, 1)"),
        (["--discarded-energy", "0"], "discarded_energy must be a number in (0, 1)"),
        (["--modes", "0"], "n_modes must be a positive integer"),
        (
            ["--model", "pod-rbf", "-O", 'regressor_params={"kernel": "spline"}'],
            "unknown RBF kernel 'spline'",
        ),
        (["-O", 'regressor_params={"n_restart": 2}'], "unexpected keyword argument 'n_restart'"),
        (["--model", "fno", "-O", "epochs=0"], "epochs"),
    ],
)
def test_fit_refuses_bad_hyperparameters_before_reading_the_dataset(
    option: list[str], culprit: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if "fno" in option:
        pytest.importorskip("torch")
    missing = tmp_path / "not-a-dataset"  # reading it would be another error
    rc = main(["fit", str(missing), "--out", str(tmp_path / "m"), *option])
    assert_user_error(rc, capsys.readouterr().err, culprit)
    assert not (tmp_path / "m").exists()


def test_fit_energy_error_from_console_script(tmp_path: Path) -> None:
    proc = nirom_cmd("fit", tmp_path / "missing-ds", "--out", tmp_path / "m", "--energy", "2")
    assert_user_error(proc.returncode, proc.stderr, "discarded_energy", "got 2.0")


def test_user_error_from_console_script(tmp_path: Path) -> None:
    proc = nirom_cmd("info", tmp_path / "missing-ds")
    assert_user_error(proc.returncode, proc.stderr, str(tmp_path / "missing-ds"))
    assert proc.stdout == ""


def test_export_unknown_sample_from_console_script(dataset: Path, tmp_path: Path) -> None:
    proc = nirom_cmd("export", dataset, "--out", tmp_path / "x", "--sample", "42")
    assert_user_error(proc.returncode, proc.stderr, f"{dataset}: no sample 42")


# -- usage errors -----------------------------------------------------------------


def test_unknown_command_is_a_usage_error() -> None:
    proc = nirom_cmd("frobnicate")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "frobnicate" in proc.stderr


@pytest.mark.parametrize(
    "args", [["info"], ["import", "somewhere"], ["export", "ds"]], ids=["info", "import", "export"]
)
def test_missing_argument_is_a_usage_error(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "Missing" in err and "Traceback" not in err


# -- a model path where nothing is -----------------------------------------------------

MODEL_VERBS = {
    "predict": ["predict", "{m}", "-p", "a=1"],
    "evaluate": ["evaluate", "{m}", "{ds}"],
    "refine": ["refine", "{ds}", "{m}", "-n", "1"],
    "uq": ["uq", "{m}"],
    "sensitivity": ["sensitivity", "{m}"],
    "optimize": ["optimize", "{m}"],
    "calibrate": ["calibrate", "{m}", "{ds}"],
    "report": ["report", "{m}", "{ds}"],
    "serve": ["serve", "{m}"],
}


@pytest.mark.parametrize("args", MODEL_VERBS.values(), ids=MODEL_VERBS)
def test_missing_model_path_says_so(
    args: list[str], dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "typo.model"
    rc = main([a.format(m=missing, ds=dataset) for a in args])
    err = capsys.readouterr().err
    assert_user_error(rc, err, f"{missing}: no such model directory")


def test_loading_a_missing_model_says_so_and_a_folder_is_not_a_model(tmp_path: Path) -> None:
    from nirom.errors import ModelError
    from nirom.surrogates import Surrogate

    with pytest.raises(ModelError, match=r"typo\.model: no such model directory$"):
        Surrogate.load(tmp_path / "typo.model")
    with pytest.raises(ModelError, match=r": not a nirom model \(no model\.json\)$"):
        Surrogate.load(tmp_path)


# -- Ctrl-C ---------------------------------------------------------------------------

_SLOW_FIT = """
import sys, time
from nirom.cli import main
from nirom.surrogates.pod import PODSurrogate

def slow_fit(self, *args, **kwargs):
    print("fitting", flush=True)
    time.sleep(120)

PODSurrogate.fit = slow_fit
sys.exit(main(sys.argv[1:]))
"""


def test_ctrl_c_during_fit_says_nothing_was_saved(dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.model"
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_FIT, "fit", str(dataset), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal gives it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "fitting\n"
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines == [
        "error: interrupted (Ctrl-C) during fit; nothing was saved: run the command again"
    ]
    assert not out.exists()


def test_ctrl_c_during_generate_says_the_samples_done_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import nirom.generation

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(nirom.generation, "generate", interrupted)
    rc = main(["generate", "thermal-block", "-n", "2", "-o", str(tmp_path / "tb.nirom")])
    assert rc == 130
    assert capsys.readouterr().err.strip() == (
        "error: interrupted (Ctrl-C) during generate; the samples done are kept: "
        "run the command again to resume"
    )


# -- evaluate: fields one by one, meshes compared ------------------------------------------


def _evaluate_json(*args: str, capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(["evaluate", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_evaluate_named_fields_only(reordered, capsys: pytest.CaptureFixture[str]) -> None:
    model, test = str(reordered.model_path), str(reordered.test.path)
    report = _evaluate_json(model, test, "--field", "p", "-f", "g", capsys=capsys)
    assert list(report["fields"]) == ["p", "g"]
    assert report["fields"]["p"]["zero_reference_samples"] == [0, 2]
    rc = main(["evaluate", model, test, "--field", "sigma"])
    assert_user_error(rc, capsys.readouterr().err, "no field 'sigma'", "its fields: u, v, s, p, g")


def test_evaluate_flags_zero_references_in_the_table(
    reordered, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["evaluate", str(reordered.model_path), str(reordered.test.path)]) == 0
    out = capsys.readouterr().out
    assert "* p: the reference is zero in 2 of 4 samples (0, 2)" in out


def test_evaluate_matches_a_reordered_mesh_and_refuses_another(
    reordered, capsys: pytest.CaptureFixture[str]
) -> None:
    model = str(reordered.model_path)
    original = _evaluate_json(model, str(reordered.test.path), capsys=capsys)
    shuffled = _evaluate_json(model, str(reordered.shuffled.path), capsys=capsys)
    for name, figures in original["fields"].items():
        for key in ("relative_l2", "max_error", "projection_floor"):
            assert shuffled["fields"][name][key] == pytest.approx(figures[key], rel=1e-12)
    rc = main(["evaluate", model, str(reordered.coarse.path)])
    assert_user_error(
        rc, capsys.readouterr().err, "coarse.nirom does not match the model's mesh", "its 25 "
    )


def _mesh_file(mesh: Mesh, path: Path) -> Path:
    """``mesh`` as a VTU file (points padded to 3-D, as VTU stores them)."""
    meshio.write(path, meshio.Mesh(np.pad(mesh.points, ((0, 0), (0, 1))), list(mesh.cells)))
    return path


def test_predict_on_a_reordered_mesh_file(reordered, tmp_path: Path) -> None:
    mesh_file = _mesh_file(reordered.shuffled_mesh, tmp_path / "shuffled.vtu")
    out = tmp_path / "pred.vtu"
    model = str(reordered.model_path)
    rc = main(["predict", model, "-p", "a=0.7", "-p", "b=0.6", "--mesh", str(mesh_file)])
    assert rc == 0
    assert (
        main(
            [
                "predict",
                model,
                "-p",
                "a=0.7",
                "-p",
                "b=0.6",
                "--mesh",
                str(mesh_file),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    written = meshio.read(out)
    np.testing.assert_allclose(written.points[:, :2], reordered.shuffled_mesh.points)
    expected = reordered.model.predict({"a": 0.7, "b": 0.6})
    np.testing.assert_allclose(written.point_data["u"], expected["u"][reordered.perm])


def test_predict_refuses_a_mesh_file_of_another_mesh(
    reordered, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mesh_file = _mesh_file(reordered.coarse.mesh, tmp_path / "coarse.vtu")
    out = tmp_path / "pred.vtu"
    args = ["-p", "a=0.7", "-p", "b=0.6", "--mesh", str(mesh_file), "--out", str(out)]
    rc = main(["predict", str(reordered.model_path), *args])
    assert_user_error(
        rc, capsys.readouterr().err, "coarse.vtu does not match the model's mesh: its 25 points"
    )
    assert not out.exists()
