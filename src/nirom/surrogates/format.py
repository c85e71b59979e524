"""The model directory on disk: ``model.json`` + ``arrays.npz``, checksummed, no pickle.

::

    MODEL/model.json   format stamp, kind, parameter space, fields, mesh cell
                       types, the model's state (hyperparameters and per-part
                       state), SHA-256 of arrays.npz, and SHA-256 of all of
                       the above (``model_sha256``: an edit of any value is
                       detected, a raised bound as well as a truncated array)
    MODEL/arrays.npz   every array (loaded with allow_pickle=False)

:func:`write_model` writes it aside and renames it into place
(:func:`nirom.atomic.built_aside`, fsynced), replacing a model already there
without a moment where neither exists. :func:`read_model` refuses, with a
:class:`~nirom.errors.ModelError` naming the file, a missing, truncated,
edited or foreign file and other format versions.

Versions: 3 adds ``model_sha256`` over the whole document (so over the
arrays too, through their checksum); 2 saves every hyperparameter
``get_params()`` returns (the POD truncation as ``discarded_energy``, with its
alias ``energy``); 1 (nirom before issue 15) and 2 are read as well, with the
arrays' checksum only.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from nirom.atomic import built_aside
from nirom.errors import ModelError

FORMAT_NAME = "nirom-surrogate"
FORMAT_VERSION = 3
#: Versions this nirom reads.
READS_VERSIONS = (1, 2, 3)


def write_model(
    path: str | os.PathLike[str], doc: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
) -> Path:
    """Write the model directory ``path`` from its JSON ``doc`` and named ``arrays``.

    A folder at ``path`` that is not a nirom model is refused (ModelError); a
    model there is replaced.
    """
    path = Path(path)
    if path.exists() and not (path / "model.json").is_file():
        raise ModelError(f"{path}: exists and is not a nirom model; choose another path")
    with built_aside(path, replace=True, tag="saving") as tmp:
        tmp.mkdir()
        np.savez(tmp / "arrays.npz", **arrays)
        stamped = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "written_by": f"nirom {_version()}",
            "created_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            **doc,
            "arrays_sha256": _sha256(tmp / "arrays.npz"),
        }
        stamped["model_sha256"] = model_digest(stamped)
        (tmp / "model.json").write_text(json.dumps(stamped, indent=1), encoding="utf-8")
    return path


def read_model(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The JSON document and the arrays of the model directory ``path``, checked."""
    path = Path(path)
    doc = _read_doc(path)
    return doc, _read_arrays(path, doc)


def _version() -> str:
    from nirom._version import __version__

    return __version__


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_digest(doc: Mapping[str, Any]) -> str:
    """SHA-256 of ``doc`` (all but its ``model_sha256``) as canonical JSON (sorted keys)."""
    body = {k: v for k, v in doc.items() if k != "model_sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _read_doc(path: Path) -> dict[str, Any]:
    meta = path / "model.json"
    if not meta.is_file():
        if not path.exists():
            raise ModelError(f"{path}: no such model directory")
        raise ModelError(f"{path}: not a nirom model (no model.json)")
    try:
        doc = json.loads(meta.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{meta}: damaged, not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        raise ModelError(f"{meta}: not a nirom model file")
    if doc.get("format_version") not in READS_VERSIONS:
        raise ModelError(
            f"{meta}: model format version {doc.get('format_version')!r} "
            f"(written by {doc.get('written_by')}); this nirom reads versions "
            f"{', '.join(map(str, READS_VERSIONS))}"
        )
    if doc["format_version"] >= 3 and doc.get("model_sha256") != model_digest(doc):
        raise ModelError(
            f"{meta}: edited or damaged (its checksum does not match its content); "
            "restore the file or fit the model again"
        )
    return doc


def _read_arrays(path: Path, doc: Mapping[str, Any]) -> dict[str, np.ndarray]:
    npz = path / "arrays.npz"
    if not npz.is_file():
        raise ModelError(f"{npz}: missing")
    if _sha256(npz) != doc.get("arrays_sha256"):
        raise ModelError(f"{npz}: damaged or edited (checksum does not match model.json)")
    try:
        with np.load(npz, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ModelError(f"{npz}: unreadable ({exc})") from None
