"""Parsing of command-line values (parameter files, NAME=VALUE pairs, typed parameters) and
the options several verbs declare alike, as ``Annotated`` aliases (typer only: no heavy import)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from nirom.documents import read_document
from nirom.errors import ModelError, ParameterError

if TYPE_CHECKING:  # imported in the functions: SciPy is slow to import
    from nirom.parameters import ParameterSpace

# -- options several verbs share (same name, flags, default and help everywhere) -------------
ModelArg = Annotated[Path, typer.Argument(help="Model directory.", metavar="MODEL")]
DatasetArg = Annotated[Path, typer.Argument(help="Dataset directory.", metavar="DATASET")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
Scheduler = Annotated[
    str | None, typer.Option(help="Address of a running Dask scheduler to use instead.")
]
ResultsOut = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "-o",
        help="Results folder (default MODEL-KIND); one holding a result already: FOLDER-2, ...",
    ),
]
Distributions = Annotated[
    list[str] | None,
    typer.Option(
        "--dist",
        "-d",
        help="NAME=KIND(ARGS) input distribution (repeatable), e.g. -d 'k_0=normal(1, 0.1)'.",
    ),
]
Quantities = Annotated[
    list[str] | None,
    typer.Option(
        "--quantity",
        "-q",
        help="Quantity of interest (repeatable): max(u), mean(u), mean(u, 0:0.5, 0:1), u[17], "
        "at(u, x, y).",
    ),
]


def read_space_file(path: Path) -> ParameterSpace:
    """Parameter space from a TOML or JSON file with a ``parameters`` list.

    Each entry has ``name``, ``kind`` ("uniform" | "loguniform" | "field"),
    ``low``, ``high`` and optionally ``unit`` (and ``shape`` for fields).
    """
    from nirom.parameters import ParameterSpace

    data = read_document(
        path,
        ParameterError,
        toml=path.suffix != ".json",
        missing="parameter-space file not found",
        unreadable="not a readable parameter-space file",
    )
    try:
        return ParameterSpace.from_dict(data)
    except ParameterError as exc:
        raise ParameterError(f"{path}: {exc}") from None


def parse_pairs(items: list[str] | None, what: str = "parameter") -> dict[str, Any]:
    """NAME=VALUE pairs; values are read as JSON (numbers, lists, booleans), else text."""
    options: dict[str, Any] = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"{what} {item!r}: expected NAME=VALUE")
        if name.strip() in options:
            raise ParameterError(f"{what} {name.strip()!r} given twice")
        try:
            options[name.strip()] = json.loads(text)
        except json.JSONDecodeError:
            options[name.strip()] = text
    return options


def parameter_value(name: str, value: Any) -> Any:
    """A number, or a field input read from ``@FILE.npy`` (no pickle)."""
    if isinstance(value, str) and value.startswith("@"):
        import numpy as np

        path = Path(value[1:])
        try:
            value = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ParameterError(f"parameter {name!r}: cannot read {path} ({exc})") from None
        if not isinstance(value, np.ndarray):
            value.close()
            raise ParameterError(f"parameter {name!r}: {path} holds several arrays; give a .npy")
        return value
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    return float(value) if numeric else value  # true/false/text: refused by the model's space


def existing_model(path: Path) -> None:
    """Refuse a model path where nothing is, before a verb imports the surrogates (seconds).

    The same one line as :func:`nirom.surrogates.format.read_model` gives, at once.
    """
    if not path.exists():
        raise ModelError(f"{path}: no such model directory")
