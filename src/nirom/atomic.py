"""Writing directories atomically: build aside, flush to disk, rename into place.

Everything nirom writes as a directory (a dataset skeleton, an imported
dataset, a saved model, a sample) appears at its path whole or not at all:

1. it is built in a fresh sibling folder (``.NAME.<tag>-<host>-<pid>-<random>``);
2. every file and folder in it is fsynced (:func:`fsync_tree`);
3. it is renamed into place (a rename is atomic), and the parent folder is
   fsynced so the rename itself survives a power cut.

A failure at any step removes the aside folder and leaves what was at the
path untouched. A process killed outright (SIGKILL, a lost node) cannot: the
next write to the same path removes such leftovers (:func:`remove_stale_aside`),
those whose writer, named by host and process id, is gone. Use :func:`built_aside`::

    with built_aside(path, replace=True, tag="saving") as tmp:
        tmp.mkdir()
        write_everything_into(tmp)
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import socket
import time
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path

__all__ = ["built_aside", "fsync_dir", "fsync_tree", "move_into_place", "remove_stale_aside"]

#: The tags of aside folders that older versions named without host and pid.
_LEGACY_TAGS = ("writing", "saving", "creating", "importing", "exporting", "old")
#: Age in seconds after which an aside folder whose writer cannot be checked (another
#: host, or an older version's name) counts as abandoned.
ABANDONED_AFTER_S = 24 * 3600.0


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
        trash = target.parent / _aside_name(target, "old")
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
    remove_stale_aside(target)
    tmp = target.parent / _aside_name(target, tag)
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


def _host() -> str:
    """This machine's name as 8 hex digits (names of aside folders stay short and plain)."""
    return f"{zlib.crc32(socket.gethostname().encode()):08x}"


def _aside_name(target: Path, tag: str) -> str:
    """``.NAME.<tag>-<host>-<pid>-<random>``: a folder beside ``target`` naming its writer."""
    return f".{target.name}.{tag}-{_host()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _alive(pid: int) -> bool:
    """Whether process ``pid`` of this machine exists (another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _abandoned(entry: Path, host: str | None, pid: int | None) -> bool:
    """Whether the writer of aside folder ``entry`` is gone (or, unknowable, it is old)."""
    if host == _host() and pid is not None:
        return not _alive(pid)
    try:
        return time.time() - entry.stat().st_mtime > ABANDONED_AFTER_S
    except FileNotFoundError:
        return False


def remove_stale_aside(target: str | os.PathLike[str]) -> list[Path]:
    """Remove the aside folders of ``target`` that killed writers left; return them.

    A folder ``.NAME.<tag>-<host>-<pid>-<random>`` goes when that process of this
    host is gone, one of another host or an older version's ``.NAME.<tag>-<random>``
    when older than :data:`ABANDONED_AFTER_S`. A live writer's folder stays, and so
    does an ``old`` one (the previous copy moved out of the way) while ``target``
    is missing: it is then the only copy.
    """
    target = Path(target)
    name = re.escape(target.name)
    current = re.compile(rf"\.{name}\.([a-z]+)-([0-9a-f]{{8}})-(\d+)-[0-9a-f]{{8}}")
    legacy = re.compile(rf"\.{name}\.({'|'.join(_LEGACY_TAGS)})-[0-9a-f]{{8}}")
    removed = []
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        found, old = current.fullmatch(entry.name), legacy.fullmatch(entry.name)
        if found is None and old is None:
            continue
        tag = (found or old).group(1)
        host, pid = (found.group(2), int(found.group(3))) if found else (None, None)
        if tag == "old" and not target.exists():
            continue
        if entry.is_dir() and not entry.is_symlink() and _abandoned(entry, host, pid):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed
