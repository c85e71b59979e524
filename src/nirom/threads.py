"""One BLAS thread for loops of small predictions (MCMC, optimization, serving).

A surrogate answering a handful of parameter sets per call spends its time
in small triangular solves and products, where OpenBLAS threads cost more
to wake than they save, and on a loaded machine can cost ten times the work
itself (measured: a 16-set pod-gp prediction with error bars, 16 ms with the
default threads on 2 busy cores, 1.7 ms on one).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any


def one_blas_thread() -> AbstractContextManager[Any]:
    """Context manager limiting BLAS (OpenBLAS, MKL) to one thread inside it."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")
