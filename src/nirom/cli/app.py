"""The ``nirom`` Typer app, its consoles and the entry point.

User mistakes (a bad path, a malformed file, a parameter out of bounds) print
one line naming the culprit and exit with status 1, without a traceback.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from typer.main import get_command_name

from nirom._version import __version__
from nirom.errors import NiromError

app = typer.Typer(
    name="nirom",
    help="Nonintrusive reduced-order and surrogate modelling for parametrized simulations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        console.print(f"nirom {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Sample a solver, reduce its snapshots, learn surrogates, evaluate them."""


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``nirom`` command; returns the exit status.

    Click's standalone mode handles usage errors (status 2) and ``--help``;
    a :class:`NiromError` becomes one line on stderr and status 1; Ctrl-C one
    line saying what the interrupted verb kept (:func:`interrupted_line`), status 130.
    """
    args = sys.argv[1:] if argv is None else argv
    try:
        app(args=argv, prog_name="nirom")
    except NiromError as exc:
        _error_line(str(exc))
        return 1
    except OSError as exc:  # a full disk, a read-only folder, no permission, ...
        _error_line(os_error_line(exc))
        return 1
    except KeyboardInterrupt:  # raised outside Typer's own handling (e.g. at teardown)
        _error_line(interrupted_line(args))
        return 130
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if code == 130:  # Typer's answer to Ctrl-C: it prints nothing
            _error_line(interrupted_line(args))
        return code
    return 0


_RESUMES = "the samples done are kept: run the command again to resume"
#: What a verb interrupted by Ctrl-C leaves behind, where it is not "nothing": the
#: others write their one result at the end (built aside, then renamed into place).
#: ``serve`` stops on Ctrl-C by design (status 0, no message) once it serves.
KEPT_WHEN_INTERRUPTED: dict[str, str] = {
    "generate": _RESUMES,
    "train-rb": _RESUMES,
    "run": _RESUMES,
    "demo": _RESUMES,
    "refine": "the samples solved so far are kept in the dataset; the model was not refitted",
    "export": "the files written so far are kept: run the command again",
    "optimize": "no results were saved (samples --verify solved stay in its dataset): "
    "run the command again",
}
NOTHING_KEPT = "nothing was saved: run the command again"


def interrupted_line(args: list[str]) -> str:
    """The Ctrl-C line for the command line ``args``: the verb, and what it kept.

    ``interrupted (Ctrl-C) during fit; nothing was saved: run the command again``.
    """
    verb = next((a for a in args if not a.startswith("-")), None)
    if verb is None or verb not in app_verbs():
        return "interrupted (Ctrl-C)"
    return f"interrupted (Ctrl-C) during {verb}; {KEPT_WHEN_INTERRUPTED.get(verb, NOTHING_KEPT)}"


def app_verbs() -> list[str]:
    """Names of the verbs registered on :data:`app`, in ``--help`` order."""
    commands = app.registered_commands
    return [c.name or get_command_name(c.callback.__name__) for c in commands if c.callback]


def os_error_line(exc: OSError) -> str:
    """One line naming the path and the cause: ``/data/tb.nirom: No space left on device``."""
    cause = exc.strerror or str(exc) or type(exc).__name__
    path = exc.filename if exc.filename is not None else None
    return f"{path}: {cause}" if path is not None else cause


def _error_line(text: str) -> None:
    err_console.print(f"[bold red]error:[/] {escape(text)}", highlight=False, soft_wrap=True)
