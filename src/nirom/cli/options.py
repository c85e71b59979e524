"""Parsing of command-line values: parameter files, NAME=VALUE pairs, typed parameters."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nirom.errors import ModelError, ParameterError

if TYPE_CHECKING:  # imported in the functions: SciPy is slow to import
    from nirom.parameters import ParameterSpace


def read_space_file(path: Path) -> ParameterSpace:
    """Parameter space from a TOML or JSON file with a ``parameters`` list.

    Each entry has ``name``, ``kind`` ("uniform" | "loguniform" | "field"),
    ``low``, ``high`` and optionally ``unit`` (and ``shape`` for fields).
    """
    from nirom.parameters import ParameterSpace

    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except FileNotFoundError:
        raise ParameterError(f"{path}: parameter-space file not found") from None
    except (json.JSONDecodeError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ParameterError(f"{path}: not a readable parameter-space file ({exc})") from None
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
