"""Progress of long tasks: a rich bar on a terminal, plain lines with the elapsed time
where output goes to a file or a pipe (a log, a batch job, a CI run).

:class:`ProgressDisplay` (and :func:`progress_bar`) is what generation, GP fitting and
neural training show while they run; :class:`SolveProgress` counts solver runs and their
failures. It needs only rich, so any part of nirom may show progress.
"""

from __future__ import annotations

from collections.abc import Callable
from time import monotonic
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

# When plain progress lines are printed (seconds of elapsed time, fraction of the total).
FIRST_LINE_S = 10.0  # nothing before: a short task prints nothing at all
EVERY_S = 30.0  # then a line at least this often while the task advances,
EVERY_FRACTION = 0.1  # or sooner when it advanced by this fraction of its total,
MIN_GAP_S = 5.0  # but never two lines closer than this


def duration(seconds: float) -> str:
    """``seconds`` as ``4.2s``, ``35s``, ``1m05s`` or ``2h03m10s``."""
    if seconds < 10:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def interactive(console: Console) -> bool:
    """Whether ``console`` redraws in place (a terminal that is not dumb, or Jupyter)."""
    return console.is_interactive or console.is_jupyter


class ProgressDisplay:
    """Progress of a task: a rich bar on a terminal, plain lines on a file or a pipe.

    Used like rich's ``Progress`` (``with``, ``add_task``, ``update``, ``advance``). On
    a console that is not a terminal it prints lines such as ``training: 12/500 epochs,
    1m05s elapsed, ETA 44m10s, loss 3.100e-03`` through the console, with no styles: the
    first once ``FIRST_LINE_S`` (10 s) have passed, then one every ``EVERY_S`` (30 s) or
    each ``EVERY_FRACTION`` (10 %) of the total, whichever comes first, never two within
    ``MIN_GAP_S`` (5 s); and at the end, if it printed any or ran that long, a final
    line with the total elapsed time. Lines come when the task is updated.

    Parameters
    ----------
    label : str
        What is in progress ("training").
    fields : str
        Rich text templates shown after the count, such as ``"loss {task.fields[loss]}"``
        (plain lines drop their markup).
    unit : str
        What is counted ("epochs"), shown in plain lines.
    console : rich Console, optional
        Where it goes; a new stderr console by default.
    disable : bool
        Show nothing.
    clock : callable, optional
        Seconds of a monotonic clock (``time.monotonic`` by default).
    """

    def __init__(
        self,
        label: str,
        *fields: str,
        unit: str = "",
        console: Console | None = None,
        disable: bool = False,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.console = console or Console(stderr=True)
        self.label, self.fields, self.unit = label, fields, unit
        self.clock = clock or monotonic
        self.plain = not disable and not interactive(self.console)
        columns = (
            TextColumn(f"[bold]{label}"),
            BarColumn(),
            MofNCompleteColumn(),
            *(TextColumn(f) for f in fields),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
        )
        self.bar = Progress(
            *columns, console=self.console, disable=disable or self.plain, get_time=self.clock
        )
        self.started: float | None = None
        self.last_line: tuple[float, float] | None = None  # (time, completed) when printed
        self.last_task: TaskID | None = None

    def __enter__(self) -> ProgressDisplay:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        self.stop(failed=kind is not None)

    def start(self) -> None:
        """Start the clock (and the bar on a terminal)."""
        if self.started is None:
            self.started = self.clock()
        self.bar.start()

    def stop(self, failed: bool = False) -> None:
        """Stop the bar, or print the final plain line (``stopped`` when ``failed``)."""
        self.bar.stop()
        if not self.plain or self.started is None or self.last_task is None:
            return
        elapsed = self.clock() - self.started
        if self.last_line is not None or elapsed >= FIRST_LINE_S:
            task = self.bar.tasks[self.last_task]
            when = (
                f"stopped after {duration(elapsed)}" if failed else f"done in {duration(elapsed)}"
            )
            self._print(task, when)
        self.started = None

    def add_task(self, description: str, total: float | None = None, **fields: Any) -> TaskID:
        """A task of ``total`` steps with the values of its ``fields``."""
        return self.bar.add_task(description, total=total, **fields)

    def update(self, task: TaskID, *, advance: float | None = None, **fields: Any) -> None:
        """Advance ``task`` by ``advance`` steps and set its fields; maybe print a line."""
        self.bar.update(task, advance=advance, **fields)
        self.last_task = task
        if self.plain:
            self._maybe_print(self.bar.tasks[task])

    def advance(self, task: TaskID, advance: float = 1) -> None:
        """Advance ``task`` by ``advance`` steps."""
        self.update(task, advance=advance)

    def _maybe_print(self, task: Task) -> None:
        """Print a progress line if one is due (see the class docstring)."""
        now = self.clock()
        if self.started is None:
            self.started = now
        elapsed = now - self.started
        if elapsed < FIRST_LINE_S or task.finished:
            return  # the final line reports a finished task
        if self.last_line is not None:
            gap, step = now - self.last_line[0], task.completed - self.last_line[1]
            big_step = task.total is not None and step >= EVERY_FRACTION * task.total
            if gap < MIN_GAP_S or (gap < EVERY_S and not big_step):
                return
        self.last_line = (now, task.completed)
        eta = ""
        if task.total and task.completed > 0:
            eta = f", ETA {duration(elapsed * (task.total - task.completed) / task.completed)}"
        self._print(task, f"{duration(elapsed)} elapsed{eta}")

    def _print(self, task: Task, timing: str) -> None:
        """One plain line: label, count, ``timing``, fields (markup dropped, no styles)."""
        count = f"{task.completed:.0f}" + ("" if task.total is None else f"/{task.total:.0f}")
        parts = [f"{self.label}: {count} {self.unit}".rstrip(), timing]
        parts += [Text.from_markup(f.format(task=task)).plain for f in self.fields]
        self.console.print(Text(", ".join(parts)), soft_wrap=True, highlight=False)


def progress_bar(
    label: str,
    *fields: str,
    unit: str = "",
    console: Console | None = None,
    disable: bool = False,
    clock: Callable[[], float] | None = None,
) -> ProgressDisplay:
    """A :class:`ProgressDisplay`: ``label``, bar, done/total ``unit``, ``fields`` (rich
    text templates such as ``"loss {task.fields[loss]}"``), elapsed time, ETA; on stderr
    by default, as plain lines where that is not a terminal."""
    return ProgressDisplay(label, *fields, unit=unit, console=console, disable=disable, clock=clock)


class SolveProgress:
    """Progress of solver runs (done / failed / remaining, ETA) as a context manager.

    ``with SolveProgress(console, n) as advance: advance(status)`` once per sample.
    """

    def __init__(
        self, console: Console | None, total: int, clock: Callable[[], float] | None = None
    ) -> None:
        failed = "[red]{task.fields[failed]} failed"
        self.bar = progress_bar("solving", failed, unit="samples", console=console, clock=clock)
        self.task = self.bar.add_task("solve", total=total, failed=0)
        self.failed = 0

    def __enter__(self) -> Callable[[str], None]:
        self.bar.start()
        return self.advance

    def advance(self, status: str) -> None:
        """One more sample run; ``status`` is its outcome (``"failed"`` is counted)."""
        self.failed += status == "failed"
        self.bar.update(self.task, advance=1, failed=self.failed)

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        self.bar.stop(failed=kind is not None)
