"""Dask client and cluster handling: the one place nirom starts parallel workers.

Numerics stay serial and testable; work that runs on more than one process
goes through :func:`dask_client`, either on a local cluster of worker
processes or on an existing Dask scheduler (a real cluster) given by address.
"""

from __future__ import annotations

import ast
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nirom.errors import NiromError

#: Worker processes of a local cluster when the caller leaves the choice to nirom.
DEFAULT_WORKERS = 2
#: Seconds a local cluster costs before its first result: worker processes started,
#: nirom imported and the solver built in each (measured 5 to 6 s on 2 loaded cores).
CLUSTER_START_S = 5.0


@contextmanager
def dask_client(workers: int = DEFAULT_WORKERS, scheduler: str | None = None) -> Iterator[Any]:
    """A ``dask.distributed.Client``: on ``scheduler`` if given, else a local cluster.

    Parameters
    ----------
    workers : int
        Worker processes of the local cluster, one thread each (the solvers
        are serial; processes avoid the GIL and isolate crashes).
    scheduler : str, optional
        Address of a running scheduler, e.g. ``tcp://10.0.0.5:8786``; its
        workers must see the same file system as this process.
    """
    from dask.distributed import Client, LocalCluster  # heavy import

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError, ValueError) as exc:  # ValueError: malformed address
            raise NiromError(f"cannot reach the Dask scheduler at {scheduler} ({exc})") from None
        try:
            yield client
        finally:
            client.close()
        return
    if workers < 1:
        raise NiromError(f"need at least 1 worker process, got {workers}")
    check_main_guard()
    # The worker processes start with Ctrl-C ignored (they inherit SIG_IGN): this process
    # alone handles it and closes the cluster, instead of each worker printing a traceback.
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main_thread else None
    try:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            # No dashboard, and its HTTP server on a free loopback port: no "port 8787 is
            # already in use" warning when another cluster runs.
            dashboard_address="127.0.0.1:0",
            scheduler_kwargs={"dashboard": False},
            silence_logs=logging.CRITICAL,  # nirom reports every failed task itself
        )
    except (RuntimeError, OSError, TimeoutError) as exc:
        raise NiromError(f"cannot start {workers} local Dask worker process(es): {exc}") from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    with cluster, Client(cluster) as client:
        yield client


def check_workers(workers: Any, scheduler: str | None = None, connect_s: float = 5.0) -> None:
    """Check the parallel settings before any work: one-line :class:`NiromError` if wrong.

    ``workers`` must be an integer >= 0 (0: no worker processes) or None (nirom chooses
    by the work, :func:`cluster_pays`); a ``scheduler`` address must be a
    ``tcp://HOST:PORT`` (or ``tls://``) that accepts a connection within ``connect_s``
    seconds; local workers must not be started from a script's unguarded top level
    (:func:`check_main_guard`; with None, checked when workers start).
    """
    wrong = isinstance(workers, bool) or not isinstance(workers, int) or workers < 0
    if workers is not None and wrong:
        raise NiromError(f"--workers must be an integer >= 0 (0: in this process), got {workers}")
    if scheduler is not None:
        _check_scheduler(scheduler, connect_s)
    elif workers:
        check_main_guard()


def cluster_pays(seconds_each: float, remaining: int, workers: int = DEFAULT_WORKERS) -> bool:
    """Whether a local cluster of ``workers`` processes finishes ``remaining`` tasks of
    ``seconds_each`` seconds sooner than this process alone, its start-up
    (:data:`CLUSTER_START_S`) included."""
    serial = seconds_each * remaining
    return serial > CLUSTER_START_S + serial / max(workers, 1)


def worker_failure(exc: BaseException) -> str | None:
    """One line saying how the Dask cluster failed under ``exc``; None for other errors.

    A ``KilledWorker`` (the worker processes running a task died, each time: a crash,
    the memory limit, a killed job), a lost connection to the scheduler, or a future
    cancelled because the cluster went away.
    """
    try:
        from distributed import KilledWorker
        from distributed.client import FutureCancelledError
        from distributed.comm.core import CommClosedError
    except ImportError:  # no Dask installed: nothing can have failed on it
        return None
    if isinstance(exc, KilledWorker):
        from dask.utils import key_split

        address = getattr(exc.last_worker, "address", exc.last_worker)
        return (
            f"the Dask worker running {key_split(exc.task)} died "
            f"{exc.allowed_failures + 1} time(s), last {address} (a crash, out of memory "
            "or killed; see the worker logs)"
        )
    if isinstance(exc, CommClosedError):
        return f"the connection to the Dask cluster was lost ({exc})"
    if isinstance(exc, FutureCancelledError):
        return "the Dask cluster cancelled the work (its scheduler or workers went away)"
    return None


@contextmanager
def worker_failures(what: str, again: str = "run the command again") -> Iterator[None]:
    """Turn a failure of the Dask cluster inside the block into a one-line NiromError.

    The error says ``what`` failed, how (:func:`worker_failure`) and that the run can be
    repeated (``again``); any other exception passes unchanged.
    """
    try:
        yield
    except NiromError:
        raise
    except Exception as exc:
        reason = worker_failure(exc)
        if reason is None:
            raise
        raise NiromError(f"{what} failed: {reason}; {again}") from None


def _check_scheduler(address: str, connect_s: float) -> None:
    """A fast test that a Dask scheduler listens at ``address`` (no 20 s client timeout)."""
    protocol, sep, location = str(address).partition("://")
    host, colon, port = location.rpartition(":")
    if not sep or protocol not in ("tcp", "tls") or not colon or not host or not port.isdigit():
        raise NiromError(
            f"--scheduler {address!r}: expected tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786"
        )
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=connect_s).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise NiromError(f"cannot reach the Dask scheduler at {address} ({reason})") from None


def check_main_guard() -> None:
    """Refuse, in one line, to start worker processes from a script's unguarded top level.

    Dask's worker processes start by importing the main script again; code at its top
    level that starts workers would then run again in each of them and fail with pages
    of tracebacks. Called from inside ``if __name__ == "__main__":`` (or from a function,
    an interactive session, a notebook, the ``nirom`` command) this does nothing.
    """
    path = getattr(sys.modules.get("__main__"), "__file__", None)
    if not path or not os.path.isfile(path):
        return
    frame = sys._getframe()
    while frame is not None:
        if frame.f_code.co_name == "<module>" and frame.f_globals.get("__name__") == "__main__":
            if not _under_main_guard(path, frame.f_lineno):
                raise NiromError(
                    f"{path}, line {frame.f_lineno}: starting worker processes needs the "
                    'script\'s code under `if __name__ == "__main__":` (each worker imports '
                    "the script again); or use workers=0"
                )
            return
        frame = frame.f_back


def _under_main_guard(path: str, line: int) -> bool:
    """Whether line ``line`` of the script at ``path`` is inside ``if __name__ == "__main__"``."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"), path)
    except (OSError, SyntaxError, ValueError):
        return True  # cannot tell: let the workers start
    return any(
        isinstance(node, ast.If)
        and "__name__" in ast.unparse(node.test)
        and node.lineno <= line <= (node.end_lineno or node.lineno)
        for node in ast.walk(tree)
    )
