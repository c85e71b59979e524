"""Files nirom writes or reads must not execute code on load: no pickle anywhere."""

from __future__ import annotations

import re
from pathlib import Path

import nirom

FORBIDDEN = re.compile(
    r"^\s*(import (pickle|dill|joblib|cloudpickle)|from (pickle|dill|joblib|cloudpickle) )"
    r"|torch\.load\(|allow_pickle\s*=\s*True",
    re.MULTILINE,
)


def test_package_source_has_no_pickle_loaders() -> None:
    root = Path(nirom.__file__).parent
    offenders = [
        f"{path.relative_to(root)}: {match.group(0).strip()}"
        for path in root.rglob("*.py")
        for match in FORBIDDEN.finditer(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, offenders
