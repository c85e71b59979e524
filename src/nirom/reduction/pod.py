"""Proper orthogonal decomposition (POD) of snapshot sets: the offline reduction.

Snapshots are the ROWS of ``X``, an array of shape ``(n_samples, n_dof)``
(a field over samples from :meth:`nirom.Dataset.field` or
:meth:`nirom.Dataset.to_dask`, flattened to one row per sample by the
caller). With ``Xc = X - mean`` and an inner-product matrix ``M`` (the
identity when none is given), the POD basis of rank ``k`` is the ``k`` rows
``Phi`` (M-orthonormal: ``Phi M Phi^T = I``) minimising the snapshot
projection error ``sum_i ||xc_i - Phi^T Phi M xc_i||_M^2``. They are the
leading right singular vectors of ``Xc M^(1/2)`` mapped back by
``M^(-1/2)``, and the error is the sum of the discarded squared singular
values.

Four algorithms compute it (``method``):

``"exact"``
    LAPACK SVD of the centred in-memory matrix (``gesdd``). Singular values
    are accurate down to about ``1e-15`` of the largest.
``"randomized"``
    :func:`sklearn.utils.extmath.randomized_svd` with ``n_modes`` components
    (10 oversamples, power iterations chosen by scikit-learn).
``"snapshots"``
    Method of snapshots: eigendecomposition of the Gram matrix
    ``C = Xc M Xc^T`` (``n_samples x n_samples``), then
    ``Phi = diag(1/s) V^T Xc``. Cheapest when ``n_dof >> n_samples``, and it
    takes any inner product. Its singular values are accurate only down to
    about ``sqrt(eps) ~ 1e-8`` of the largest, so its numerical rank drops
    those below ``max(10, sqrt(n_samples)) * sqrt(eps)`` (``~1.5e-7``) of the
    largest. On a Dask array the Gram matrix is computed blockwise by Dask and
    the modes in one more streaming pass; ``X`` is never materialised.
``"incremental"``
    Brand's incremental SVD with mean updates (Ross et al. 2008): the rows
    are read in batches of about ``batch_size`` samples, each batch's
    component outside the current basis is QR-factorised and a small core
    matrix re-diagonalised. The basis keeps ``n_modes + 10`` modes (or
    ``batch_size`` modes when ``n_modes`` is None), so peak memory is about
    ``(1.1 batch_size + 3 n_kept) * n_dof`` floats, whatever ``n_samples``.
    The total energy (for ``energy`` and ``explained_energy_``) is tracked
    exactly; the modes are exact when the snapshots' rank fits in the basis,
    and otherwise carry the (small) error of truncating at each batch.

``"auto"`` picks ``incremental`` for a Dask array over 2 GiB (``snapshots``
if the product is not diagonal), ``snapshots`` when a product is given or
``n_dof > 4 n_samples``, and ``exact`` otherwise.

Inner products: a non-diagonal ``product`` is handled by the method of
snapshots, so ``"exact"`` and ``"randomized"`` fall back to it (as they do
for a Dask array); a diagonal one (a lumped mass) is applied by scaling the
columns by ``sqrt(diag(M))``, so every method, ``"incremental"`` included,
supports it. ``method_`` records the algorithm that actually ran.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.extmath import randomized_svd
from sklearn.utils.validation import check_is_fitted

METHODS = ("auto", "exact", "randomized", "snapshots", "incremental")
#: Dask inputs larger than this (bytes) go to the incremental method under "auto".
AUTO_INCREMENTAL_BYTES = 2 * 1024**3
#: Singular values below this fraction of the largest are numerically zero (SVD methods).
SVD_RTOL = 1e-12
#: Extra modes the incremental basis keeps beyond ``n_modes``.
OVERSAMPLING = 10
SAVE_TYPE = "nirom.POD"
SAVE_VERSION = 1

_EPS = float(np.finfo(np.float64).eps)
_SLAB = 1 << 16  # columns per slab in blockwise products (bounds temporaries)
_ORTH_TOL = 1e-12  # largest tolerated |Phi M Phi^T - I| before re-orthonormalising


@dataclass
class _Product:
    """A validated inner product: ``kind`` "none" | "diagonal" | "matrix".

    ``matrix`` is the CSR or dense matrix, ``diagonal`` its diagonal (n_dof,)
    when ``kind == "diagonal"``.
    """

    kind: str
    matrix: Any = None
    diagonal: np.ndarray | None = None

    def apply(self, A: np.ndarray) -> np.ndarray:
        """``A M`` for rows ``A`` of shape (n, n_dof) (``M`` is symmetric)."""
        if self.kind == "none":
            return A
        if self.kind == "diagonal":
            return A * self.diagonal
        if sp.issparse(self.matrix):
            return np.asarray(self.matrix @ A.T).T
        return A @ self.matrix

    def norms2(self, A: np.ndarray) -> np.ndarray:
        """Squared M-norms of the rows of ``A``, shape (n,)."""
        return np.maximum(np.einsum("ij,ij->i", A, self.apply(A)), 0.0)


@dataclass
class _Result:
    mean: np.ndarray  # (n_dof,)
    singular_values: np.ndarray  # (n_computed,), descending
    modes: np.ndarray  # (n_kept, n_dof), M-orthonormal
    total_energy: float  # squared M-norm of the centred snapshot matrix
    method: str


class POD(BaseEstimator, TransformerMixin):
    """Proper orthogonal decomposition of snapshots, optionally in an ``M`` inner product.

    Parameters
    ----------
    n_modes : int, optional
        Number of modes to keep.
    energy : float in (0, 1), optional
        Keep the fewest modes whose cumulative squared singular values reach
        ``1 - energy`` of the total (``energy=1e-4`` keeps 99.99 %). With
        ``n_modes`` too, the smaller count wins; with neither, every mode
        above the numerical rank is kept (singular values above ``1e-12`` of
        the largest; see the module notes for the method of snapshots).
        Fewer modes than asked are kept, with a warning, when the snapshots
        have a lower numerical rank.
    method : {"auto", "exact", "randomized", "snapshots", "incremental"}
        Algorithm; see the module docstring. ``"randomized"`` needs ``n_modes``.
    center : bool
        Subtract the mean snapshot before the decomposition.
    product : sparse matrix or ndarray of shape (n_dof, n_dof), optional
        Symmetric positive definite inner-product matrix ``M`` (a finite
        element mass matrix gives the L2 POD). Modes are then M-orthonormal.
        Not saved by :meth:`to_arrays`; pass it again to :meth:`from_saved`.
    random_state : int or None
        Seed of the randomized method.
    batch_size : int
        Rows per batch when streaming a Dask array (incremental fits,
        blockwise Gram products, ``transform`` of Dask input).

    Attributes
    ----------
    modes_ : ndarray of shape (n_modes_, n_dof)
        The basis, rows M-orthonormal (Euclidean without a product).
    dual_modes_ : ndarray of shape (n_modes_, n_dof)
        ``modes_ @ M``: the coefficients of ``x`` are ``(x - mean_) @ dual_modes_.T``.
        The same array as ``modes_`` without a product.
    singular_values_ : ndarray of shape (n_computed,)
        Every singular value the method computed (for decay plots), descending.
    n_modes_ : int
        Number of modes kept.
    mean_ : ndarray of shape (n_dof,)
        Mean snapshot (zeros when ``center=False``).
    explained_energy_ : ndarray of shape (n_modes_,)
        Cumulative fraction of the total energy the first 1, 2, ... modes capture.
    total_energy_ : float
        Squared M-norm (Frobenius) of the centred snapshot matrix.
    method_ : str
        The algorithm that ran ("exact", "randomized", "snapshots", "incremental").
    product_kind_ : str
        "none", "diagonal" or "matrix".
    n_features_in_ : int
        Number of dofs ``n_dof``.

    Example
    -------
    An L2 POD keeping 99.99 % of the energy of a dataset's field ``u``, and
    the projection floor of held-out snapshots ``U_test`` (n_test, n_dof)::

        pod = POD(energy=1e-4, product=solver.mass_matrix()).fit(ds.to_dask("u"))
        Z = pod.transform(U_test)  # (n_test, pod.n_modes_)
        floor = pod.projection_error(U_test)  # (n_test,)
        saved = (pod.to_json(), pod.to_arrays())  # JSON + .npz, no pickle
    """

    def __init__(
        self,
        n_modes: int | None = None,
        energy: float | None = None,
        method: str = "auto",
        center: bool = True,
        product: Any = None,
        random_state: int | None = 0,
        batch_size: int = 256,
    ) -> None:
        self.n_modes = n_modes
        self.energy = energy
        self.method = method
        self.center = center
        self.product = product
        self.random_state = random_state
        self.batch_size = batch_size

    # -- fitting -------------------------------------------------------------
    def fit(self, X: Any, y: Any = None) -> POD:
        """Compute the POD basis of the snapshots ``X``.

        Parameters
        ----------
        X : ndarray or dask array of shape (n_samples, n_dof)
            Snapshots as rows, float64 (other real dtypes are converted).
        y : ignored

        Returns
        -------
        self
        """
        self._check_params()
        X = _as_snapshots(X)
        product = _check_product(self.product, X.shape[1])
        method = self._resolve_method(X, product)
        result = _FITTERS[method](self, X, product)
        self._store(result, product, X.shape[1])
        return self

    def _check_params(self) -> None:
        if self.n_modes is not None and not _is_positive_int(self.n_modes):
            raise ValueError(f"n_modes must be a positive integer or None, got {self.n_modes!r}")
        energy = self.energy
        if energy is not None and not (
            isinstance(energy, numbers.Real)
            and not isinstance(energy, bool)
            and 0.0 < float(energy) < 1.0
        ):
            raise ValueError(
                f"energy must be a number in (0, 1) (the discarded energy fraction) or None, "
                f"got {energy!r}"
            )
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}; got {self.method!r}")
        if not isinstance(self.center, (bool, np.bool_)):
            raise ValueError(f"center must be True or False, got {self.center!r}")
        if not _is_positive_int(self.batch_size):
            raise ValueError(f"batch_size must be a positive integer, got {self.batch_size!r}")
        rs = self.random_state
        if rs is not None and (isinstance(rs, bool) or not isinstance(rs, (int, np.integer))):
            raise ValueError(f"random_state must be an integer or None, got {rs!r}")
        if self.method == "randomized" and self.n_modes is None:
            raise ValueError("method='randomized' needs n_modes (the number of modes to compute)")

    def _resolve_method(self, X: Any, product: _Product) -> str:
        n, d = X.shape
        dask = _is_dask(X)
        method = self.method
        if method == "auto":
            if dask and X.nbytes > AUTO_INCREMENTAL_BYTES:
                return "snapshots" if product.kind == "matrix" else "incremental"
            if product.kind != "none" or d > 4 * n:
                return "snapshots"
            method = "exact"
        if method == "incremental" and product.kind == "matrix":
            raise ValueError(
                "product: method='incremental' supports only a diagonal product (e.g. a lumped "
                "mass matrix); use method='snapshots' for a general inner product"
            )
        if method in ("exact", "randomized") and (dask or product.kind == "matrix"):
            return "snapshots"
        return method

    def _choose(self, s: np.ndarray, total: float, rtol: float) -> int:
        """Number of modes to keep from the singular values ``s`` (descending)."""
        rank = int(np.count_nonzero(s > rtol * s[0])) if s.size and s[0] > 0 else 0
        if rank == 0:
            raise ValueError("X: the (centred) snapshots are all zero; there is nothing to reduce")
        k = rank
        if self.n_modes is not None:
            if self.n_modes > rank:
                warnings.warn(
                    f"n_modes={self.n_modes} exceeds the numerical rank {rank} of the "
                    f"(centred) snapshots; keeping {rank} modes",
                    stacklevel=4,
                )
            k = min(k, int(self.n_modes))
        if self.energy is not None:
            k = min(k, self._energy_count(s, total))
        return k

    def _energy_count(self, s: np.ndarray, total: float) -> int:
        captured = np.cumsum(s**2) / total
        target = 1.0 - float(self.energy) - 10 * _EPS
        count = int(np.searchsorted(captured, target, side="left")) + 1
        if count > s.size and self.n_modes is None:
            warnings.warn(
                f"energy={self.energy}: the {s.size} modes computed capture "
                f"{captured[-1]:.10g} of the energy, short of {1 - self.energy:.10g}; "
                "give n_modes, or a larger batch_size to the incremental method",
                stacklevel=5,
            )
        return min(count, s.size)

    def _store(self, result: _Result, product: _Product, n_dof: int) -> None:
        s = result.singular_values
        k = result.modes.shape[0]
        self.modes_ = _fix_signs(result.modes)
        self.dual_modes_ = product.apply(self.modes_)
        self.singular_values_ = s
        self.n_modes_ = k
        self.mean_ = result.mean
        self.total_energy_ = float(result.total_energy)
        self.explained_energy_ = np.cumsum(s[:k] ** 2) / self.total_energy_
        self.method_ = result.method
        self.product_kind_ = product.kind
        self.n_features_in_ = n_dof
        self._product = product

    # -- using the basis -----------------------------------------------------
    def transform(self, X: Any) -> np.ndarray:
        """Coefficients of the snapshots in the basis: ``(X - mean_) M modes_^T``.

        Parameters
        ----------
        X : ndarray or dask array of shape (n_samples, n_dof)

        Returns
        -------
        ndarray of shape (n_samples, n_modes_)
        """
        check_is_fitted(self)
        X = _as_snapshots(X, self.n_features_in_)
        return self._map_rows(X, lambda B: (B - self.mean_) @ self.dual_modes_.T)

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """Fields from coefficients: ``Z modes_ + mean_``.

        Parameters
        ----------
        Z : array-like of shape (n_samples, n_modes_)

        Returns
        -------
        ndarray of shape (n_samples, n_dof)
        """
        check_is_fitted(self)
        Z = np.asarray(Z, dtype=np.float64)
        if Z.ndim != 2 or Z.shape[1] != self.n_modes_:
            raise ValueError(
                f"Z has shape {Z.shape}; expected (n_samples, {self.n_modes_}), "
                "one row of coefficients per sample"
            )
        return Z @ self.modes_ + self.mean_

    def projection_error(self, X: Any) -> np.ndarray:
        """Relative projection errors ``||x - P x||_M / ||x||_M`` of snapshots on the basis.

        ``P x = mean_ + modes_^T modes_ M (x - mean_)`` is the M-orthogonal
        projection on the affine POD space: the floor no surrogate built on
        this basis can beat. Zero snapshots give 0 (or inf if not reproduced).

        Parameters
        ----------
        X : ndarray or dask array of shape (n_samples, n_dof)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = _as_snapshots(X, self.n_features_in_)
        product = self._product
        if product.kind != "none" and product.matrix is None:
            raise ValueError(
                "product: this POD was fitted with an inner product that was not saved; "
                "pass product= to POD.from_saved to measure errors in its norm"
            )

        def relative(B: np.ndarray) -> np.ndarray:
            Bc = B - self.mean_
            E = Bc - (Bc @ self.dual_modes_.T) @ self.modes_
            err, ref = np.sqrt(product.norms2(E)), np.sqrt(product.norms2(B))
            out = np.where(err > 0, np.inf, 0.0)
            return np.divide(err, ref, out=out, where=ref > 0)

        return self._map_rows(X, relative)

    def _map_rows(self, X: Any, func: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """``func`` of X's rows; Dask input is streamed in batches and the result is NumPy."""
        if not _is_dask(X):
            return func(X)
        parts = []
        for _, B in _row_batches(X, self.batch_size):
            parts.append(func(B))
            del B  # free this batch before the next one is read
        return np.concatenate(parts)

    # -- saving without pickle -------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """JSON-compatible hyperparameters and fitted scalars (the arrays are in :meth:`to_arrays`).

        The product matrix is not saved, only whether there was one.
        """
        check_is_fitted(self)
        params = {
            "n_modes": None if self.n_modes is None else int(self.n_modes),
            "energy": None if self.energy is None else float(self.energy),
            "method": str(self.method),
            "center": bool(self.center),
            "random_state": None if self.random_state is None else int(self.random_state),
            "batch_size": int(self.batch_size),
        }
        return {
            "type": SAVE_TYPE,
            "format_version": SAVE_VERSION,
            "params": params,
            "product_kind": self.product_kind_,
            "method": self.method_,
            "n_modes": int(self.n_modes_),
            "n_dof": int(self.n_features_in_),
            "total_energy": self.total_energy_,
        }

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The fitted arrays, for ``numpy.savez``: modes, mean, singular values, energy.

        ``dual_modes`` (``modes_ M``) is included when a product was given, so
        that :meth:`transform` works without the product after loading.
        """
        check_is_fitted(self)
        arrays = {
            "modes": self.modes_,
            "mean": self.mean_,
            "singular_values": self.singular_values_,
            "explained_energy": self.explained_energy_,
        }
        if self.product_kind_ != "none":
            arrays["dual_modes"] = self.dual_modes_
        return arrays

    @classmethod
    def from_saved(
        cls, params: Mapping[str, Any], arrays: Mapping[str, Any], product: Any = None
    ) -> POD:
        """Rebuild a fitted POD from :meth:`to_json` and :meth:`to_arrays` output.

        Parameters
        ----------
        params : mapping
            What :meth:`to_json` returned (for example read back from JSON).
        arrays : mapping name -> array
            What :meth:`to_arrays` returned (for example an ``np.load`` of an .npz).
        product : sparse matrix or ndarray of shape (n_dof, n_dof), optional
            The inner product the POD was fitted with; needed only by
            :meth:`projection_error`. It is checked against the saved dual modes.
        """
        meta = dict(params)
        if meta.get("type") != SAVE_TYPE or meta.get("format_version") != SAVE_VERSION:
            raise ValueError(
                f"params: not a saved POD of format {SAVE_TYPE} version {SAVE_VERSION} "
                f"(type {meta.get('type')!r}, version {meta.get('format_version')!r})"
            )
        try:
            pod = cls(**meta["params"], product=product)
            kind, n_dof, k = meta["product_kind"], int(meta["n_dof"]), int(meta["n_modes"])
            total, method = float(meta["total_energy"]), str(meta["method"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"params: malformed saved POD ({exc!r})") from None
        pod._check_params()
        if kind not in ("none", "diagonal", "matrix"):
            raise ValueError(f"params: unknown product_kind {kind!r}")
        got = _saved_arrays(arrays, kind, n_dof, k)
        pod.modes_, pod.mean_ = got["modes"], got["mean"]
        pod.dual_modes_ = got.get("dual_modes", pod.modes_)
        pod.singular_values_ = got["singular_values"]
        pod.explained_energy_ = got["explained_energy"]
        pod.n_modes_, pod.total_energy_, pod.method_ = k, total, method
        pod.product_kind_, pod.n_features_in_ = kind, n_dof
        pod._product = _saved_product(product, kind, n_dof, pod)
        return pod


# -- validation ----------------------------------------------------------------
def _is_positive_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1


def _is_dask(X: Any) -> bool:
    return type(X).__module__.split(".")[0] == "dask" and hasattr(X, "chunks")


def _as_snapshots(X: Any, n_dof: int | None = None) -> Any:
    """``X`` as checked float64 NumPy or float64 Dask, of shape (n_samples, n_dof)."""
    if sp.issparse(X):
        raise ValueError(f"X must be a dense array, got a sparse matrix of shape {X.shape}")
    if _is_dask(X):
        X = X if X.dtype == np.float64 else X.astype(np.float64)
    else:
        X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(
            f"X has shape {X.shape}; expected (n_samples, n_dof) with snapshots as rows "
            "(flatten each field to one row)"
        )
    if n_dof is not None and X.shape[1] != n_dof:
        raise ValueError(
            f"X has shape {X.shape}; this POD was fitted on {n_dof} dofs, "
            f"so expected (n_samples, {n_dof})"
        )
    if not _is_dask(X) and not (np.isfinite(X.sum()) or np.isfinite(X).all()):
        raise ValueError(f"X (shape {X.shape}) contains NaN or infinite values")
    return X


def _check_product(product: Any, n_dof: int) -> _Product:
    """Validate ``product`` against ``n_dof``: shape, symmetry, positive diagonal."""
    if product is None:
        return _Product("none")
    if sp.issparse(product):
        M = sp.csr_matrix(product, dtype=np.float64)
    elif isinstance(product, np.ndarray):
        M = np.asarray(product, dtype=np.float64)
    else:
        raise ValueError(
            f"product must be a scipy sparse matrix or a NumPy array, got {type(product).__name__}"
        )
    if M.shape != (n_dof, n_dof):
        raise ValueError(
            f"product has shape {M.shape}; expected ({n_dof}, {n_dof}) to match the "
            f"{n_dof} dofs of X"
        )
    scale = abs(M).max()
    if abs(M - M.T).max() > 1e-10 * scale:
        raise ValueError("product must be symmetric (positive definite)")
    diagonal = np.asarray(M.diagonal(), dtype=np.float64)
    if not np.all(diagonal > 0) or not np.all(np.isfinite(diagonal)):
        raise ValueError("product must be positive definite: its diagonal has entries <= 0")
    if sp.issparse(M):
        coo = M.tocoo()
        coupled = np.any(coo.data[coo.row != coo.col])
    else:
        coupled = np.any(M[~np.eye(n_dof, dtype=bool)])
    return _Product("matrix", M) if coupled else _Product("diagonal", M, diagonal)


def _saved_arrays(arrays: Mapping[str, Any], kind: str, n_dof: int, k: int) -> dict[str, Any]:
    shapes = {
        "modes": (k, n_dof),
        "mean": (n_dof,),
        "explained_energy": (k,),
        "singular_values": None,
    }
    if kind != "none":
        shapes["dual_modes"] = (k, n_dof)
    out = {}
    for name, shape in shapes.items():
        if name not in arrays:
            raise ValueError(f"arrays: {name!r} is missing")
        arr = np.array(arrays[name], dtype=np.float64)
        if (shape is not None and arr.shape != shape) or (shape is None and arr.ndim != 1):
            raise ValueError(f"arrays: {name!r} has shape {arr.shape}; expected {shape or '(n,)'}")
        out[name] = arr
    return out


def _saved_product(product: Any, kind: str, n_dof: int, pod: POD) -> _Product:
    """The product a loaded POD measures errors with, checked against its dual modes."""
    if product is None:
        return _Product(kind)
    if kind == "none":
        raise ValueError("product: this POD was fitted without an inner product")
    checked = _check_product(product, n_dof)
    dual = checked.apply(pod.modes_)
    gap = np.abs(dual - pod.dual_modes_).max()
    if gap > 1e-8 * max(np.abs(pod.dual_modes_).max(), 1e-300):
        raise ValueError("product does not match the inner product this POD was fitted with")
    return checked


# -- shared numerics -----------------------------------------------------------
def _fix_signs(modes: np.ndarray) -> np.ndarray:
    """Flip rows so that each one's entry of largest magnitude is positive (deterministic)."""
    if modes.size == 0:
        return modes
    rows = np.arange(modes.shape[0])
    signs = np.sign(modes[rows, np.argmax(np.abs(modes), axis=1)])
    return modes * np.where(signs == 0, 1.0, signs)[:, None]


def _svd(A: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Thin SVD of a scratch matrix (``gesdd``, or the slower, surer ``gesvd`` if it fails)."""
    options = {"full_matrices": False, "check_finite": False}
    try:
        return sla.svd(A, lapack_driver="gesdd", **options)
    except np.linalg.LinAlgError:
        return sla.svd(A, lapack_driver="gesvd", **options)


def _orthonormalize(modes: np.ndarray, product: _Product) -> np.ndarray:
    """Re-orthonormalise rows in the M inner product (Cholesky QR, at most twice)."""
    for _ in range(2 if len(modes) else 0):
        gram = modes @ product.apply(modes).T
        gram = (gram + gram.T) / 2
        if np.abs(gram - np.eye(len(gram))).max() <= _ORTH_TOL:
            break
        chol = sla.cholesky(gram, lower=True)
        modes = sla.solve_triangular(chol, modes, lower=True)
    return modes


def _gram_rtol(n_samples: int) -> float:
    """Relative singular-value floor of the method of snapshots (eigenvalues of C ~ eps ||C||)."""
    return max(10.0, math.sqrt(n_samples)) * math.sqrt(_EPS)


def _slab_matmul(W: np.ndarray, B: np.ndarray, out: np.ndarray, subtract: bool = False) -> None:
    """``out += W @ B`` (or ``-=``) by column slabs, so temporaries stay small."""
    for start in range(0, B.shape[1], _SLAB):
        cols = slice(start, start + _SLAB)
        if subtract:
            out[:, cols] -= W @ B[:, cols]
        else:
            out[:, cols] += W @ B[:, cols]


def _row_batches(X: Any, batch_size: int, pad: int = 0) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(start, buffer)``: consecutive row blocks of ``X`` as fresh writable arrays.

    ``buffer`` has shape (rows + pad, n_dof), the last ``pad`` rows zero. A
    NumPy ``X`` is cut every ``batch_size`` rows; a Dask one at row-chunk
    edges (see :func:`_dask_row_batches`). Callers drop their reference
    before asking for the next batch, so one batch is alive at a time.
    """
    if _is_dask(X):
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
    for first, last in _group_chunks(sizes, batch_size):
        start = int(edges[first])
        buffer = np.zeros((int(edges[last]) - start + pad, X.shape[1]))
        limit = max(1, (int(edges[last]) - start) // 8)
        for lo, hi in _group_chunks(sizes[first:last], limit):
            chunks = range(first + lo, first + hi)
            blocks = dask.compute(*(X.blocks[c] for c in chunks))
            for c, block in zip(chunks, blocks, strict=True):
                buffer[edges[c] - start : edges[c + 1] - start] = block
            del blocks
        yield start, buffer
        del buffer


def _group_chunks(sizes: Sequence[int], limit: int) -> list[tuple[int, int]]:
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


# -- exact and randomized SVD ----------------------------------------------------
def _centred_scaled(pod: POD, X: np.ndarray, product: _Product) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, (X - mean) sqrt(W))`` for the SVD methods (W the diagonal product or 1)."""
    mean = X.mean(axis=0) if pod.center else np.zeros(X.shape[1])
    A = X - mean
    if product.kind == "diagonal":
        A *= np.sqrt(product.diagonal)
    return mean, A


def _unscale(modes: np.ndarray, product: _Product) -> np.ndarray:
    return modes / np.sqrt(product.diagonal) if product.kind == "diagonal" else modes


def _fit_exact(pod: POD, X: np.ndarray, product: _Product) -> _Result:
    mean, A = _centred_scaled(pod, X, product)
    _, s, vt = _svd(A)
    total = float(s @ s)
    k = pod._choose(s, total, SVD_RTOL)
    return _Result(mean, s, _unscale(vt[:k], product), total, "exact")


def _fit_randomized(pod: POD, X: np.ndarray, product: _Product) -> _Result:
    mean, A = _centred_scaled(pod, X, product)
    total = float(np.vdot(A, A))
    _, s, vt = randomized_svd(
        A, n_components=min(int(pod.n_modes), *A.shape), random_state=pod.random_state
    )
    k = pod._choose(s, total, SVD_RTOL)
    return _Result(mean, s, _unscale(vt[:k], product), total, "randomized")


# -- method of snapshots --------------------------------------------------------
def _fit_snapshots(pod: POD, X: Any, product: _Product) -> _Result:
    if _is_dask(X):
        mean, C = _gram_dask(X, product, pod.center, pod.batch_size)
    else:
        mean = X.mean(axis=0) if pod.center else np.zeros(X.shape[1])
        A = X - mean
        C = A @ product.apply(A).T
    C = (C + C.T) / 2
    eigenvalues, V = sla.eigh(C, check_finite=False)
    eigenvalues, V = eigenvalues[::-1], V[:, ::-1]
    s = np.sqrt(np.maximum(eigenvalues, 0.0))
    total = float(np.trace(C))
    k = pod._choose(s, total, _gram_rtol(X.shape[0]))
    W = V[:, :k] / s[:k]  # (n_samples, k): modes = W^T (X - mean)
    if _is_dask(X):
        modes = np.zeros((k, X.shape[1]))
        for start, B in _row_batches(X, pod.batch_size):
            B -= mean
            _slab_matmul(W[start : start + len(B)].T, B, modes)
            del B
    else:
        modes = W.T @ A
    return _Result(mean, s, _orthonormalize(modes, product), total, "snapshots")


def _gram_dask(X: Any, product: _Product, center: bool, batch_size: int) -> tuple[Any, Any]:
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
        raise ValueError(f"X (shape {X.shape}) contains NaN or infinite values")
    if not center:
        return np.zeros(d), gram
    gram = gram - gram.mean(axis=0) - gram.mean(axis=1)[:, None] + gram.mean()
    return shift + colsum / n, gram


# -- incremental SVD --------------------------------------------------------------
def _fit_incremental(pod: POD, X: Any, product: _Product) -> _Result:
    d = X.shape[1]
    keep = int(pod.n_modes) + OVERSAMPLING if pod.n_modes is not None else int(pod.batch_size)
    scale = np.sqrt(product.diagonal) if product.kind == "diagonal" else None
    state = _Incremental(mean=np.zeros(d), s=np.zeros(0), V=np.zeros((0, d)))
    pad = 1 if pod.center else 0
    for start, A in _row_batches(X, pod.batch_size, pad=pad):
        rows = len(A) - pad
        if scale is not None:
            A[:rows] *= scale
        state.update(A, rows, pod.center, keep, where=f"rows {start}..{start + rows - 1}")
        del A  # its memory now holds Q; free it before the next batch is read
    k = pod._choose(state.s, state.total, SVD_RTOL)
    mean = state.mean / scale if scale is not None else state.mean
    return _Result(mean, state.s, _unscale(state.V[:k], product), state.total, "incremental")


@dataclass
class _Incremental:
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
            raise ValueError(f"X: NaN or infinite values in {where}")
        self.total += energy
        self.s, self.V = _brand_update(self.s, self.V, A, keep)

    def _center(self, A: np.ndarray, rows: int) -> None:
        """Centre the batch on its mean; the spare row carries the mean shift (Ross et al.)."""
        batch_mean = A[:rows].mean(axis=0)
        A[:rows] -= batch_mean
        n_old, n_new = self.n_seen, self.n_seen + rows
        shift = batch_mean - self.mean
        A[rows] = math.sqrt(n_old * rows / n_new) * shift
        self.mean = self.mean + (rows / n_new) * shift
        self.n_seen = n_new


def _brand_update(
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
        _slab_matmul(coeffs, V, A, subtract=True)
        P += coeffs
    Q, R = sla.qr(A.T, mode="economic", overwrite_a=True, check_finite=False)
    core = np.zeros((A.shape[0] + k, k + R.shape[0]))
    core[:k, :k] = np.diag(s)
    core[k:, :k] = P
    core[k:, k:] = R.T
    _, s_new, wt = _svd(core)
    keep = min(keep, int(np.count_nonzero(s_new > SVD_RTOL * s_new[0])) if s_new[0] > 0 else 0)
    V_new = np.zeros((keep, A.shape[1]))
    _slab_matmul(wt[:keep, :k], V, V_new)
    _slab_matmul(wt[:keep, k:], Q.T, V_new)
    return s_new[:keep], _orthonormalize(V_new, _Product("none"))


_FITTERS: dict[str, Callable[[POD, Any, _Product], _Result]] = {
    "exact": _fit_exact,
    "randomized": _fit_randomized,
    "snapshots": _fit_snapshots,
    "incremental": _fit_incremental,
}
