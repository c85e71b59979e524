"""Reading small JSON or TOML documents (parameter spaces, studies, observations, configs)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from nirom.errors import NiromError


def read_document(
    path: Path, error: type[NiromError], *, toml: bool, missing: str, unreadable: str
) -> Any:
    """The parsed TOML (``toml=True``) or JSON document at ``path``.

    A missing file raises ``error("PATH: <missing>")``; a file that is not UTF-8 text
    or not valid TOML/JSON raises ``error("PATH: <unreadable> (<parser message>)")``.
    """
    try:
        text = path.read_text(encoding="utf-8")
        return tomllib.loads(text) if toml else json.loads(text)
    except FileNotFoundError:
        raise error(f"{path}: {missing}") from None
    except (json.JSONDecodeError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{path}: {unreadable} ({exc})") from None
