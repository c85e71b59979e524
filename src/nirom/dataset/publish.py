"""Publishing samples into a dataset: crash-safe, and safe with many writers at once.

A sample is written completely under ``staging/``, fsynced, then renamed into
``samples/`` (:func:`publish_sample`). A rename is atomic, so a reader, or a
process killed at any instant, sees the whole sample or none of it; leftovers
stay in ``staging/`` until :func:`clean_staging` removes them.

No global lock: sample folders are never empty, so a rename onto an existing
one fails, and an appender without an id that loses the race for one simply
tries the next. A write with an explicit id takes that id's own ``flock``
(released by the kernel if the holder dies) for its check-and-replace: a done
sample is never replaced, a failed record is. The holder removes the lock file
before releasing it, and a process that locked a file no longer at the path
(removed meanwhile) locks the path's new file instead, so ``staging/`` keeps
no lock files and two writers never hold "the" lock at once.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import zarr

from nirom.atomic import fsync_dir, fsync_tree
from nirom.dataset.layout import sample_name, staged
from nirom.errors import DatasetError, SampleExistsError


class SampleFolders(Protocol):
    """What publishing needs of a dataset (a :class:`~nirom.dataset.store.Dataset`, which
    builds on this module): its folder and its samples' statuses."""

    path: Path

    def status(self, sample_id: int) -> str | None:
        """The sample's status ("done", "failed"), None when it is not there."""
        ...

    def sample_ids(self, status: str | None = "done") -> list[int]:
        """The ids of the samples with ``status`` (None: all)."""
        ...


def publish_sample(
    ds: SampleFolders,
    attrs: dict[str, Any],
    write: Callable[[zarr.Group], None],
    sample_id: int | None,
) -> int:
    """Write a sample (``write`` fills its group, ``attrs`` its attributes) and publish it.

    ``sample_id`` None takes the next free id. Returns the id it was published under.
    """
    if sample_id is not None:
        sample_id = check_id(sample_id)
        refuse_done(ds, sample_id)
    folder = ds.path / "staging" / f"{uuid.uuid4().hex}.{os.getpid()}"
    try:
        group = zarr.open_group(folder, mode="w-")
        write(group)
        group.attrs.update(attrs)
        fsync_tree(folder)
        sample_id = _rename_into_place(ds, folder, sample_id)
    finally:
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
    fsync_dir(ds.path / "samples")
    return sample_id


def check_id(sample_id: Any) -> int:
    """``sample_id`` as an int >= 0, or a DatasetError."""
    if isinstance(sample_id, bool) or not isinstance(sample_id, (int, np.integer)) or sample_id < 0:
        raise DatasetError(f"sample id must be a non-negative integer, got {sample_id!r}")
    return int(sample_id)


def refuse_done(ds: SampleFolders, sample_id: int) -> None:
    """Raise SampleExistsError if sample ``sample_id`` of ``ds`` is done."""
    if ds.status(sample_id) == "done":
        raise SampleExistsError(f"{ds.path}: sample {sample_id} is already done")


@contextlib.contextmanager
def id_lock(ds: SampleFolders, sample_id: int) -> Iterator[None]:
    """Exclusive lock on one sample id, across processes (flock; freed if killed).

    The lock file ``staging/<sample>.lock`` is removed while still locked, on release.
    """
    path = ds.path / "staging" / f"{sample_name(sample_id)}.lock"
    fd = _locked(path, blocking=True)
    try:
        yield
    finally:
        _unlink_and_release(path, fd)


def _locked(path: Path, blocking: bool) -> int | None:
    """A descriptor holding the ``flock`` of the file now at ``path`` (created if missing).

    A file locked after its holder removed it is no longer the lock: try again on
    the one at ``path``. Not ``blocking``: None when another process holds it.
    """
    while True:
        fd = os.open(path, os.O_CREAT | os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        if _same_file(fd, path):
            return fd
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    """Whether open file ``fd`` is the file at ``path`` still (not removed or replaced)."""
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (now.st_dev, now.st_ino)


def _unlink_and_release(path: Path, fd: int) -> None:
    """Remove lock file ``path`` while holding its lock (``fd``), then release it."""
    try:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    finally:
        os.close(fd)


def _rename_into_place(ds: SampleFolders, folder: Path, sample_id: int | None) -> int:
    if sample_id is None:
        return _rename_to_free_id(ds, folder)
    target = ds.path / "samples" / sample_name(sample_id)
    # Check and replace under the id's lock: a done sample is never replaced,
    # a failed record is (by a done sample or a newer failure).
    with id_lock(ds, sample_id):
        refuse_done(ds, sample_id)
        if target.is_dir():
            trash = ds.path / "staging" / f"{uuid.uuid4().hex}.replaced"
            os.rename(target, trash)
            shutil.rmtree(trash, ignore_errors=True)
        try:
            os.rename(folder, target)
        except OSError as exc:  # an appender without an id took the free slot
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            raise SampleExistsError(
                f"{ds.path}: sample {sample_id} was written by another process meanwhile"
            ) from None
    return sample_id


def _rename_to_free_id(ds: SampleFolders, folder: Path) -> int:
    """Rename into the next free id; only ever into an empty slot, so no lock."""
    candidate = max(ds.sample_ids(None), default=-1) + 1
    while True:
        try:
            os.rename(folder, ds.path / "samples" / sample_name(candidate))
            return candidate
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            candidate += 1  # taken by a concurrent writer


def clean_staging(path: Path, older_than: float = 3600.0) -> int:
    """Remove staged writes under dataset ``path`` older than ``older_than`` seconds.

    Lock files nobody holds go too (:func:`clean_locks`; not counted).
    """
    clean_locks(path)
    cutoff = time.time() - older_than
    removed = 0
    for entry in staged(path):
        try:
            if entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry)
                removed += 1
        except FileNotFoundError:
            continue
    return removed


def clean_locks(path: Path) -> int:
    """Remove the sample lock files in ``staging/`` of dataset ``path`` that nobody holds.

    Left by earlier versions of nirom or by a process killed while holding one; each is
    removed under its own lock, so a live writer's lock stays. Returns how many went.
    """
    staging = Path(path) / "staging"
    try:
        locks = [p for p in staging.iterdir() if p.suffix == ".lock" and p.is_file()]
    except (FileNotFoundError, NotADirectoryError):
        return 0
    removed = 0
    for lock in locks:
        try:
            fd = _locked(lock, blocking=False)
        except OSError:  # a read-only dataset: its leftovers stay
            continue
        if fd is not None:
            _unlink_and_release(lock, fd)
            removed += 1
    return removed
