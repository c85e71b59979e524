"""Proper orthogonal decomposition (POD) of snapshot sets: the offline reduction estimator.

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

The algorithms are plain functions (:mod:`nirom.reduction.algorithms`:
``"exact"``, ``"randomized"``, ``"snapshots"``; :mod:`nirom.reduction.incremental`:
``"incremental"``, streaming a Dask array). :class:`POD` picks one, keeps what
it returned, and projects, reconstructs and saves.

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

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import TransformerMixin
from sklearn.utils.validation import check_is_fitted

from nirom.checks import Anything, Boolean, Constraint, Integer, OneOf, Real
from nirom.errors import FieldError, HyperparameterError, ModelError
from nirom.estimator import Estimator
from nirom.reduction.algorithms import PODResult, pod_exact, pod_randomized, pod_snapshots
from nirom.reduction.incremental import pod_incremental
from nirom.reduction.inner_product import InnerProduct, check_product
from nirom.reduction.numerics import fix_signs
from nirom.reduction.streaming import is_dask, row_batches
from nirom.saving import Saveable, saveable

METHODS = ("auto", "exact", "randomized", "snapshots", "incremental")
#: Dask inputs larger than this (bytes) go to the incremental method under "auto".
AUTO_INCREMENTAL_BYTES = 2 * 1024**3
SAVE_TYPE = "nirom.POD"
#: Version 2 saves ``discarded_energy`` (and its alias ``energy``); version 1 only ``energy``.
SAVE_VERSION = 2
_READS_VERSIONS = (1, 2)

#: The rule of ``discarded_energy`` (and its alias ``energy``), shared with PODSurrogate.
ENERGY_FRACTION = Real(
    low=0,
    high=1,
    closed="neither",
    none=True,
    phrase="a number in (0, 1) (the discarded energy fraction)",
)

#: The rules of the truncation (``n_modes``, or ``discarded_energy`` and its alias
#: ``energy``), shared with PODSurrogate.
TRUNCATION: dict[str, Constraint] = {
    "n_modes": Integer(least=1, none=True),
    "discarded_energy": ENERGY_FRACTION,
    "energy": ENERGY_FRACTION,
}


@saveable("reduction", "pod")
class POD(Estimator, TransformerMixin, Saveable):
    """Proper orthogonal decomposition of snapshots, optionally in an ``M`` inner product.

    Parameters (keyword-only)
    -------------------------
    n_modes : int, optional
        Number of modes to keep.
    discarded_energy : float in (0, 1), optional
        Keep the fewest modes whose cumulative squared singular values reach
        ``1 - discarded_energy`` of the total (``discarded_energy=1e-4`` keeps
        99.99 %). With ``n_modes`` too, the smaller count wins; with neither,
        every mode above the numerical rank is kept (singular values above
        ``1e-12`` of the largest; about ``1.5e-7`` for the method of snapshots).
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
    energy : float, optional
        The former name of ``discarded_energy`` (an alias: give one of them).

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

        pod = POD(discarded_energy=1e-4, product=solver.mass_matrix()).fit(ds.to_dask("u"))
        Z = pod.transform(U_test)  # (n_test, pod.n_modes_)
        floor = pod.projection_error(U_test)  # (n_test,)
        saved = (pod.to_json(), pod.to_arrays())  # JSON + .npz, no pickle
    """

    _constraints: ClassVar[dict[str, Constraint]] = {
        **TRUNCATION,
        "method": OneOf(choices=METHODS),
        "center": Boolean(),
        "product": Anything(none=True, saved=False),
        "random_state": Integer(none=True),
        "batch_size": Integer(least=1),
    }
    _aliases: ClassVar[dict[str, str]] = {"energy": "discarded_energy"}

    def __init__(
        self,
        *,
        n_modes: int | None = None,
        discarded_energy: float | None = None,
        method: str = "auto",
        center: bool = True,
        product: Any = None,
        random_state: int | None = 0,
        batch_size: int = 256,
        energy: float | None = None,
    ) -> None:
        self._store_hyperparameters(locals())

    def _check_relations(self) -> None:
        if self.method == "randomized" and self.n_modes is None:
            raise HyperparameterError(
                "POD: method='randomized' needs n_modes (the number of modes to compute)"
            )

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
        self.check_params()
        X = as_snapshots(X)
        product = check_product(self.product, X.shape[1])
        method = self._resolve_method(X, product)
        truncation = {"n_modes": self.n_modes, "discarded_energy": self._value("discarded_energy")}
        if method == "exact":
            result = pod_exact(X, product, center=self.center, **truncation)
        elif method == "randomized":
            result = pod_randomized(
                X,
                self.n_modes,
                product,
                center=self.center,
                discarded_energy=truncation["discarded_energy"],
                random_state=self.random_state,
            )
        else:
            streaming = pod_snapshots if method == "snapshots" else pod_incremental
            result = streaming(
                X, product, center=self.center, batch_size=self.batch_size, **truncation
            )
        self._store(result, product, X.shape[1])
        return self

    def _resolve_method(self, X: Any, product: InnerProduct) -> str:
        n, d = X.shape
        dask = is_dask(X)
        method = self.method
        if method == "auto":
            if dask and X.nbytes > AUTO_INCREMENTAL_BYTES:
                return "snapshots" if product.kind == "matrix" else "incremental"
            if product.kind != "none" or d > 4 * n:
                return "snapshots"
            method = "exact"
        if method == "incremental" and product.kind == "matrix":
            raise HyperparameterError(
                "product: method='incremental' supports only a diagonal product (e.g. a lumped "
                "mass matrix); use method='snapshots' for a general inner product"
            )
        if method in ("exact", "randomized") and (dask or product.kind == "matrix"):
            return "snapshots"
        return method

    def _store(self, result: PODResult, product: InnerProduct, n_dof: int) -> None:
        s = result.singular_values
        k = result.modes.shape[0]
        self.modes_ = fix_signs(result.modes)
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
        X = as_snapshots(X, self.n_features_in_)
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
            raise FieldError(
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
        X = as_snapshots(X, self.n_features_in_)
        product = self._product
        if product.kind != "none" and product.matrix is None:
            raise ModelError(
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
        if not is_dask(X):
            return func(X)
        parts = []
        for _, B in row_batches(X, self.batch_size):
            parts.append(func(B))
            del B  # free this batch before the next one is read
        return np.concatenate(parts)

    # -- saving without pickle -------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """JSON-compatible hyperparameters and fitted scalars (the arrays are in :meth:`to_arrays`).

        The product matrix is not saved, only whether there was one.
        """
        check_is_fitted(self)
        return {
            "type": SAVE_TYPE,
            "format_version": SAVE_VERSION,
            "params": self.params_to_json(),
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
        cls, state: Mapping[str, Any], arrays: Mapping[str, Any], product: Any = None
    ) -> POD:
        """Rebuild a fitted POD from :meth:`to_json` and :meth:`to_arrays` output.

        Parameters
        ----------
        state : mapping
            What :meth:`to_json` returned (for example read back from JSON).
        arrays : mapping name -> array
            What :meth:`to_arrays` returned (for example an ``np.load`` of an .npz).
        product : sparse matrix or ndarray of shape (n_dof, n_dof), optional
            The inner product the POD was fitted with; needed only by
            :meth:`projection_error`. It is checked against the saved dual modes.
        """
        meta = dict(state)
        if meta.get("type") != SAVE_TYPE or meta.get("format_version") not in _READS_VERSIONS:
            raise ModelError(
                f"params: not a saved POD of format {SAVE_TYPE} version 1 or 2 "
                f"(type {meta.get('type')!r}, version {meta.get('format_version')!r})"
            )
        try:
            pod = cls(**cls.params_from_json(meta["params"]), product=product)
            kind, n_dof, k = meta["product_kind"], int(meta["n_dof"]), int(meta["n_modes"])
            total, method = float(meta["total_energy"]), str(meta["method"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"params: malformed saved POD ({exc!r})") from None
        pod.check_params()
        if kind not in ("none", "diagonal", "matrix"):
            raise ModelError(f"params: unknown product_kind {kind!r}")
        got = _saved_arrays(arrays, kind, n_dof, k)
        pod.modes_, pod.mean_ = got["modes"], got["mean"]
        pod.dual_modes_ = got.get("dual_modes", pod.modes_)
        pod.singular_values_ = got["singular_values"]
        pod.explained_energy_ = got["explained_energy"]
        pod.n_modes_, pod.total_energy_, pod.method_ = k, total, method
        pod.product_kind_, pod.n_features_in_ = kind, n_dof
        pod._product = _saved_product(product, kind, n_dof, pod)
        return pod

    def summary(self) -> str:
        check_is_fitted(self)
        captured = self.explained_energy_[-1] if self.n_modes_ else 0.0
        return f"{self.n_modes_} modes ({captured:.6%} of the energy, {self.method_})"


# -- validation ----------------------------------------------------------------
def as_snapshots(X: Any, n_dof: int | None = None) -> Any:
    """``X`` as checked float64 NumPy or float64 Dask, of shape (n_samples, n_dof)."""
    if sp.issparse(X):
        raise FieldError(f"X must be a dense array, got a sparse matrix of shape {X.shape}")
    if is_dask(X):
        X = X if X.dtype == np.float64 else X.astype(np.float64)
    else:
        X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise FieldError(
            f"X has shape {X.shape}; expected (n_samples, n_dof) with snapshots as rows "
            "(flatten each field to one row)"
        )
    if n_dof is not None and X.shape[1] != n_dof:
        raise FieldError(
            f"X has shape {X.shape}; this POD was fitted on {n_dof} dofs, "
            f"so expected (n_samples, {n_dof})"
        )
    if not is_dask(X) and not (np.isfinite(X.sum()) or np.isfinite(X).all()):
        raise FieldError(f"X (shape {X.shape}) contains NaN or infinite values")
    return X


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
            raise ModelError(f"arrays: {name!r} is missing")
        arr = np.array(arrays[name], dtype=np.float64)
        if (shape is not None and arr.shape != shape) or (shape is None and arr.ndim != 1):
            raise ModelError(f"arrays: {name!r} has shape {arr.shape}; expected {shape or '(n,)'}")
        out[name] = arr
    return out


def _saved_product(product: Any, kind: str, n_dof: int, pod: POD) -> InnerProduct:
    """The product a loaded POD measures errors with, checked against its dual modes."""
    if product is None:
        return InnerProduct(kind)
    if kind == "none":
        raise HyperparameterError("product: this POD was fitted without an inner product")
    checked = check_product(product, n_dof)
    dual = checked.apply(pod.modes_)
    gap = np.abs(dual - pod.dual_modes_).max()
    if gap > 1e-8 * max(np.abs(pod.dual_modes_).max(), 1e-300):
        raise HyperparameterError(
            "product does not match the inner product this POD was fitted with"
        )
    return checked
