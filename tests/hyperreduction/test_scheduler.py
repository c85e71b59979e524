"""The hyper-reduced model's offline stage on a running Dask scheduler: nirom fit and studies."""

from __future__ import annotations

import json
import logging
import socket
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from nirom.cli import main
from nirom.hyperreduction import offline
from nirom.surrogates import Surrogate


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """The address of a running scheduler with one worker process (a cluster stand-in)."""
    from dask.distributed import LocalCluster

    with LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        scheduler_kwargs={"dashboard": False},
        silence_logs=logging.CRITICAL,
    ) as cluster:
        yield cluster.scheduler_address


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _one_line_error(capsys: pytest.CaptureFixture[str], args: list[str]) -> str:
    assert main(args) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_fit_hrom_on_a_scheduler_equals_the_fit_in_this_process(
    plate_dataset, scheduler: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fit = ["fit", str(plate_dataset.dataset.path), "--model", "hrom", "-O", "tolerance=1e-6"]
    assert main([*fit, "-o", str(tmp_path / "here")]) == 0
    assert main([*fit, "--scheduler", scheduler, "-o", str(tmp_path / "there")]) == 0
    capsys.readouterr()
    here, there = Surrogate.load(tmp_path / "here"), Surrogate.load(tmp_path / "there")
    assert np.array_equal(here.model.points, there.model.points)
    assert np.allclose(here.model.weights, there.model.weights, rtol=1e-10)
    mu = plate_dataset.dataset.parameter_sets([plate_dataset.ids[4]])[0]
    a, b = here.predict(mu)["u"], there.predict(mu)["u"]
    assert np.linalg.norm(b - a) <= 1e-10 * np.linalg.norm(a)
    # where the fit ran is not part of the model: not saved, None once loaded
    saved = json.loads((tmp_path / "there" / "model.json").read_text())
    assert "scheduler" not in json.dumps(saved)
    assert there.get_params()["scheduler"] is None


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--scheduler", "CLOSED"], "error: cannot reach the Dask scheduler at tcp://127.0.0.1:"),
        (["--scheduler", "nonsense://x"], "error: --scheduler 'nonsense://x': expected tcp://"),
        (["-w", "-1"], "error: --workers must be an integer >= 0 (0: in this process), got -1"),
        (["-w", "1", "-O", "workers=1"], "error: give workers once: --workers or -O, not both"),
        (
            ["-O", "scheduler=cosine"],
            "error: hrom: scheduler must be a Dask scheduler address tcp://HOST:PORT or None",
        ),
        (
            ["--model", "pod-gp", "--scheduler", "CLOSED"],
            "error: --scheduler applies to the kinds that run offline stages on Dask: hrom, "
            "hrom-dictionary; pod-gp fits in this process",
        ),
        (
            ["--model", "fno", "-w", "2", "--scheduler", "CLOSED"],
            "error: --workers/--scheduler apply to the kinds that run offline stages on Dask: "
            "hrom, hrom-dictionary; fno fits in this process",
        ),
    ],
)
def test_bad_dask_options_of_fit_are_one_line_before_reading_data(
    extra: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = [f"tcp://127.0.0.1:{_closed_port()}" if e == "CLOSED" else e for e in extra]
    model = [] if "--model" in extra else ["--model", "hrom"]
    args = ["fit", str(tmp_path / "missing.nirom"), *model, "-o", str(tmp_path / "m"), *extra]
    assert _one_line_error(capsys, args).startswith(message)
    assert not (tmp_path / "m").exists()


def test_a_study_runs_hrom_offline_on_its_generation_scheduler(
    scheduler: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = offline._client

    def recorded(workers: int, address: str | None):  # the offline stage's Dask client
        calls.append((workers, address))
        return real(workers, address)

    monkeypatch.setattr(offline, "_client", recorded)
    study = tmp_path / "study.toml"
    study.write_text(
        textwrap.dedent(
            f"""
            [solver]
            name = "plate-hole"
            options = {{ resolution = 3, steps_per_cycle = 8, cycles = 1, degree = 2 }}

            [train]
            samples = 3

            [generation]
            workers = 0
            scheduler = "{scheduler}"

            [[surrogates]]
            model = "hrom"
            options = {{ tolerance = 1e-6, ecm_tolerance = 1e-3 }}
            """
        )
    )
    assert main(["run", str(study)]) == 0
    assert calls == [(0, scheduler)]
    report = json.loads((tmp_path / "study" / "report.json").read_text())
    assert set(report) == {"hrom"}
