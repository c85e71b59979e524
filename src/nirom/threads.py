"""One BLAS thread for loops of small linear algebra (MCMC, optimization, serving, reduced solves).

A surrogate answering a handful of parameter sets per call spends its time
in small triangular solves and products, where OpenBLAS threads cost more
to wake than they save, and on a loaded machine can cost ten times the work
itself (measured: a 16-set pod-gp prediction with error bars, 16 ms with the
default threads on 2 busy cores, 1.7 ms on one; a hyper-reduced model's
reduced tangent, 30 x 30 from 1,350 rows, 0.46 ms on two busy threads and
0.05-0.07 ms on one).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from functools import cache
from typing import Any


@cache
def _controller() -> Any:
    """threadpoolctl's view of the loaded BLAS libraries, found once (about 5 ms)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_blas_thread() -> AbstractContextManager[Any]:
    """Context manager limiting BLAS (OpenBLAS, MKL) to one thread inside it (about 0.07 ms
    to enter and leave once the libraries are known)."""
    return _controller().limit(limits=1, user_api="blas")
