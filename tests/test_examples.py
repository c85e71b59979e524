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
