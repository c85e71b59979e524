"""Reading snapshot rows in batches: NumPy arrays, and Dask arrays larger than memory.

:func:`row_batches` yields consecutive row blocks as fresh writable arrays, so
the POD algorithms hold one batch at a time whatever the number of
snapshots; :func:`slab_matmul` accumulates products by column slabs so their
temporaries stay small.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

SLAB = 1 << 16  # columns per slab in blockwise products (bounds temporaries)


def is_dask(X: Any) -> bool:
    """Whether ``X`` is a Dask array (without importing Dask)."""
    return type(X).__module__.split(".")[0] == "dask" and hasattr(X, "chunks")


def slab_matmul(W: np.ndarray, B: np.ndarray, out: np.ndarray, subtract: bool = False) -> None:
    """``out += W @ B`` (or ``-=``) by column slabs, so temporaries stay small."""
    for start in range(0, B.shape[1], SLAB):
        cols = slice(start, start + SLAB)
        if subtract:
            out[:, cols] -= W @ B[:, cols]
        else:
            out[:, cols] += W @ B[:, cols]


def row_batches(X: Any, batch_size: int, pad: int = 0) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(start, buffer)``: consecutive row blocks of ``X`` as fresh writable arrays.

    ``buffer`` has shape (rows + pad, n_dof), the last ``pad`` rows zero. A
    NumPy ``X`` is cut every ``batch_size`` rows; a Dask one at row-chunk
    edges (see :func:`_dask_row_batches`). Callers drop their reference
    before asking for the next batch, so one batch is alive at a time.
    """
    if is_dask(X):
        yield from _dask_row_batches(X, batch_size, pad)
        return
    for start in range(0, X.shape[0], batch_size):
        rows = min(batch_size, X.shape[0] - start)
        buffer = np.zeros((rows + pad, X.shape[1]))
        buffer[:rows] = X[start : start + rows]
        yield start, buffer
        del buffer


def _dask_row_batches(X: Any, batch_size: int, pad: int) -> Iterator[tuple[int, np.ndarray]]:
    """Batches of whole row chunks, at most ``batch_size`` rows (a larger chunk alone).

    Each batch is read an eighth at a time (chunks computed in parallel by
    Dask, then copied into the buffer), so about 1.1 batches are in memory.
    """
    import dask

    sizes = X.chunks[0]
    edges = np.cumsum((0, *sizes))
    for first, last in group_chunks(sizes, batch_size):
        start = int(edges[first])
        buffer = np.zeros((int(edges[last]) - start + pad, X.shape[1]))
        limit = max(1, (int(edges[last]) - start) // 8)
        for lo, hi in group_chunks(sizes[first:last], limit):
            chunks = range(first + lo, first + hi)
            blocks = dask.compute(*(X.blocks[c] for c in chunks))
            for c, block in zip(chunks, blocks, strict=True):
                buffer[edges[c] - start : edges[c + 1] - start] = block
            del blocks
        yield start, buffer
        del buffer


def group_chunks(sizes: Sequence[int], limit: int) -> list[tuple[int, int]]:
    """Consecutive spans ``[first, last)`` of chunks holding at most ``limit`` rows each.

    A span holds at least one chunk, so a chunk larger than ``limit`` is a span alone.
    """
    spans, first, rows = [], 0, 0
    for index, size in enumerate(sizes):
        if index > first and rows + size > limit:
            spans.append((first, index))
            first, rows = index, 0
        rows += size
    if len(sizes) > first:
        spans.append((first, len(sizes)))
    return spans
