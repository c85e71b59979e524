"""Radial-basis-function interpolation of reduced coordinates.

:class:`RBFRegressor` wraps :class:`scipy.interpolate.RBFInterpolator`: it maps
parameters ``X`` of shape ``(n, d)``, scaled by the caller to the unit cube,
to reduced coordinates ``Y`` of shape ``(n, r)``. It interpolates exactly
(``smoothing=0``), fits in one linear solve and needs no hyperparameter
search, but gives no uncertainty. A fitted model is saved as its training
data and hyperparameters; :meth:`RBFRegressor.from_saved` rebuilds the same
interpolant by the same deterministic solve.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.interpolate import RBFInterpolator
from scipy.spatial import cKDTree
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from nirom.regression.gp import check_inputs, check_saved, check_targets

# Kernels whose interpolant does not depend on epsilon (scipy's "scale invariant" ones).
SCALE_FREE_KERNELS = ("linear", "thin_plate_spline", "cubic", "quintic")
SHAPED_KERNELS = ("multiquadric", "inverse_multiquadric", "inverse_quadratic", "gaussian")
_SAVED_KEYS = ("X_train", "Y_train", "epsilon", "y_ndim")


def mean_nearest_neighbour_distance(X: np.ndarray) -> float:
    """Mean distance from each row of ``X`` (n, d), n >= 2, to its nearest other row."""
    distances, _ = cKDTree(X).query(X, k=2)
    return float(distances[:, 1].mean())


class RBFRegressor(RegressorMixin, BaseEstimator):
    """RBF interpolation from unit-cube parameters to reduced coordinates.

    Parameters
    ----------
    kernel : str
        One of ``SCALE_FREE_KERNELS`` or ``SHAPED_KERNELS`` (scipy's names).
    smoothing : float
        0 interpolates; larger values trade fit for smoothness (scipy's meaning).
    epsilon : float or None
        Shape parameter (kernel of ``epsilon * distance``). None: 1 for the scale-free
        kernels, ``1 / mean nearest-neighbour distance`` of the training inputs otherwise.
    degree : int or None
        Degree of the added polynomial; None is scipy's minimum for the kernel
        (1 for the thin plate spline, so linear data are reproduced exactly).

    Attributes
    ----------
    X_train_ : ndarray of shape (n, d)
    Y_train_ : ndarray of shape (n, r)
    epsilon_ : float
        The shape parameter used.
    interpolator_ : scipy.interpolate.RBFInterpolator
    y_ndim_ : int
        1 if ``fit`` got a 1-D ``Y`` (predictions are then 1-D), else 2.
    n_features_in_ : int
    n_outputs_ : int
    """

    def __init__(
        self,
        kernel: str = "thin_plate_spline",
        smoothing: float = 0.0,
        epsilon: float | None = None,
        degree: int | None = None,
    ) -> None:
        self.kernel = kernel
        self.smoothing = smoothing
        self.epsilon = epsilon
        self.degree = degree

    def fit(self, X: ArrayLike, Y: ArrayLike) -> RBFRegressor:
        """Solve for the interpolation weights.

        Parameters
        ----------
        X : array-like of shape (n, d)
            Parameters in the unit cube, pairwise distinct.
        Y : array-like of shape (n, r) or (n,)
            Reduced coordinates.

        Returns
        -------
        self
        """
        if self.kernel not in SCALE_FREE_KERNELS + SHAPED_KERNELS:
            raise ValueError(
                f"unknown RBF kernel {self.kernel!r}; "
                f"choose from {SCALE_FREE_KERNELS + SHAPED_KERNELS}"
            )
        X = check_inputs(X)
        Y = check_targets(Y, X.shape[0], type(self).__name__)
        if X.shape[0] < 2:
            raise ValueError(
                f"RBF interpolation needs 2 samples or more, got 1 sample (X has shape {X.shape})"
            )
        self._build(X, Y.reshape(len(Y), -1), self._default_epsilon(X), Y.ndim)
        return self

    def _default_epsilon(self, X: np.ndarray) -> float:
        if self.epsilon is not None:
            return float(self.epsilon)
        if self.kernel in SCALE_FREE_KERNELS:
            return 1.0
        spacing = mean_nearest_neighbour_distance(X)
        if spacing == 0.0:
            raise ValueError(f"X of shape {X.shape} has only repeated rows; cannot set epsilon")
        return 1.0 / spacing

    def _build(self, X: np.ndarray, Y: np.ndarray, epsilon: float, y_ndim: int) -> None:
        self.interpolator_ = RBFInterpolator(
            X,
            Y,
            kernel=self.kernel,
            epsilon=epsilon,
            smoothing=self.smoothing,
            degree=self.degree,
        )
        self.X_train_, self.Y_train_, self.epsilon_, self.y_ndim_ = X, Y, epsilon, y_ndim
        self.n_features_in_ = int(X.shape[1])
        self.n_outputs_ = int(Y.shape[1])

    def predict(self, X: ArrayLike, return_std: bool = False) -> np.ndarray:
        """Interpolated reduced coordinates at ``X``.

        Parameters
        ----------
        X : array-like of shape (m, d)
            Parameters in the unit cube.
        return_std : bool
            Must be False: RBF interpolation gives no uncertainty.

        Returns
        -------
        ndarray of shape (m, r), or (m,) if fitted with 1-D ``Y``; units of ``Y``.
        """
        if return_std:
            raise ValueError(
                "RBF interpolation gives no uncertainty; use GPRegressor for error bars"
            )
        check_is_fitted(self, "interpolator_")
        X = check_inputs(X, self.n_features_in_, type(self).__name__)
        Y = self.interpolator_(X)
        return Y[:, 0] if self.y_ndim_ == 1 else Y

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The fitted state as named numpy arrays (save with ``get_params()`` as JSON)."""
        check_is_fitted(self, "interpolator_")
        return {
            "X_train": self.X_train_,
            "Y_train": self.Y_train_,
            "epsilon": np.array(self.epsilon_),
            "y_ndim": np.array(self.y_ndim_),
        }

    @classmethod
    def from_saved(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> RBFRegressor:
        """Rebuild a fitted regressor from ``get_params()`` and ``to_arrays()``."""
        check_saved(arrays, _SAVED_KEYS, cls)
        est = cls(**params)
        X = check_inputs(arrays["X_train"])
        Y = check_targets(arrays["Y_train"], X.shape[0], cls.__name__).reshape(len(X), -1)
        est._build(X, Y, float(arrays["epsilon"]), int(arrays["y_ndim"]))
        return est

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
