"""How a dataset lies on disk: zarr arrays, meshes, the root metadata, sample names.

One zarr v3 hierarchy (see :mod:`nirom.dataset.store` for the layout). Arrays
are one chunk per sample (one per time step for time series), zstd with
checksums, NaN as the fill value: a missing chunk reads back as NaN, which an
append never stores, and a truncated one fails to decode; both raise a
:class:`~nirom.errors.DatasetError` naming the sample and array.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from nirom.dataset.schema import FORMAT_NAME, FORMAT_VERSION, READABLE_VERSIONS
from nirom.errors import DatasetError, SchemaError
from nirom.mesh import Mesh

SAMPLE_DIR = re.compile(r"^s(\d{8,})$")
# Missing chunks read back as the fill value; NaN is never stored (appends
# reject it), so a NaN read back means the store was damaged.
FILL = np.nan


def codec() -> Any:
    return zarr.codecs.ZstdCodec(level=1, checksum=True)


def sample_name(sample_id: int) -> str:
    return f"s{sample_id:08d}"


def now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


@dataclass
class Sample:
    """One sample as read back from a dataset.

    ``fields`` and the field inputs in ``mu`` are loaded arrays;
    ``solve_time`` is in seconds (None if not recorded).
    """

    id: int
    status: str
    mu: dict[str, Any]
    fields: dict[str, np.ndarray] = field(default_factory=dict)
    solve_time: float | None = None
    error: str | None = None
    mesh: Mesh | None = None


def read_attributes(sample_dir: Path) -> dict[str, Any]:
    """A sample's attributes (status, mu, solve_time_s, ...); FileNotFoundError if absent."""
    meta_file = sample_dir / "zarr.json"
    try:
        with open(meta_file, encoding="utf-8") as fh:
            return dict(json.load(fh)["attributes"])
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{meta_file}: corrupt sample metadata ({exc})") from None


def time_statistics(times: Sequence[float | None]) -> dict[str, float] | None:
    """Median, min, max and total of the recorded times (None entries skipped), seconds."""
    recorded = np.array([t for t in times if t is not None], dtype=float)
    if recorded.size == 0:
        return None
    return {
        "median": float(np.median(recorded)),
        "min": float(recorded.min()),
        "max": float(recorded.max()),
        "total": float(recorded.sum()),
    }


def nirom_version() -> str:
    from nirom._version import __version__

    return __version__


def read_root_meta(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise SchemaError(f"{path}: no such dataset directory")
    if not path.is_dir():
        raise SchemaError(f"{path}: not a directory, so not a nirom dataset")
    meta_file = path / "zarr.json"
    if not meta_file.is_file():
        raise SchemaError(f"{path}: not a nirom dataset (no zarr.json)")
    try:
        with open(meta_file, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SchemaError(f"{meta_file}: corrupt metadata, not valid JSON ({exc})") from None
    attrs = doc.get("attributes") if isinstance(doc, dict) else None
    meta = attrs.get("nirom") if isinstance(attrs, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise SchemaError(f"{path}: a zarr store but not a nirom dataset")
    version = meta.get("format_version")
    if version not in READABLE_VERSIONS:
        raise SchemaError(
            f"{path}: dataset format version {version!r} (written by {meta.get('written_by')}); "
            f"this nirom {nirom_version()} reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))} (current {FORMAT_VERSION})"
        )
    return meta


def write_array(group: zarr.Group, key: str, arr: np.ndarray, per_step: bool = False) -> None:
    """Store ``arr`` at ``key``: one chunk, or one chunk per leading index if ``per_step``."""
    arr = np.asarray(arr, order="C")  # not ascontiguousarray: it turns 0-d into 1-d
    chunks = (1, *arr.shape[1:]) if per_step else arr.shape
    out = group.create_array(
        key,
        shape=arr.shape,
        dtype=arr.dtype,
        chunks=chunks,
        fill_value=FILL if arr.dtype.kind == "f" else -1,
        compressors=codec(),
    )
    out[...] = arr


def read_array(path: Path, what: str) -> np.ndarray:
    try:
        arr = np.asarray(zarr.open_array(path, mode="r")[...])
    except FileNotFoundError:
        raise DatasetError(f"{what}: missing on disk") from None
    except Exception as exc:  # zarr/numcodecs raise assorted types for damaged data
        raise DatasetError(f"{what}: damaged on disk ({exc})") from None
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise DatasetError(f"{what}: damaged on disk (missing chunks read back as NaN)")
    if arr.dtype.kind == "i" and (arr == -1).any():  # only indices are stored as integers
        raise DatasetError(f"{what}: damaged on disk (missing chunks read back as -1)")
    return arr


def read_block(block: np.ndarray, path: str, key: str) -> np.ndarray:
    sample_id = int(block[0])
    where = Path(path) / "samples" / sample_name(sample_id) / key
    return read_array(where, f"sample {sample_id}, {key}")[None]


def write_mesh(group: zarr.Group, mesh: Mesh) -> None:
    write_array(group, "points", mesh.points)
    for k, (cell_type, conn) in enumerate(mesh.cells):
        write_array(group, f"cells/{k}", conn)
        group[f"cells/{k}"].attrs["cell_type"] = cell_type


def read_mesh(path: Path, what: str) -> Mesh:
    try:
        group = zarr.open_group(path, mode="r")
        points = read_array(path / "points", f"{what} points")
        cells_group = group["cells"]
        blocks = []
        for k in range(len(list(cells_group.array_keys()))):
            arr = cells_group[str(k)]
            blocks.append((arr.attrs["cell_type"], read_array(path / "cells" / str(k), what)))
    except (KeyError, FileNotFoundError) as exc:
        raise DatasetError(f"{what}: incomplete on disk ({exc})") from None
    return Mesh(points, blocks)


def staged(path: Path) -> list[Path]:
    staging = path / "staging"
    if not staging.is_dir():
        return []
    return [p for p in staging.iterdir() if p.is_dir()]


def disk_size(path: str | os.PathLike[str]) -> int:
    """Total size in bytes of the files under ``path``."""
    total = 0
    for dirpath, _, filenames in os.walk(path):
        for name in filenames:
            try:
                total += os.stat(os.path.join(dirpath, name)).st_size
            except FileNotFoundError:
                continue
    return total
