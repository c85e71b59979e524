"""Finding and repairing done samples damaged on disk (a deleted or truncated chunk).

A sample is published whole (:mod:`nirom.dataset.publish`), but a file inside it can
still be lost later: a deleted chunk, a disk error, a hand edit. Its status stays
"done", so ``generate`` would skip it forever. :func:`damaged_samples` reads every
array of every done sample (what ``nirom info --check`` prints);
:func:`mark_damaged` turns one into a failed record with the reason, which
``generate --repair`` (or ``--retry-failed``) solves again under the same id.
"""

from __future__ import annotations

import shutil
import uuid
from typing import TYPE_CHECKING

import zarr

from nirom.dataset.layout import read_array, sample_name
from nirom.dataset.publish import id_lock
from nirom.errors import DatasetError

if TYPE_CHECKING:
    from nirom.dataset.store import Dataset

#: The error text a repaired sample's failed record starts with.
DAMAGED = "damaged on disk"


def sample_damage(ds: Dataset, sample_id: int) -> str | None:
    """Why done sample ``sample_id`` cannot be read back whole, or None if it can.

    Reads every array of the sample (fields, field inputs, its mesh): a missing or
    truncated chunk, a damaged array or missing attributes is named.
    """
    folder = ds.path / "samples" / sample_name(sample_id)
    try:
        group = zarr.open_group(folder, mode="r")
        names = [name for name, member in group.members(max_depth=None) if _is_array(member)]
    except Exception as exc:  # zarr raises assorted types for damaged metadata
        return f"{DAMAGED}: {folder.name} unreadable ({exc})"
    expected = {f"fields/{name}" for name in ds.fields}
    expected |= {f"inputs/{p.name}" for p in ds.space.field_inputs}
    missing = sorted(expected - set(names))
    if missing:
        return f"{DAMAGED}: {', '.join(missing)} missing"
    for name in sorted(names):
        try:
            read_array(folder / name, name)
        except DatasetError as exc:
            return str(exc).replace(f"{name}: damaged on disk", f"{DAMAGED}: {name}")
    return None


def damaged_samples(ds: Dataset) -> dict[int, str]:
    """Every done sample of ``ds`` that does not read back whole, with the reason."""
    found = {}
    for sample_id in ds.sample_ids("done"):
        reason = sample_damage(ds, sample_id)
        if reason is not None:
            found[sample_id] = reason
    return found


def mark_damaged(ds: Dataset, sample_id: int, reason: str) -> None:
    """Replace damaged done sample ``sample_id`` by a failed record giving ``reason``.

    Its parameters are kept (when its attributes are readable), so the record
    stays the design point it was; the damaged folder is removed.
    """
    try:
        mu = dict(ds.read_meta(sample_id).get("mu") or {})
    except Exception:  # its attributes are damaged too
        mu = {}
    target = ds.path / "samples" / sample_name(sample_id)
    trash = ds.path / "staging" / f"{uuid.uuid4().hex}.damaged"
    with id_lock(ds, sample_id):
        if target.is_dir():
            target.rename(trash)
    shutil.rmtree(trash, ignore_errors=True)
    ds.record_failure(mu, reason, sample_id=sample_id)


def _is_array(member: object) -> bool:
    return isinstance(member, zarr.Array)
