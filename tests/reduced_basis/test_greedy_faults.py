"""A Dask worker dying under a greedy solve: one line saying the run can go on."""

from __future__ import annotations

import os
from pathlib import Path

import dask
import distributed  # noqa: F401  (its config defaults before dask.config.set)
import pytest

import nirom.generation
from nirom.errors import NiromError
from nirom.reduced_basis.greedy import weak_greedy


def test_a_killed_worker_ends_the_greedy_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def die(*args: object, **kwargs: object) -> None:  # sent by value: runs on the worker
        os._exit(3)

    monkeypatch.setattr(nirom.generation, "solve_on_worker", die)
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        pytest.raises(NiromError) as caught,
    ):
        weak_greedy(
            "thermal-block",
            tmp_path / "rb",
            max_basis=2,
            n_candidates=20,
            solver_options={"resolution": 12},
            workers=1,
        )
    message = str(caught.value)
    assert message.startswith("greedy solve 0 failed: the Dask worker running die died")
    assert "run the command again to go on" in message and "\n" not in message
