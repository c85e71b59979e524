"""The ``nirom`` command. Every verb is a thin layer over a Python function.

One module per group of verbs (:mod:`~nirom.cli.data`, :mod:`~nirom.cli.models`,
:mod:`~nirom.cli.uses`), all on the Typer app of :mod:`~nirom.cli.app`; importing
them registers the verbs, in the order ``--help`` lists them.
"""

from nirom.cli import data, models, uses  # noqa: F401 (registers the verbs)
from nirom.cli.app import app, main

__all__ = ["app", "main"]
