"""Results of the applications on disk: ``KIND.json`` (figures, plot names) + ``KIND.npz``.

A result directory holds what one use computed (``kind`` is "uq",
"sensitivity", "optimize" or "calibrate"): the JSON summary a person or a
script reads, the arrays (loaded with ``allow_pickle=False``) and PNG plots.
The HTML report (:mod:`nirom.report.html`) reads them back.

A run never replaces an earlier result: :func:`result_folder` gives the
folder asked for when it holds no result of that kind yet, and otherwise the
next numbered sibling (``OUT-2``, ``OUT-3``, ...), claimed by creating it, so
two runs at once get two folders. :func:`find_results` finds a folder's
results together with those of its numbered siblings, oldest first.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nirom.errors import NiromError
from nirom.estimator import jsonable

KINDS = ("uq", "sensitivity", "optimize", "calibrate")


def _named(out: Path) -> Path:
    """``out`` with a name to number siblings by ("." and ".." resolved)."""
    return out if out.name not in ("", ".", "..") else out.resolve()


def _numbered(out: Path) -> dict[int, Path]:
    """The numbered siblings ``OUT-2``, ``OUT-3``, ... of ``out`` that exist, by number."""
    pattern = re.compile(rf"^{re.escape(out.name)}-(\d+)$")
    try:
        names = os.listdir(out.parent)
    except (FileNotFoundError, NotADirectoryError):
        return {}
    found = {int(m.group(1)): out.parent / n for n in names if (m := pattern.match(n))}
    return {n: p for n, p in found.items() if n >= 2 and p.is_dir()}


def result_folder(out: str | os.PathLike[str], kind: str, *, replace: bool = False) -> Path:
    """The folder a new ``kind`` result goes to (created): ``out`` or its next numbered sibling.

    ``out`` itself when it holds no ``KIND.json`` (or with ``replace``: the
    earlier result there is overwritten); otherwise ``OUT-N``, N one more
    than the largest numbered sibling on disk, so earlier results stay and
    the numbers follow the order of the runs.
    """
    out = Path(out)
    if replace or not (out / f"{kind}.json").exists():
        out.mkdir(parents=True, exist_ok=True)
        return out
    base = _named(out)
    n = max(_numbered(base), default=1) + 1
    while True:
        candidate = base.with_name(f"{base.name}-{n}")
        try:
            candidate.mkdir()  # claims the name: another run gets the next one
            return candidate
        except FileExistsError:
            n += 1


def write_results(
    out: Path,
    kind: str,
    summary: Mapping[str, Any],
    arrays: Mapping[str, np.ndarray],
    plots: Sequence[Path],
) -> list[Path]:
    """Write ``out/KIND.npz``, then ``out/KIND.json`` (with the plots' names and the time).

    ``out`` is the folder :func:`result_folder` gave; the JSON file, written
    last and renamed into place, marks a complete result.
    """
    out.mkdir(parents=True, exist_ok=True)
    npz_path = out / f"{kind}.npz"
    np.savez_compressed(npz_path, **{k: np.asarray(v) for k, v in arrays.items()})
    doc = {
        **jsonable(summary, finite=True),
        "plots": [Path(p).name for p in plots],
        "written_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    json_path = out / f"{kind}.json"
    tmp = out / f".{kind}.json.writing"
    tmp.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    os.replace(tmp, json_path)
    return [json_path, npz_path, *map(Path, plots)]


def _read(path: Path, folder: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise NiromError(f"{path}: not a readable result file ({exc})") from None
    return {**doc, "_dir": str(folder)}


def read_results(directory: str | Path) -> dict[str, dict[str, Any]]:
    """The summaries found in ``directory`` (or its ``KIND/`` subfolders), by kind.

    Each summary gets ``_dir``, the folder its plots are in. Numbered
    siblings are not read: :func:`find_results` reads them too.
    """
    directory = Path(directory)
    found = {}
    for kind in KINDS:
        for folder in (directory, directory / kind):
            path = folder / f"{kind}.json"
            if path.is_file():
                found[kind] = _read(path, folder)
                break
    return found


def _when(doc: Mapping[str, Any], folder: Path, kind: str) -> str:
    """When a result was written: its ``written_at``, else its file's modification time."""
    if isinstance(doc.get("written_at"), str):
        return doc["written_at"]
    stamp = (folder / f"{kind}.json").stat().st_mtime
    return _dt.datetime.fromtimestamp(stamp, _dt.UTC).isoformat(timespec="seconds")


def find_results(directories: Iterable[str | os.PathLike[str]]) -> list[dict[str, Any]]:
    """Every result in ``directories``, their ``KIND/`` subfolders and their numbered siblings.

    A folder ``OUT`` holding ``KIND.json`` brings ``OUT-2``, ``OUT-3``, ...
    holding ``KIND.json`` too (the runs :func:`result_folder` kept). Each
    summary gets ``_dir``, ``_kind`` and ``_written`` (ISO time, UTC);
    sorted by kind (as :data:`KINDS`), then oldest first; each folder once.
    """
    seen: set[tuple[str, Path]] = set()
    found: list[dict[str, Any]] = []
    for directory in map(Path, directories):
        for kind in KINDS:
            for folder in (directory, directory / kind):
                if not (folder / f"{kind}.json").is_file():
                    continue
                runs = [folder, *(p for _, p in sorted(_numbered(_named(folder)).items()))]
                for run in runs:
                    key = (kind, run.resolve())
                    if key in seen or not (run / f"{kind}.json").is_file():
                        continue
                    seen.add(key)
                    doc = _read(run / f"{kind}.json", run)
                    found.append({**doc, "_kind": kind, "_written": _when(doc, run, kind)})
    return sorted(found, key=lambda d: (KINDS.index(d["_kind"]), d["_written"]))
