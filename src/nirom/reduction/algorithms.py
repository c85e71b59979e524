"""The POD algorithms as plain functions: snapshots in, what they computed out.

Each function takes the snapshots ``X`` as rows, shape ``(n_samples, n_dof)``
(NumPy, or Dask for the methods that stream), an optional
:class:`~nirom.reduction.inner_product.InnerProduct` ``M``, and the
truncation (``n_modes``, ``discarded_energy``; see :func:`truncation_rank`),
and returns a :class:`PODResult`: the mean, every singular value it computed,
the kept M-orthonormal modes, and the total energy ``||X - mean||_M^2``.
Nothing else is kept or hidden (pyMOR's ``pod`` has the same shape).

``pod_exact``: LAPACK SVD (``gesdd``) of the centred matrix, singular values
accurate to about ``1e-15`` of the largest. ``pod_randomized``: scikit-learn's
randomized SVD with ``n_modes`` components. ``pod_snapshots``: the method of
snapshots, eigendecomposition of ``Xc M Xc^T`` (blockwise by Dask for a Dask
``X``); its singular values are accurate only to about ``sqrt(eps)`` of the
largest (see :func:`gram_rtol`). The incremental method is in
:mod:`nirom.reduction.incremental`. A diagonal ``M`` is applied by scaling the
columns by ``sqrt(diag(M))``; a general one needs the method of snapshots.
The numerics shared with the reduced bases and the hyper-reduction (the
truncation rule, the SVD, re-orthonormalization) are in
:mod:`nirom.reduction.numerics`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg as sla
from sklearn.utils.extmath import randomized_svd

from nirom.errors import FieldError
from nirom.reduction.inner_product import NO_PRODUCT, InnerProduct
from nirom.reduction.numerics import energy_rank, orthonormalize, svd
from nirom.reduction.streaming import is_dask, row_batches, slab_matmul

#: Singular values below this fraction of the largest are numerically zero (SVD methods).
SVD_RTOL = 1e-12

_EPS = float(np.finfo(np.float64).eps)


@dataclass
class PODResult:
    """What a POD algorithm computed.

    ``mean`` (n_dof,); ``singular_values`` (n_computed,), descending;
    ``modes`` (n_kept, n_dof), M-orthonormal rows; ``total_energy`` the squared
    M-norm of the centred snapshot matrix; ``method`` the algorithm's name.
    """

    mean: np.ndarray
    singular_values: np.ndarray
    modes: np.ndarray
    total_energy: float
    method: str


def truncation_rank(
    s: np.ndarray,
    total: float,
    rtol: float,
    n_modes: int | None = None,
    discarded_energy: float | None = None,
) -> int:
    """Number of modes a POD keeps from the singular values ``s`` (descending).

    The numerical rank (``s > rtol * s[0]``), capped by ``n_modes`` and by the
    fewest modes whose discarded energy is at most ``discarded_energy`` of
    ``total`` (:func:`~nirom.reduction.numerics.energy_rank`, with 10 eps of
    slack for the round-off in ``total``). Warns when ``n_modes`` exceeds the
    rank, or when the computed values cannot reach the energy target.
    """
    rank = int(np.count_nonzero(s > rtol * s[0])) if s.size and s[0] > 0 else 0
    if rank == 0:
        raise FieldError("X: the (centred) snapshots are all zero; there is nothing to reduce")
    k = rank
    if n_modes is not None:
        if n_modes > rank:
            warnings.warn(
                f"n_modes={n_modes} exceeds the numerical rank {rank} of the "
                f"(centred) snapshots; keeping {rank} modes",
                stacklevel=4,
            )
        k = min(k, int(n_modes))
    if discarded_energy is not None:
        if n_modes is None:
            _warn_if_short(s, total, discarded_energy)
        k = min(k, energy_rank(s, float(discarded_energy) + 10 * _EPS, total=total))
    return k


def _warn_if_short(s: np.ndarray, total: float, discarded: float) -> None:
    """Warn when all the computed values ``s`` leave more than ``discarded`` of ``total`` out."""
    captured = float(np.sum(s**2)) / total
    if captured < 1.0 - float(discarded) - 10 * _EPS:
        warnings.warn(
            f"discarded_energy={discarded}: the {s.size} modes computed capture "
            f"{captured:.10g} of the energy, short of {1 - discarded:.10g}; "
            "give n_modes, or a larger batch_size to the incremental method",
            stacklevel=5,
        )


# -- exact and randomized SVD ----------------------------------------------------------------
def pod_exact(
    X: np.ndarray,
    product: InnerProduct = NO_PRODUCT,
    *,
    center: bool = True,
    n_modes: int | None = None,
    discarded_energy: float | None = None,
) -> PODResult:
    """POD by the SVD of the centred (and, for a diagonal ``product``, scaled) snapshots."""
    mean, A = _centred_scaled(X, product, center)
    _, s, vt = svd(A)
    total = float(s @ s)
    k = truncation_rank(s, total, SVD_RTOL, n_modes, discarded_energy)
    return PODResult(mean, s, _unscale(vt[:k], product), total, "exact")


def pod_randomized(
    X: np.ndarray,
    n_modes: int,
    product: InnerProduct = NO_PRODUCT,
    *,
    center: bool = True,
    discarded_energy: float | None = None,
    random_state: int | None = 0,
) -> PODResult:
    """POD by a randomized SVD computing ``n_modes`` components (10 oversamples)."""
    mean, A = _centred_scaled(X, product, center)
    total = float(np.vdot(A, A))
    _, s, vt = randomized_svd(
        A, n_components=min(int(n_modes), *A.shape), random_state=random_state
    )
    k = truncation_rank(s, total, SVD_RTOL, n_modes, discarded_energy)
    return PODResult(mean, s, _unscale(vt[:k], product), total, "randomized")


def _centred_scaled(
    X: np.ndarray, product: InnerProduct, center: bool
) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, (X - mean) sqrt(W))`` for the SVD methods (W the diagonal product or 1)."""
    mean = X.mean(axis=0) if center else np.zeros(X.shape[1])
    A = X - mean
    if product.kind == "diagonal":
        A *= product.scale()
    return mean, A


def _unscale(modes: np.ndarray, product: InnerProduct) -> np.ndarray:
    return modes / product.scale() if product.kind == "diagonal" else modes


# -- method of snapshots -----------------------------------------------------------------------
def pod_snapshots(
    X: Any,
    product: InnerProduct = NO_PRODUCT,
    *,
    center: bool = True,
    n_modes: int | None = None,
    discarded_energy: float | None = None,
    batch_size: int = 256,
) -> PODResult:
    """POD by the eigendecomposition of the Gram matrix ``Xc M Xc^T`` (any inner product).

    A Dask ``X`` is never materialised: the Gram matrix is computed blockwise
    by Dask and the modes in one more pass of ``batch_size`` rows.
    """
    if is_dask(X):
        mean, C = gram_dask(X, product, center, batch_size)
    else:
        mean = X.mean(axis=0) if center else np.zeros(X.shape[1])
        A = X - mean
        C = A @ product.apply(A).T
    C = (C + C.T) / 2
    eigenvalues, V = sla.eigh(C, check_finite=False)
    eigenvalues, V = eigenvalues[::-1], V[:, ::-1]
    s = np.sqrt(np.maximum(eigenvalues, 0.0))
    total = float(np.trace(C))
    k = truncation_rank(s, total, gram_rtol(X.shape[0]), n_modes, discarded_energy)
    W = V[:, :k] / s[:k]  # (n_samples, k): modes = W^T (X - mean)
    if is_dask(X):
        modes = np.zeros((k, X.shape[1]))
        for start, B in row_batches(X, batch_size):
            B -= mean
            slab_matmul(W[start : start + len(B)].T, B, modes)
            del B
    else:
        modes = W.T @ A
    return PODResult(mean, s, orthonormalize(modes, product), total, "snapshots")


def gram_dask(X: Any, product: InnerProduct, center: bool, batch_size: int) -> tuple[Any, Any]:
    """``(mean, Xc M Xc^T)`` of a Dask array, computed blockwise by Dask.

    The snapshots are shifted by the first one before the products (centring
    is shift-invariant), and the Gram matrix is centred afterwards, so one
    pass reads the data and little precision is lost to a large mean.
    """
    import dask

    n, d = X.shape
    shift = np.asarray(X[0].compute()) if center else np.zeros(d)
    Y = X.rechunk((batch_size, -1)) - shift
    YM = Y.map_blocks(product.apply, dtype=np.float64) if product.kind != "none" else Y
    gram, colsum = dask.compute(Y @ YM.T, Y.sum(axis=0))
    if not np.all(np.isfinite(gram)):
        raise FieldError(f"X (shape {X.shape}) contains NaN or infinite values")
    if not center:
        return np.zeros(d), gram
    gram = gram - gram.mean(axis=0) - gram.mean(axis=1)[:, None] + gram.mean()
    return shift + colsum / n, gram


def gram_rtol(n_samples: int) -> float:
    """Relative singular-value floor of the method of snapshots (eigenvalues of C ~ eps ||C||)."""
    return max(10.0, math.sqrt(n_samples)) * math.sqrt(_EPS)
