"""Progress off a terminal: plain lines with the elapsed time; a rich bar on a terminal."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from rich.console import Console

from nirom import progress
from nirom.progress import MIN_GAP_S, SolveProgress, duration, progress_bar

ELAPSED = re.compile(r"(\d+h)?(\d+m)?\d+(\.\d)?s elapsed")


class FakeClock:
    """A monotonic clock that moves only when told to (seconds)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def piped() -> Console:
    """A console writing to a file, as rich sees a pipe: not a terminal, 80 columns."""
    return Console(file=io.StringIO(), width=80)


def run(console: Console, clock: FakeClock, steps: int, step_s: float, total: int) -> None:
    """A training-like task of ``steps`` updates, ``step_s`` seconds apart."""
    with progress_bar(
        "training", "loss {task.fields[loss]}", unit="epochs", console=console, clock=clock
    ) as bar:
        task = bar.add_task("train", total=total, loss="-")
        for step in range(1, steps + 1):
            clock.now += step_s
            bar.update(task, advance=1, loss=f"{1 / step:.3e}")


def test_a_long_task_off_a_terminal_prints_plain_lines_with_the_elapsed_time() -> None:
    console, clock = piped(), FakeClock()
    run(console, clock, steps=100, step_s=2.0, total=100)
    lines = console.file.getvalue().splitlines()
    assert lines[0] == "training: 5/100 epochs, 10s elapsed, ETA 3m10s, loss 2.000e-01"
    assert all(ELAPSED.search(line) for line in lines[:-1])
    # every 10 % (20 s here, sooner than every 30 s), then the final line
    assert [line.split(",")[0] for line in lines[:3]] == [
        "training: 5/100 epochs",
        "training: 15/100 epochs",
        "training: 25/100 epochs",
    ]
    assert len(lines) == 11
    assert lines[-1] == "training: 100/100 epochs, done in 3m20s, loss 1.000e-02"
    assert "\x1b" not in console.file.getvalue()  # no ANSI escape codes


def elapsed_s(text: str) -> list[float]:
    """The elapsed times of the progress lines in ``text``, in seconds."""
    times = []
    for match in map(ELAPSED.search, text.splitlines()):
        if match:
            h, m, s = re.fullmatch(
                r"(?:(\d+)h)?(?:(\d+)m)?([\d.]+)s elapsed", match.group(0)
            ).groups()
            times.append(3600 * int(h or 0) + 60 * int(m or 0) + float(s))
    return times


def test_plain_lines_come_every_30_s_and_never_closer_than_a_few_seconds() -> None:
    console, clock = piped(), FakeClock()
    run(console, clock, steps=1000, step_s=0.1, total=100_000)  # 1 % in 100 s
    assert elapsed_s(console.file.getvalue()) == [10.0, 40.0, 70.0]
    console, clock = piped(), FakeClock()
    run(console, clock, steps=400, step_s=0.1, total=400)  # 10 % every 4 s
    times = elapsed_s(console.file.getvalue())
    assert len(times) > 3 and min(np.diff(times)) >= MIN_GAP_S


def test_a_short_task_off_a_terminal_prints_nothing() -> None:
    console, clock = piped(), FakeClock()
    run(console, clock, steps=20, step_s=0.4, total=20)  # 8 s in all
    assert console.file.getvalue() == ""


def test_a_failed_task_says_it_stopped_and_the_solver_progress_counts_failures() -> None:
    console, clock = piped(), FakeClock()
    with (
        pytest.raises(RuntimeError),
        progress_bar("fitting GP", unit="modes", console=console, clock=clock) as bar,
    ):
        task = bar.add_task("gp", total=4)
        clock.now += 12.0
        bar.advance(task)
        raise RuntimeError("boom")
    assert console.file.getvalue().splitlines() == [
        "fitting GP: 1/4 modes, 12s elapsed, ETA 36s",
        "fitting GP: 1/4 modes, stopped after 12s",
    ]
    console = piped()
    with SolveProgress(console, 10, clock=clock) as advance:
        for status in ("done", "failed", "done"):
            clock.now += 6.0
            advance(status)
    assert console.file.getvalue().splitlines() == [
        "solving: 2/10 samples, 12s elapsed, ETA 48s, 1 failed",
        "solving: 3/10 samples, 18s elapsed, ETA 42s, 1 failed",  # 10 % more, 6 s later
        "solving: 3/10 samples, done in 18s, 1 failed",
    ]


def test_a_terminal_still_gets_the_rich_bar() -> None:
    console, clock = Console(file=io.StringIO(), force_terminal=True, width=100), FakeClock()
    run(console, clock, steps=30, step_s=2.0, total=30)
    shown = console.file.getvalue()
    assert "30/30" in shown and "━" in shown and "elapsed" not in shown


def test_durations() -> None:
    assert [duration(s) for s in (4.24, 35, 65, 7390)] == ["4.2s", "35s", "1m05s", "2h03m10s"]


def test_a_long_gp_fit_off_a_terminal_prints_progress_on_stderr(monkeypatch, capsys) -> None:
    """A pod-gp fit with stderr to a file or a pipe reports its progress, not silence."""
    from nirom.regression import GPRegressor

    ticks = iter(np.arange(0.0, 1e6, 7.0))  # each reading of the clock: 7 s later
    monkeypatch.setattr(progress, "monotonic", lambda: float(next(ticks)))
    x = np.random.default_rng(0).random((12, 2))
    y = np.column_stack([x[:, 0], x[:, 1], x.sum(1)])
    GPRegressor(n_restarts=0).fit(x, y)
    lines = capsys.readouterr().err.splitlines()
    assert lines and all(line.startswith("fitting GP: ") for line in lines)
    assert ELAPSED.search(lines[0]) and lines[-1].startswith("fitting GP: 3/3 modes, done in")
