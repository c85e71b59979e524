"""CommandSolver: a real external program run per sample, and every way it can fail."""

from __future__ import annotations

import json
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from nirom import Dataset, generate
from nirom.solvers import SolverError, make_solver
from nirom.solvers.command import CommandSolver

# The external program: behaviour chosen by the parameter k in [0, 4].
RUN_PY = textwrap.dedent(
    """
    import json, sys, time

    k = json.load(open("input.json"))["k"]
    print(f"solving for k={k}", flush=True)
    if k < 0.5:
        print("diverged: residual 1e+30", file=sys.stderr)
        sys.exit(3)
    if k < 1.0:
        import subprocess
        child = subprocess.Popen(["sleep", "60"])  # a grandchild the timeout must kill too
        open("child.pid", "w").write(str(child.pid))
        time.sleep(60)
    if k < 1.5:
        sys.exit(0)  # forgets to write its output
    import numpy as np
    import meshio
    n = 5
    x, y = np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n))
    points = np.column_stack([x.ravel(), y.ravel()])
    cells = []
    for j in range(n - 1):
        for i in range(n - 1):
            a = j * n + i
            cells += [[a, a + 1, a + n + 1], [a, a + n + 1, a + n]]
    u = k * points[:, 0]
    if 2.5 <= k < 3.0:
        u[3] = np.nan
    flux = np.full(len(cells), k)
    meshio.write("result.vtu", meshio.Mesh(points, [("triangle", np.array(cells))],
                 point_data={"u": u}, cell_data={"flux": [flux]}))
    """
)


def _set_timeout(config: Path, seconds: float) -> None:
    """Give the toy solver another timeout (the fixture's 120 s never fires on a busy machine)."""
    text = config.read_text().replace("timeout = 120.0", f"timeout = {seconds}")
    config.write_text(text)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    template = tmp_path / "template"
    template.mkdir()
    (template / "run.py").write_text(RUN_PY)
    (template / "input.json.j2").write_text('{"k": {{ k }}, "all": {{ mu | tojson }}}\n')
    cfg = tmp_path / "solver.toml"
    cfg.write_text(
        textwrap.dedent(
            f"""
            name = "toy"
            template = "template"
            command = [{json.dumps(sys.executable)}, "run.py"]
            timeout = 120.0
            output = "result.vtu"
            fields = ["u", "flux"]

            [[parameters]]
            name = "k"
            kind = "uniform"
            low = 0.0
            high = 4.0
            """
        )
    )
    return cfg


def test_probe_run_gives_mesh_and_fields(config: Path) -> None:
    solver = CommandSolver(config)
    assert solver.mesh.n_points == 25 and solver.mesh.dim == 2
    assert [(f.name, f.location) for f in solver.fields] == [("u", "point"), ("flux", "cell")]
    fields = solver.solve({"k": 3.5})
    np.testing.assert_allclose(fields["u"], 3.5 * solver.mesh.points[:, 0])
    np.testing.assert_allclose(fields["flux"], 3.5)
    assert solver.run_info["exit_code"] == 0
    assert "solving for k=3.5" in solver.run_info["stdout_tail"]
    assert not Path(solver.run_info["workdir"]).exists()  # keep = "failed": done runs removed


@pytest.mark.parametrize(
    ("k", "match"),
    [
        (0.25, r"exited with status 3.*diverged: residual 1e\+30"),
        (0.75, r"timed out after 1 s"),
        (1.25, r"output 'result.vtu' missing"),
        (2.75, r"field 'u' has 1 NaN"),
    ],
)
def test_each_failure_is_a_solver_error_with_its_reason(config: Path, k: float, match: str) -> None:
    if k == 0.75:
        _set_timeout(config, 1.0)  # the run sleeps 60 s: any load only makes it time out
    solver = CommandSolver(config)
    with pytest.raises(SolverError, match=match):
        solver.solve({"k": k})
    assert Path(solver.run_info["workdir"]).is_dir()  # failed runs are kept for a look


def test_generation_records_failures_and_goes_on(config: Path, tmp_path: Path) -> None:
    quiet = Console(quiet=True)
    _set_timeout(config, 5.0)  # sample 1 sleeps; the others finish in well under 5 s
    # A grid of 8 points puts two samples in each success band and one in each failure.
    report = generate(config, tmp_path / "ds", 8, design="grid", workers=0, console=quiet)
    ds = Dataset(tmp_path / "ds")
    assert (report.solved, report.failed) == (4, 4)
    assert ds.statuses() == {
        0: "failed",
        1: "failed",
        2: "failed",
        3: "done",
        4: "done",
        5: "failed",
        6: "done",
        7: "done",
    }
    reasons = {i: ds.read_meta(i)["error"] for i in (0, 1, 2, 5)}
    assert "status 3" in reasons[0] and "timed out" in reasons[1]
    assert "missing" in reasons[2] and "NaN" in reasons[5]
    assert ds.read_meta(3)["info"]["exit_code"] == 0
    np.testing.assert_allclose(ds.field("u", [3])[0], 1.75 * ds.mesh.points[:, 0])
    # Rerun: done samples stay, failed ones stay failed unless retried.
    again = generate(config, tmp_path / "ds", 8, design="grid", workers=0, console=quiet)
    assert (again.solved, again.failed, again.skipped) == (0, 0, 8)
    retried = generate(
        config, tmp_path / "ds", 8, design="grid", workers=0, retry_failed=True, console=quiet
    )
    assert (retried.solved, retried.failed, retried.skipped) == (0, 4, 4)


def test_recipe_rebuilds_the_solver(config: Path) -> None:
    solver = CommandSolver(config)
    twin = make_solver("command", solver.recipe()["options"])
    np.testing.assert_array_equal(twin.solve({"k": 2.0})["u"], solver.solve({"k": 2.0})["u"])


def test_reference_mesh_file_skips_the_probe(config: Path, tmp_path: Path) -> None:
    solver = CommandSolver(config)
    assert solver.mesh.n_points == 25  # runs the probe
    probe_output = solver.workdir / "probe" / "result.vtu"
    reference = tmp_path / "reference.vtu"
    reference.write_bytes(probe_output.read_bytes())
    text = config.read_text().replace(
        'output = "result.vtu"',
        'output = "result.vtu"\nmesh = "reference.vtu"\nworkdir = "other-runs"',
    )
    config.write_text(text)
    fresh = CommandSolver(config)
    assert fresh.mesh == solver.mesh
    assert not (tmp_path / "other-runs" / "probe").exists()


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda t: t.replace('template = "template"\n', ""), "missing 'template'"),
        (lambda t: t.replace('"template"', '"nowhere"'), "template folder .* not found"),
        (lambda t: t.replace("timeout = 120.0", 'timeout = "soon"'), "timeout"),
        (lambda t: t + "\n[[[broken", "not a readable TOML file"),
        (lambda t: t.replace('kind = "uniform"', 'kind = "gaussian"'), "unknown kind 'gaussian'"),
        (
            lambda t: t.replace('output = "result.vtu"', 'output = "result.vtu"\nkeep = "some"'),
            "keep must be one of",
        ),
    ],
)
def test_bad_config_names_the_problem(config: Path, edit, match: str) -> None:
    config.write_text(edit(config.read_text()))
    with pytest.raises(SolverError, match=match):
        CommandSolver(config)


def test_missing_program_and_template_errors(config: Path) -> None:
    config.write_text(
        config.read_text().replace(json.dumps(sys.executable), '"no-such-program-xyz"')
    )
    with pytest.raises(SolverError, match="cannot run 'no-such-program-xyz'"):
        _ = CommandSolver(config).mesh
    config.write_text(
        config.read_text().replace('"no-such-program-xyz"', json.dumps(sys.executable))
    )
    (config.parent / "template" / "input.json.j2").write_text('{"k": {{ kk }}}')
    with pytest.raises(SolverError, match="input.json.j2: template error .*'kk' is undefined"):
        CommandSolver(config).solve({"k": 2.0})


def test_mesh_mismatch_is_a_failure(config: Path) -> None:
    solver = CommandSolver(config)
    assert solver.mesh.n_points == 25  # probe on the 5 x 5 grid
    run_py = config.parent / "template" / "run.py"
    run_py.write_text(run_py.read_text().replace("n = 5", "n = 6"))
    with pytest.raises(SolverError, match="mesh has 36 points, the reference mesh has 25"):
        solver.solve({"k": 2.0})


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited


def test_timeout_kills_the_whole_process_group_and_keeps_logs(config: Path) -> None:
    solver = CommandSolver(config)  # the probe runs under the fixture's long timeout
    # The run must reach its sleep (and start the grandchild) before the timeout fires: on a
    # loaded machine Python's start-up alone may take longer than 1 s, so the timeout grows
    # until a run got that far. Each run is still killed by the timeout (it sleeps 60 s).
    for seconds in (1.0, 4.0, 16.0):
        solver.timeout = seconds
        with pytest.raises(SolverError, match="timed out"):
            solver.solve({"k": 0.75})
        work = Path(solver.run_info["workdir"])
        if (work / "child.pid").is_file() and (work / "child.pid").read_text():
            break
    grandchild = int((work / "child.pid").read_text())
    # SIGKILL is delivered asynchronously: on a loaded machine the process may still be
    # listed for a moment. Left alone it would live 60 s, so 20 s of grace decides nothing.
    deadline = time.monotonic() + 20
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(grandchild)
    assert "solving for k=0.75" in (work / "stdout.txt").read_text()


def test_workers_rebuilt_from_the_recipe_run_no_probe(config: Path) -> None:
    solver = CommandSolver(config)
    recipe = solver.recipe()
    assert recipe["options"]["reference"].endswith("probe/result.vtu")
    twin = make_solver("command", recipe["options"])
    assert twin.mesh == solver.mesh
    runs = sorted(p.name for p in solver.workdir.iterdir())
    assert runs == ["probe"]  # the twin read the reference instead of probing again
    # Two solves of the same mu at once must not share a work folder.
    folders = {
        twin.solve({"k": 2.0}) and twin.run_info["workdir"],
        solver.solve({"k": 2.0}) and solver.run_info["workdir"],
    }
    assert len(folders) == 2


def test_parameter_named_mu_is_reserved(config: Path) -> None:
    config.write_text(config.read_text().replace('name = "k"', 'name = "mu"'))
    with pytest.raises(SolverError, match="'mu' is reserved"):
        CommandSolver(config)
