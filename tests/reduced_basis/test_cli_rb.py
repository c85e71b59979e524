"""The command line of the certified reduced basis: train-rb, fit --model rb, evaluate."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import numpy as np

import nirom.generation
from nirom import Dataset
from nirom.cli import main
from nirom.surrogates import Surrogate


def test_train_rb_fit_and_evaluate(tmp_path, capsys):
    greedy, model = tmp_path / "greedy.nirom", tmp_path / "rb"
    args = ["train-rb", "thermal-block", "-d", str(greedy), "-o", str(model)]
    assert main([*args, "--basis", "6", "--candidates", "100", "-s", "resolution=12"]) == 0
    assert "Greedy: 6 solves (0 resumed)" in capsys.readouterr().out
    test = tmp_path / "test.nirom"
    gen = ["generate", "thermal-block", "-n", "4", "-o", str(test), "-w", "0"]
    assert main([*gen, "-s", "resolution=12", "--design", "random", "--seed", "3"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(model), str(test)]) == 0
    assert "above the error on 100% of samples" in capsys.readouterr().out
    # a dataset without operators: one line, no traceback
    assert main(["fit", str(test), "--model", "rb", "-o", str(tmp_path / "bad")]) != 0
    err = capsys.readouterr()
    text = (err.out + err.err).strip()
    assert "has no operators" in text and "Traceback" not in text
    assert main(["fit", str(greedy), "--model", "rb", "-o", str(tmp_path / "fitted")]) == 0


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_train_rb_on_a_running_scheduler_equals_the_run_in_this_process(
    tmp_path, capsys, monkeypatch
):
    from dask.distributed import LocalCluster

    def train(name: str, *extra: str) -> Path:
        out = tmp_path / name
        args = ["train-rb", "thermal-block", "-d", str(out / "greedy.nirom"), "-o", str(out / "rb")]
        small = ["--basis", "4", "--candidates", "50", "-s", "resolution=12"]
        assert main([*args, *small, *extra]) == 0
        return out

    here = train("here")

    def not_here(*args: object) -> None:
        raise AssertionError("a greedy solve ran in this process, not on the scheduler")

    monkeypatch.setattr(nirom.generation, "run_sample", not_here)  # the workers' is real
    with LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        scheduler_kwargs={"dashboard": False},
        silence_logs=logging.CRITICAL,
    ) as cluster:
        there = train("there", "--scheduler", cluster.scheduler_address)
    assert "Greedy: 4 solves (0 resumed)" in capsys.readouterr().out
    a, b = Dataset(here / "greedy.nirom"), Dataset(there / "greedy.nirom")
    assert np.array_equal(a.parameters(), b.parameters())  # the same greedy picks
    assert np.allclose(a.field("u"), b.field("u"), rtol=0, atol=1e-12 * np.abs(a.field("u")).max())
    mu = a.parameter_sets([3])[0]
    u_here = Surrogate.load(here / "rb").predict(mu)["u"]
    u_there = Surrogate.load(there / "rb").predict(mu)["u"]
    assert np.linalg.norm(u_there - u_here) <= 1e-10 * np.linalg.norm(u_here)


def test_train_rb_with_an_unreachable_scheduler_is_one_line_before_any_solve(tmp_path, capsys):
    address = f"tcp://127.0.0.1:{_closed_port()}"
    greedy = tmp_path / "greedy.nirom"
    args = ["train-rb", "thermal-block", "-d", str(greedy), "-o", str(tmp_path / "rb")]
    assert main([*args, "--scheduler", address, "-s", "resolution=12"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [
        f"error: cannot reach the Dask scheduler at {address} (Connection refused)"
    ]
    assert not greedy.exists() and not (tmp_path / "rb").exists()
