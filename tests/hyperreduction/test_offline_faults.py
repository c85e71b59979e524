"""A Dask worker dying under the hyper-reduced model's offline stage: one line, not pages."""

from __future__ import annotations

import os
from pathlib import Path

import dask
import distributed  # noqa: F401  (its config defaults before dask.config.set)
import pytest
from rich.console import Console

from nirom.errors import NiromError
from nirom.generation import generate
from nirom.hyperreduction import offline

SMALL = {"resolution": 3, "steps_per_cycle": 8, "cycles": 1, "degree": 2}


def test_a_killed_worker_ends_the_offline_stage_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = generate(
        "plate-hole",
        tmp_path / "p",
        2,
        workers=0,
        solver_options=SMALL,
        console=Console(quiet=True),
    ).dataset

    def die(*args: object, **kwargs: object) -> None:  # sent by value: runs on the worker
        os._exit(3)

    monkeypatch.setattr(offline, "sample_block", die)
    case = offline.resolve_solver("plate-hole", SMALL)
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        pytest.raises(NiromError) as caught,
    ):
        offline.build(ds, case, ds.sample_ids(), ecm_tolerance=1e-3, workers=1)
    message = str(caught.value)
    assert message.startswith(
        "the hyper-reduced model's offline stage failed: the Dask worker running die died"
    )
    assert "run the command again" in message and "\n" not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
