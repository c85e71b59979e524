"""Writing directories atomically: build aside, flush to disk, rename into place.

Everything nirom writes as a directory (a dataset skeleton, an imported
dataset, a saved model, a sample) appears at its path whole or not at all:

1. it is built in a fresh sibling folder (``.NAME.<tag>-<random>``);
2. every file and folder in it is fsynced (:func:`fsync_tree`);
3. it is renamed into place (a rename is atomic), and the parent folder is
   fsynced so the rename itself survives a power cut.

A failure at any step removes the aside folder and leaves what was at the
path untouched. Use :func:`built_aside`::

    with built_aside(path, replace=True, tag="saving") as tmp:
        tmp.mkdir()
        write_everything_into(tmp)
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

__all__ = ["built_aside", "fsync_dir", "fsync_tree", "move_into_place"]


def fsync_tree(root: str | os.PathLike[str]) -> None:
    """Flush every file and folder under ``root`` to stable storage."""
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(dirpath)


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Flush a folder's entries (names created, renamed or removed in it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def move_into_place(new: Path, target: Path, replace: bool = False) -> None:
    """Rename folder ``new`` to ``target`` (same file system), then fsync the parent.

    ``target`` may be an empty folder, which the rename replaces. A non-empty
    one raises :class:`FileExistsError`, unless ``replace``: then it is renamed
    out of the way first and removed after, so readers see the old or the new
    folder and never a half of either.
    """
    if replace and target.exists():
        trash = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
        os.rename(target, trash)
        os.rename(new, target)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        try:
            os.rename(new, target)
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            raise FileExistsError(errno.EEXIST, "exists and is not empty", str(target)) from None
    fsync_dir(target.parent)


@contextlib.contextmanager
def built_aside(
    target: str | os.PathLike[str], *, replace: bool = False, tag: str = "writing"
) -> Iterator[Path]:
    """Yield a fresh path beside ``target`` to build in; on success put it at ``target``.

    The yielded path does not exist yet (create it, or let a library create
    it). When the block ends normally the tree is fsynced and moved into
    place with :func:`move_into_place` (``replace`` as there); when it raises,
    or the move fails, the aside folder is removed and the error propagates.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{tag}-{uuid.uuid4().hex[:8]}"
    try:
        yield tmp
        fsync_tree(tmp)
        move_into_place(tmp, target, replace=replace)
    except OSError as exc:
        named = exc.filename is not None and not str(exc.filename).startswith(str(tmp))
        if named or exc.errno is None or isinstance(exc, FileExistsError):
            raise
        # A full disk or read-only folder while building: name the target the user gave.
        cause = exc.strerror or os.strerror(exc.errno)
        raise type(exc)(exc.errno, cause, str(target)) from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
