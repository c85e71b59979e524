"""The ``nirom`` Typer app, its consoles and the entry point.

User mistakes (a bad path, a malformed file, a parameter out of bounds) print
one line naming the culprit and exit with status 1, without a traceback.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from nirom import __version__
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
    a :class:`NiromError` becomes one line on stderr and status 1.
    """
    try:
        app(args=argv, prog_name="nirom")
    except NiromError as exc:
        _error_line(str(exc))
        return 1
    except OSError as exc:  # a full disk, a read-only folder, no permission, ...
        _error_line(os_error_line(exc))
        return 1
    except KeyboardInterrupt:  # raised outside Typer's own handling (e.g. at teardown)
        _error_line(INTERRUPTED)
        return 130
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if code == 130:  # Typer's answer to Ctrl-C: it prints nothing
            _error_line(INTERRUPTED)
        return code
    return 0


INTERRUPTED = "interrupted (Ctrl-C); what was written before is kept: run the command again"


def os_error_line(exc: OSError) -> str:
    """One line naming the path and the cause: ``/data/tb.nirom: No space left on device``."""
    cause = exc.strerror or str(exc) or type(exc).__name__
    path = exc.filename if exc.filename is not None else None
    return f"{path}: {cause}" if path is not None else cause


def _error_line(text: str) -> None:
    err_console.print(f"[bold red]error:[/] {escape(text)}", highlight=False, soft_wrap=True)
