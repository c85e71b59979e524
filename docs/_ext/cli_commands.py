"""The click group behind the ``nirom`` Typer app: what the command reference walks.

Apart from :mod:`cli_reference` so that the tests read it without Sphinx installed.
"""

from __future__ import annotations

from typing import Any

import typer.main


def click_command() -> Any:
    """The click group behind ``nirom`` (Typer vendors click: ``typer._click``)."""
    from nirom.cli import app  # importing nirom.cli registers every verb

    return typer.main.get_command(app)
