"""CommandSolver with a program that writes a time series (.pvd, XDMF, numbered files)
and reports its own solve time; and one that writes its whole matrix in PETSc binary."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from nirom import Dataset, generate
from nirom.solvers import SolverError
from nirom.solvers.command import CommandSolver

TIMES = [0.25, 0.5, 1.0]

# u(t, x) = k t x on a 4 x 4 triangle grid at TIMES, written as the argument says.
RUN_PY = textwrap.dedent(
    """
    import json, sys
    import meshio
    import numpy as np

    kind = sys.argv[1]
    k = json.load(open("input.json"))["k"]
    times = [0.25, 0.5, 1.0][: 2 if 1.8 < k < 1.9 else 3]  # 1.8 < k < 1.9: a step short
    n = 4
    x, y = np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n))
    points = np.column_stack([x.ravel(), y.ravel()])
    cells = [("triangle", np.array([[j * n + i, j * n + i + 1, (j + 1) * n + i + 1]
                                    for j in range(n - 1) for i in range(n - 1)]))]
    steps = [{"u": k * t * points[:, 0]} for t in times]
    if kind == "pattern":
        for s, data in enumerate(steps):
            meshio.write(f"result_{s}.vtu", meshio.Mesh(points, cells, point_data=data))
    elif kind == "pvd":
        for s, data in enumerate(steps):
            meshio.write(f"result_{s}.vtu", meshio.Mesh(points, cells, point_data=data))
        entries = "".join(f'<DataSet timestep="{t}" file="result_{s}.vtu"/>'
                          for s, t in enumerate(times))
        open("result.pvd", "w").write(
            f'<VTKFile type="Collection"><Collection>{entries}</Collection></VTKFile>')
    else:
        with meshio.xdmf.TimeSeriesWriter("result.xdmf") as writer:
            writer.write_points_cells(points, cells)
            for t, data in zip(times, steps):
                writer.write_data(t, point_data=data)
    report = {"solve_time_s": 0.125 * k}
    if k > 1.9:
        report = {"solve_time_s": "fast"}
    json.dump(report, open("timing.json", "w"))
    """
)
OUTPUTS = {"pattern": "result_*.vtu", "pvd": "result.pvd", "xdmf": "result.xdmf"}


def _config(tmp_path: Path, kind: str, extra: str = "") -> Path:
    template = tmp_path / "template"
    template.mkdir(exist_ok=True)
    (template / "run.py").write_text(RUN_PY)
    (template / "input.json.j2").write_text('{"k": {{ k }}}\n')
    times = f"times = {TIMES}\n" if kind == "pattern" else ""
    cfg = tmp_path / f"{kind}.toml"
    cfg.write_text(
        f'template = "template"\n'
        f'command = [{json.dumps(sys.executable)}, "run.py", "{kind}"]\n'
        f'output = "{OUTPUTS[kind]}"\n{times}'
        f'solve_time = "timing.json"\nfields = ["u"]\ntimeout = 120\n{extra}'
        '[[parameters]]\nname = "k"\nkind = "uniform"\nlow = 1.0\nhigh = 2.0\n'
    )
    return cfg


@pytest.mark.parametrize("kind", ["pattern", "pvd", "xdmf"])
def test_a_program_writing_a_time_series_gives_time_series_fields(
    tmp_path: Path, kind: str
) -> None:
    solver = CommandSolver(_config(tmp_path, kind))
    (spec,) = solver.fields
    assert spec.times == tuple(TIMES) and spec.location == "point"
    fields = solver.solve({"k": 1.5})
    x = solver.mesh.points[:, 0]
    assert fields["u"].shape == (3, 16)
    np.testing.assert_allclose(fields["u"], 1.5 * np.outer(TIMES, x), rtol=1e-12)
    assert solver.run_info["reported_solve_time_s"] == pytest.approx(0.1875)
    assert solver.run_info["run_time_s"] > 0


def test_generation_stores_the_reported_solve_time_and_the_wall_time(tmp_path: Path) -> None:
    config = _config(tmp_path, "pattern")
    generate(
        config, tmp_path / "ds", 2, design="random", seed=3, workers=0, console=Console(quiet=True)
    )
    ds = Dataset(tmp_path / "ds")
    assert ds.field_spec("u").times == tuple(TIMES)
    for sample_id in (0, 1):
        meta = ds.read_meta(sample_id)
        k = meta["mu"]["k"]
        assert meta["solve_time_s"] == pytest.approx(0.125 * k)  # the program's own time
        info = meta["info"]
        assert info["solve_time_source"] == "reported"
        assert info["wall_time_s"] >= info["run_time_s"] > 0  # the process, beside it
        u = ds.field("u", [sample_id])[0]
        np.testing.assert_allclose(u, k * np.outer(TIMES, ds.mesh.points[:, 0]), rtol=1e-12)


@pytest.mark.parametrize(
    ("k", "match"),
    [
        (1.95, r"timing.json: needs a number of seconds >= 0 under 'solve_time_s'.*'fast'"),
        (1.85, r"result_\*.vtu: 2 files match for 3 times"),
    ],
)
def test_a_bad_report_or_a_short_series_fails_the_sample(
    tmp_path: Path, k: float, match: str
) -> None:
    solver = CommandSolver(_config(tmp_path, "pattern"))
    assert solver.fields  # the probe run, at k = 1.5
    with pytest.raises(SolverError, match=match) as info:
        solver.solve({"k": k})
    assert "\n" not in str(info.value).split("; stderr")[0]


def test_short_xdmf_series_is_refused_naming_the_times(tmp_path: Path) -> None:
    solver = CommandSolver(_config(tmp_path, "xdmf"))
    assert solver.fields  # the probe run
    with pytest.raises(SolverError, match=r"output times \(0.25, 0.5\) differ from the reference"):
        solver.solve({"k": 1.85})


def test_times_are_for_numbered_outputs_only(tmp_path: Path) -> None:
    config = _config(tmp_path, "pvd", extra="times = [0.0, 1.0]\n")
    with pytest.raises(SolverError, match="'times' is for numbered outputs"):
        CommandSolver(config)


STEADY_PY = textwrap.dedent(
    """
    import json
    import meshio
    import numpy as np

    k = json.load(open("input.json"))["k"]
    points = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    cells = [("triangle", np.array([[0, 1, 3], [0, 3, 2]]))]
    with meshio.xdmf.TimeSeriesWriter("result.xdmf") as writer:  # one step, at t = 0
        writer.write_points_cells(points, cells)
        writer.write_data(0.0, point_data={"u": k * points[:, 0]})
    """
)


def test_a_one_step_series_is_a_steady_output(tmp_path: Path) -> None:
    """dolfinx's XDMFFile.write_function(u) of a steady solve writes one step at t = 0."""
    template = tmp_path / "template"
    template.mkdir()
    (template / "run.py").write_text(STEADY_PY)
    (template / "input.json.j2").write_text('{"k": {{ k }}}\n')
    cfg = tmp_path / "steady.toml"
    cfg.write_text(
        f'template = "template"\ncommand = [{json.dumps(sys.executable)}, "run.py"]\n'
        'output = "result.xdmf"\nfields = ["u"]\n'
        '[[parameters]]\nname = "k"\nkind = "uniform"\nlow = 1.0\nhigh = 2.0\n'
    )
    solver = CommandSolver(cfg)
    (spec,) = solver.fields
    assert spec.times is None
    fields = solver.solve({"k": 1.5})
    np.testing.assert_allclose(fields["u"], 1.5 * solver.mesh.points[:, 0], rtol=1e-14)
