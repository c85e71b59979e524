"""The shipped examples run as their comments say."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from rich.console import Console

from nirom import generate

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_command_solver_example_generates_a_dataset(tmp_path: Path) -> None:
    example = shutil.copytree(EXAMPLES / "command_solver", tmp_path / "example")
    report = generate(
        example / "solver.toml", tmp_path / "poisson", 4, workers=0, console=Console(quiet=True)
    )
    assert (report.solved, report.failed) == (4, 0)
    ds = report.dataset
    u = ds.field("u")
    k, f = ds.parameters().T
    # The centre value of -k Lap u = f with u = 0 on the edge is 0.0737 f / k.
    centre = np.argmin(np.linalg.norm(ds.mesh.points - 0.5, axis=1))
    np.testing.assert_allclose(u[:, centre] * k / f, 0.0737, rtol=0.01)
    assert not any((example / "fd-poisson-runs").glob("run-*"))  # done runs cleaned up


def test_command_solver_writes_its_matrices_for_a_black_box_rb(tmp_path: Path) -> None:
    from nirom.surrogates import make_surrogate

    example = shutil.copytree(EXAMPLES / "command_solver", tmp_path / "example")
    report = generate(
        example / "solver_operators.toml",
        tmp_path / "fd",
        6,
        workers=0,
        operators=True,
        console=Console(quiet=True),
    )
    ds = report.dataset
    assert (report.solved, ds.operators) == (6, {"unknowns": 39 * 39})
    system = ds.system(0)
    u = ds.field("u", [0])[0]
    np.testing.assert_allclose(system.matrix @ u[system.free], system.rhs, rtol=1e-8)
    model = make_surrogate("rb", operator="eim").fit(ds)
    assert "1 operator (interpolated) and 1 load terms" in model.summary()
    np.testing.assert_allclose(model.predict(ds.parameters())["u"], ds.field("u"), atol=1e-8)
