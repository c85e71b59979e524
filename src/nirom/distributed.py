"""Dask client and cluster handling: the one place nirom starts parallel workers.

Numerics stay serial and testable; work that runs on more than one process
goes through :func:`dask_client`, either on a local cluster of worker
processes or on an existing Dask scheduler (a real cluster) given by address.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from nirom.errors import NiromError


@contextmanager
def dask_client(workers: int = 2, scheduler: str | None = None) -> Iterator[Any]:
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
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client
