"""Incremental POD: Brand's SVD update with mean updates (Ross et al. 2008).

The rows are read in batches of about ``batch_size`` samples; each batch's
component outside the current basis is QR-factorised and a small core matrix
re-diagonalised. The basis keeps ``n_modes + OVERSAMPLING`` modes (or
``batch_size`` modes when ``n_modes`` is None), so peak memory is about
``(1.1 batch_size + 3 n_kept) * n_dof`` floats, whatever ``n_samples``. The
total energy is tracked exactly; the modes are exact when the snapshots'
rank fits in the basis, and otherwise carry the (small) error of truncating
at each batch. Only a diagonal inner product is supported (columns scaled).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg as sla

from nirom.errors import FieldError
from nirom.reduction.algorithms import SVD_RTOL, PODResult, truncation_rank
from nirom.reduction.inner_product import NO_PRODUCT, InnerProduct
from nirom.reduction.numerics import orthonormalize, svd
from nirom.reduction.streaming import row_batches, slab_matmul

#: Extra modes the incremental basis keeps beyond ``n_modes``.
OVERSAMPLING = 10


def pod_incremental(
    X: Any,
    product: InnerProduct = NO_PRODUCT,
    *,
    center: bool = True,
    n_modes: int | None = None,
    discarded_energy: float | None = None,
    batch_size: int = 256,
) -> PODResult:
    """POD of NumPy or Dask snapshots ``X`` (n_samples, n_dof) read ``batch_size`` rows at a time.

    ``product`` must be "none" or "diagonal".
    """
    d = X.shape[1]
    keep = int(n_modes) + OVERSAMPLING if n_modes is not None else int(batch_size)
    scale = product.scale()
    state = IncrementalSVD(mean=np.zeros(d), s=np.zeros(0), V=np.zeros((0, d)))
    pad = 1 if center else 0
    for start, A in row_batches(X, batch_size, pad=pad):
        rows = len(A) - pad
        if scale is not None:
            A[:rows] *= scale
        state.update(A, rows, center, keep, where=f"rows {start}..{start + rows - 1}")
        del A  # its memory now holds Q; free it before the next batch is read
    k = truncation_rank(state.s, state.total, SVD_RTOL, n_modes, discarded_energy)
    mean = state.mean / scale if scale is not None else state.mean
    modes = state.V[:k] / scale if scale is not None else state.V[:k]
    return PODResult(mean, state.s, modes, state.total, "incremental")


@dataclass
class IncrementalSVD:
    """State of an incremental SVD of centred rows: ``Xc ~ U diag(s) V`` with V (k, n_dof).

    ``mean`` is the running mean, ``total`` the exact squared Frobenius norm of
    the centred rows seen, ``n_seen`` their number.
    """

    mean: np.ndarray
    s: np.ndarray
    V: np.ndarray
    total: float = 0.0
    n_seen: int = 0

    def update(self, A: np.ndarray, rows: int, center: bool, keep: int, where: str) -> None:
        """Add the first ``rows`` rows of ``A`` (overwritten; one spare row if ``center``)."""
        if center:
            self._center(A, rows)
        else:
            self.n_seen += rows
        energy = float(np.vdot(A, A))
        if not math.isfinite(energy):
            raise FieldError(f"X: NaN or infinite values in {where}")
        self.total += energy
        self.s, self.V = brand_update(self.s, self.V, A, keep)

    def _center(self, A: np.ndarray, rows: int) -> None:
        """Centre the batch on its mean; the spare row carries the mean shift (Ross et al.)."""
        batch_mean = A[:rows].mean(axis=0)
        A[:rows] -= batch_mean
        n_old, n_new = self.n_seen, self.n_seen + rows
        shift = batch_mean - self.mean
        A[rows] = math.sqrt(n_old * rows / n_new) * shift
        self.mean = self.mean + (rows / n_new) * shift
        self.n_seen = n_new


def brand_update(
    s: np.ndarray, V: np.ndarray, A: np.ndarray, keep: int
) -> tuple[np.ndarray, np.ndarray]:
    """SVD of ``[diag(s) V; A]`` truncated to ``keep`` modes, from the rank-k one.

    ``A`` (m, n_dof) is overwritten. Its part in span(V) (two Gram-Schmidt
    passes) and its QR-factorised remainder give a (k+m) square core matrix
    whose SVD rotates ``[V; Q^T]`` into the new basis.
    """
    k = s.size
    P = np.zeros((A.shape[0], k))
    for _ in range(2 if k else 0):
        coeffs = A @ V.T
        slab_matmul(coeffs, V, A, subtract=True)
        P += coeffs
    Q, R = sla.qr(A.T, mode="economic", overwrite_a=True, check_finite=False)
    core = np.zeros((A.shape[0] + k, k + R.shape[0]))
    core[:k, :k] = np.diag(s)
    core[k:, :k] = P
    core[k:, k:] = R.T
    _, s_new, wt = svd(core)
    keep = min(keep, int(np.count_nonzero(s_new > SVD_RTOL * s_new[0])) if s_new[0] > 0 else 0)
    V_new = np.zeros((keep, A.shape[1]))
    slab_matmul(wt[:keep, :k], V, V_new)
    slab_matmul(wt[:keep, k:], Q.T, V_new)
    return s_new[:keep], orthonormalize(V_new)
