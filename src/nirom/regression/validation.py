"""Input checks and output standardisation that every regressor shares.

Regressors map parameters ``X`` of shape ``(n, d)`` (unit cube) to reduced
coordinates ``y`` of shape ``(n, r)`` or ``(n,)``. Bad input raises a
:class:`~nirom.errors.ParameterError` (a ``ValueError``) naming the array and
its shape; a saved model missing arrays raises a
:class:`~nirom.errors.ModelError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.sparse import issparse

from nirom.errors import ModelError, ParameterError


def as_float_array(A: ArrayLike, name: str) -> np.ndarray:
    """``A`` as a float ndarray; sparse and complex data are refused."""
    if issparse(A):
        raise ParameterError(f"Sparse data was passed for {name}, but dense data is required")
    A = np.asarray(A)
    if np.iscomplexobj(A):
        raise ParameterError(f"Complex data not supported: {name} of shape {A.shape}")
    return A.astype(float)


def check_inputs(X: ArrayLike, n_features: int | None = None, who: str = "") -> np.ndarray:
    """Return ``X`` as a finite float array of shape ``(n, d)``, or raise ParameterError.

    ``n_features`` is the number of columns the fitted model ``who`` expects (None at fit).
    """
    X = as_float_array(X, "X")
    if X.ndim != 2:
        raise ParameterError(
            f"X must have shape (n_samples, n_features), got shape {X.shape}. "
            "Reshape your data to 2-D."
        )
    for axis, what in enumerate(("sample", "feature")):
        if X.shape[axis] == 0:
            raise ParameterError(
                f"Found array with 0 {what}(s) (shape={X.shape}) while a minimum of 1 is required."
            )
    if n_features is not None and X.shape[1] != n_features:
        raise ParameterError(
            f"X has {X.shape[1]} features, but {who} is expecting {n_features} features as "
            f"input (X has shape {X.shape})"
        )
    if not np.isfinite(X).all():
        raise ParameterError(f"X of shape {X.shape} holds NaN or infinite values")
    return X


def check_targets(y: ArrayLike, n_samples: int, who: str = "") -> np.ndarray:
    """Return ``y`` as a finite float array of shape ``(n_samples,)`` or ``(n_samples, r)``."""
    if y is None:
        raise ParameterError(f"{who} requires y to be passed, but the target y is None")
    y = as_float_array(y, "Y")
    if y.ndim not in (1, 2):
        raise ParameterError(
            f"Y must have shape (n_samples,) or (n_samples, r), got shape {y.shape}"
        )
    if y.shape[0] != n_samples:
        raise ParameterError(f"Y has shape {y.shape} but X has {n_samples} rows")
    if not np.isfinite(y).all():
        raise ParameterError(f"Y of shape {y.shape} holds NaN or infinite values")
    return y


def check_saved(arrays: Mapping[str, Any], keys: Iterable[str], cls: type) -> None:
    """Raise ModelError naming the arrays a saved ``cls`` model lacks."""
    missing = [k for k in keys if k not in arrays]
    if missing:
        raise ModelError(f"saved {cls.__name__} lacks arrays {missing}")


def check_saved_shapes(cls: type, expected: Mapping[str, tuple[tuple[int, ...], Any]]) -> None:
    """Raise ModelError naming the first saved array (name -> (shape, array)) of another shape."""
    for name, (shape, value) in expected.items():
        if np.shape(value) != shape:
            raise ModelError(
                f"saved {cls.__name__} array {name!r} has shape {np.shape(value)}, expected {shape}"
            )


def standardise(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and stds of ``y`` (n, r); a (near-)constant column gets std 1."""
    mean = y.mean(axis=0)
    std = y.std(axis=0)
    constant = std <= 10 * np.finfo(float).eps * np.maximum(1.0, np.abs(mean))
    return mean, np.where(constant, 1.0, std)
