"""Results of the applications on disk: ``KIND.json`` (figures, plot names) + ``KIND.npz``.

A result directory holds what one use computed (``kind`` is "uq",
"sensitivity", "optimize" or "calibrate"): the JSON summary a person or a
script reads, the arrays (loaded with ``allow_pickle=False``) and PNG plots.
The HTML report (:mod:`nirom.report.html`) reads them back.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nirom.errors import NiromError

KINDS = ("uq", "sensitivity", "optimize", "calibrate")


def jsonable(value: Any) -> Any:
    """``value`` with NumPy scalars and arrays as Python numbers and lists; NaN as None."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_results(
    out: Path,
    kind: str,
    summary: Mapping[str, Any],
    arrays: Mapping[str, np.ndarray],
    plots: Sequence[Path],
) -> list[Path]:
    """Write ``out/KIND.json`` (with the plots' file names) and ``out/KIND.npz``."""
    out.mkdir(parents=True, exist_ok=True)
    doc = {**jsonable(summary), "plots": [Path(p).name for p in plots]}
    json_path = out / f"{kind}.json"
    json_path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    npz_path = out / f"{kind}.npz"
    np.savez_compressed(npz_path, **{k: np.asarray(v) for k, v in arrays.items()})
    return [json_path, npz_path, *map(Path, plots)]


def read_results(directory: str | Path) -> dict[str, dict[str, Any]]:
    """The summaries found in ``directory`` (or its ``KIND/`` subfolders), by kind.

    Each summary gets ``_dir``, the folder its plots are in.
    """
    directory = Path(directory)
    found = {}
    for kind in KINDS:
        for folder in (directory, directory / kind):
            path = folder / f"{kind}.json"
            if path.is_file():
                try:
                    doc = json.loads(path.read_text(encoding="utf-8"))
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    raise NiromError(f"{path}: not a readable result file ({exc})") from None
                found[kind] = {**doc, "_dir": str(folder)}
                break
    return found
