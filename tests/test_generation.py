"""Generation: designs solved into datasets, in process and on Dask, resumable after SIGKILL."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console

import nirom.generation
from nirom import Dataset, DatasetError, ParameterError, ParameterSpace, Uniform, generate
from nirom.cli import main
from nirom.solvers import Solver, SolverError, ThermalBlock

QUIET = Console(quiet=True)
SMALL = {"resolution": 12}


def test_in_process_generation_stores_the_design(tmp_path: Path) -> None:
    report = generate(
        "thermal-block", tmp_path / "tb", 6, workers=0, solver_options=SMALL, console=QUIET
    )
    ds = report.dataset
    assert (report.solved, report.failed, report.skipped) == (6, 0, 0)
    assert ds.sample_ids() == list(range(6))
    np.testing.assert_array_equal(ds.parameters(), ds.space.sample(6, "sobol", seed=0))
    assert np.all(ds.solve_times() > 0)
    solver = ThermalBlock(resolution=12)
    np.testing.assert_array_equal(ds.field("u", [4])[0], solver.solve(ds.sample(4).mu)["u"])
    assert ds.provenance["generation"] == {
        "solver": solver.recipe(),
        "design": "sobol",
        "seed": 0,
    }


def test_rerun_skips_extends_and_refuses_changes(tmp_path: Path) -> None:
    out = tmp_path / "tb"
    generate("thermal-block", out, 4, workers=0, solver_options=SMALL, console=QUIET)
    again = generate("thermal-block", out, 4, workers=0, solver_options=SMALL, console=QUIET)
    assert (again.solved, again.skipped) == (0, 4)
    grown = generate("thermal-block", out, 8, workers=0, solver_options=SMALL, console=QUIET)
    assert (grown.solved, grown.skipped) == (4, 4)
    np.testing.assert_array_equal(
        Dataset(out).parameters(), ThermalBlock(resolution=12).space.sample(8, "sobol", seed=0)
    )
    with pytest.raises(DatasetError, match="seed = 0, this run asks for 1"):
        generate("thermal-block", out, 8, seed=1, workers=0, solver_options=SMALL, console=QUIET)
    with pytest.raises(DatasetError, match="generated with solver"):
        generate(
            "thermal-block", out, 8, workers=0, solver_options={"resolution": 24}, console=QUIET
        )
    lhs = tmp_path / "lhs"
    generate("thermal-block", lhs, 4, design="lhs", workers=0, solver_options=SMALL, console=QUIET)
    with pytest.raises(DatasetError, match="n_samples = 4, this run asks for 5"):
        generate(
            "thermal-block", lhs, 5, design="lhs", workers=0, solver_options=SMALL, console=QUIET
        )


def test_dask_workers_give_the_same_samples(tmp_path: Path) -> None:
    local = generate(
        "thermal-block", tmp_path / "a", 6, workers=0, solver_options=SMALL, console=QUIET
    )
    dask = generate(
        "thermal-block", tmp_path / "b", 6, workers=2, solver_options=SMALL, console=QUIET
    )
    assert (dask.solved, dask.failed) == (6, 0)
    assert (dask.ran_on, local.ran_on) == ("dask", "process")  # as asked, though small
    np.testing.assert_array_equal(dask.dataset.field("u"), local.dataset.field("u"))
    np.testing.assert_array_equal(dask.dataset.parameters(), local.dataset.parameters())


class Fragile(Solver):
    """A solver that fails for a > 0.7 (raises) and returns NaN for 0.5 < a <= 0.7."""

    name = "fragile"

    def __init__(self) -> None:
        self.space = ParameterSpace([Uniform("a", 0.0, 1.0)])
        self.mesh = None
        from nirom import FieldSpec

        self.fields = [FieldSpec("y", location="global")]
        self.options = {}

    def solve(self, mu: Mapping[str, Any]) -> dict[str, np.ndarray]:
        a = self.space.validate(mu)["a"]
        if a > 0.7:
            raise np.linalg.LinAlgError("Singular matrix")
        return {"y": np.float64(np.nan if a > 0.5 else a**2)}


def test_solver_errors_become_failed_samples(tmp_path: Path) -> None:
    report = generate(Fragile(), tmp_path / "f", 8, design="grid", workers=0, console=QUIET)
    ds = report.dataset
    statuses = ds.statuses()
    assert [statuses[i] for i in range(8)] == ["done"] * 4 + ["failed"] * 4
    errors = {i: ds.read_meta(i)["error"] for i in range(4, 8)}
    assert "sample 4: field 'y': 1 NaN" in errors[4]  # the store's own check
    assert errors[7].startswith("LinAlgError: Singular matrix (at test_generation.py:")
    assert sorted(i for i, _ in report.failures) == [4, 5, 6, 7]
    np.testing.assert_allclose(ds.field("y"), ds.parameters()[:, 0] ** 2)


def test_sub_space_and_bad_arguments(tmp_path: Path) -> None:
    tb = ThermalBlock(resolution=12)
    narrow = ParameterSpace([type(p)(p.name, 1.0, 2.0) for p in tb.space.scalars])
    report = generate(tb, tmp_path / "n", 4, space=narrow, workers=0, console=QUIET)
    assert np.all((report.dataset.parameters() >= 1.0) & (report.dataset.parameters() <= 2.0))
    wide = ParameterSpace([type(p)(p.name, 0.01, 2.0) for p in tb.space.scalars])
    with pytest.raises(ParameterError, match="'k_0': bounds .* leave the solver's"):
        generate(tb, tmp_path / "w", 4, space=wide, workers=0, console=QUIET)
    with pytest.raises(ParameterError, match="unknown design 'halton'"):
        generate(tb, tmp_path / "h", 4, design="halton", workers=0, console=QUIET)
    with pytest.raises(SolverError, match="unknown solver 'nope'"):
        generate("nope", tmp_path / "x", 4, workers=0, console=QUIET)
    with pytest.raises(SolverError, match="bad options"):
        generate("thermal-block", tmp_path / "x", 4, solver_options={"colour": 1}, console=QUIET)
    assert not (tmp_path / "x").exists()


def test_cli_user_errors_are_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    args = ["generate", "thermal-block", "-n", "2", "--out", str(tmp_path / "d"), "-w", "0"]
    assert main([*args, "--solver-option", "resolution"]) == 1
    assert "solver option 'resolution': expected NAME=VALUE" in capsys.readouterr().err
    assert main([*args, "--solver-option", "resolution=10"]) == 1
    assert "resolution 10 must be a multiple" in capsys.readouterr().err


def wait_for(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def done_count(path: Path) -> int:
    try:
        return len(Dataset(path))
    except DatasetError:
        return 0


def test_sigkill_mid_generation_then_resume_matches_a_clean_run(tmp_path: Path) -> None:
    # 44 samples still to solve when the kill is sent: a few seconds of margin even when
    # polling the dataset is slow on a loaded machine (24 left too little, a race).
    n = 48
    opts = ["--solver-option", "resolution=192"]  # ~37k nodes, ~0.1 s a solve
    out = tmp_path / "killed"
    cmd = [
        sys.executable,
        "-m",
        "nirom.cli",
        "generate",
        "thermal-block",
        "-n",
        str(n),
        "--out",
        str(out),
        "-w",
        "2",
        *opts,
    ]
    # Its own session, so SIGKILL reaches the Dask workers too (a killed job).
    proc = subprocess.Popen(
        cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(lambda: done_count(out) >= 4, timeout=120)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    ds = Dataset(out)
    done_before = ds.sample_ids()
    assert 4 <= len(done_before) < n, "the kill must land mid-run"
    before = ds.field("u", done_before)

    resumed = subprocess.run([*cmd, "--retry-failed"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"already on disk {len(done_before)}" in " ".join(resumed.stdout.split())

    ds = Dataset(out)
    assert ds.sample_ids(None) == list(range(n))  # every sample exactly once
    assert ds.sample_ids() == list(range(n))
    np.testing.assert_array_equal(ds.field("u", done_before), before)  # untouched
    clean = generate(
        "thermal-block",
        tmp_path / "clean",
        n,
        workers=0,
        solver_options={"resolution": 192},
        console=QUIET,
    ).dataset
    np.testing.assert_array_equal(ds.parameters(), clean.parameters())
    np.testing.assert_array_equal(ds.field("u"), clean.field("u"))


def test_bad_scheduler_address_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    args = ["generate", "thermal-block", "-n", "2", "--out", str(tmp_path / "d")]
    assert main([*args, "--scheduler", "nonsense://x", "-s", "resolution=12"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "--scheduler 'nonsense://x': expected tcp://HOST:PORT" in err
    assert not (tmp_path / "d").exists()


def test_generation_into_an_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    report = generate(
        "thermal-block", tmp_path / "empty", 2, workers=0, solver_options=SMALL, console=QUIET
    )
    assert report.solved == 2


DARCY = {"resolution": 9, "solve_resolution": 17}


def test_field_inputs_are_drawn_from_the_solvers_prior_on_any_worker(tmp_path: Path) -> None:
    from nirom.solvers import Darcy

    here = generate("darcy", tmp_path / "a", 3, seed=5, workers=0, solver_options=DARCY)
    dask = generate("darcy", tmp_path / "b", 3, seed=5, workers=1, solver_options=DARCY)
    assert (here.solved, dask.solved) == (3, 3)
    solver = Darcy(**DARCY)
    for i in range(3):
        drawn = solver.draw_field_inputs(i, 5)["a"]
        np.testing.assert_array_equal(here.dataset.field_input("a", [i])[0], drawn)
        np.testing.assert_array_equal(dask.dataset.field_input("a", [i])[0], drawn)
        np.testing.assert_array_equal(
            dask.dataset.field("u", [i])[0], solver.solve({"a": drawn})["u"]
        )
    other = generate("darcy", tmp_path / "c", 1, seed=6, workers=0, solver_options=DARCY)
    assert not np.array_equal(
        other.dataset.field_input("a", [0]), here.dataset.field_input("a", [0])
    )
    grown = generate("darcy", tmp_path / "a", 4, seed=5, workers=0, solver_options=DARCY)
    assert (grown.solved, grown.skipped) == (1, 3)
    with pytest.raises(DatasetError, match="seed = 5, this run asks for 6"):
        generate("darcy", tmp_path / "a", 4, seed=6, workers=0, solver_options=DARCY)


def captured() -> tuple[Console, io.StringIO]:
    """A console writing into a string (wide: one message, one line)."""
    text = io.StringIO()
    return Console(file=text, width=400), text


def test_a_few_cheap_samples_are_solved_in_this_process_and_it_says_so(tmp_path: Path) -> None:
    console, text = captured()
    report = generate("thermal-block", tmp_path / "a", 4, solver_options=SMALL, console=console)
    assert (report.solved, report.ran_on) == (4, "process")
    line = text.getvalue().splitlines()[0]
    assert line.startswith("4 samples of about ")
    assert line.endswith(
        "s: solving in this process (a cluster would cost more to start, about 5 s, than it saves)"
    )


def test_slow_samples_go_to_a_cluster_and_explicit_choices_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def on_dask(solver, ds, todo, workers, scheduler, seed, report) -> None:
        calls.append(([i for i, _ in todo], workers, scheduler))

    monkeypatch.setattr(nirom.generation, "_run_on_dask", on_dask)
    monkeypatch.setattr(nirom.generation, "cluster_pays", lambda *args: True)  # slow ones
    console, text = captured()
    report = generate("thermal-block", tmp_path / "a", 4, solver_options=SMALL, console=console)
    assert calls.pop() == ([1, 2, 3], 2, None) and report.ran_on == "dask"
    assert "starting a local cluster of 2 worker processes for the other 3" in text.getvalue()

    monkeypatch.setattr(nirom.generation, "cluster_pays", lambda *args: False)
    monkeypatch.setattr(nirom.generation, "check_workers", lambda *args: None)
    console, text = captured()
    address = "tcp://127.0.0.1:8786"
    generate(
        "thermal-block", tmp_path / "b", 3, scheduler=address, solver_options=SMALL, console=console
    )
    assert calls.pop() == ([0, 1, 2], 0, address) and text.getvalue() == ""


def test_a_killed_worker_is_a_failed_sample_named_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dask
    import distributed  # noqa: F401  (its config defaults before dask.config.set)

    def die(*args: object, **kwargs: object) -> None:  # sent by value: runs on the worker
        os._exit(3)

    monkeypatch.setattr(nirom.generation, "solve_on_worker", die)
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        report = generate(
            "thermal-block", tmp_path / "a", 1, workers=1, solver_options=SMALL, console=QUIET
        )
    [(sample_id, reason)] = report.failures
    assert sample_id == 0
    assert reason.startswith("worker error: the Dask worker running die died 1 time(s), last tcp")
