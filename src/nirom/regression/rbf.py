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

from collections.abc import Mapping
from math import comb
from typing import ClassVar

import numpy as np
from scipy.interpolate import RBFInterpolator
from scipy.spatial import cKDTree
from sklearn.utils.validation import check_is_fitted

from nirom.checks import Constraint, Integer, OneOf, Real
from nirom.errors import ParameterError
from nirom.regression.base import Regressor
from nirom.regression.validation import check_inputs, check_saved, check_targets
from nirom.saving import saveable

# Kernels whose interpolant does not depend on epsilon (scipy's "scale invariant" ones).
SCALE_FREE_KERNELS = ("linear", "thin_plate_spline", "cubic", "quintic")
SHAPED_KERNELS = ("multiquadric", "inverse_multiquadric", "inverse_quadratic", "gaussian")
_SAVED_KEYS = ("X_train", "Y_train", "epsilon", "y_ndim")
# The polynomial degree scipy adds by default (and at least) for each kernel; -1: none.
MIN_DEGREE = {"multiquadric": 0, "linear": 0, "thin_plate_spline": 1, "cubic": 1, "quintic": 2}


def mean_nearest_neighbour_distance(X: np.ndarray) -> float:
    """Mean distance from each row of ``X`` (n, d), n >= 2, to its nearest other row."""
    distances, _ = cKDTree(X).query(X, k=2)
    return float(distances[:, 1].mean())


@saveable("regressor", "rbf")
class RBFRegressor(Regressor):
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
    y_ndim_, n_features_in_, n_outputs_
        See :class:`~nirom.regression.base.Regressor`.
    """

    _fitted = "interpolator_"
    _constraints: ClassVar[dict[str, Constraint]] = {
        "kernel": OneOf(choices=SCALE_FREE_KERNELS + SHAPED_KERNELS, label="RBF kernel"),
        "smoothing": Real(low=0),
        "epsilon": Real(low=0, closed="neither", none=True),
        "degree": Integer(least=-1, none=True),
    }

    def __init__(
        self,
        *,
        kernel: str = "thin_plate_spline",
        smoothing: float = 0.0,
        epsilon: float | None = None,
        degree: int | None = None,
    ) -> None:
        self._store_hyperparameters(locals())

    def min_samples(self, n_features: int) -> tuple[int, str]:
        """Two rows, or one per term of the added polynomial if it has more (scipy needs
        the polynomial determined: ``comb(n_features + degree, degree)`` terms)."""
        degree = self.degree if self.degree is not None else MIN_DEGREE.get(self.kernel, -1)
        terms = comb(n_features + degree, degree) if degree >= 0 else 0
        if terms <= 2:
            return 2, ""
        return terms, (
            f" (the {self.kernel} RBF adds a degree-{degree} polynomial: {terms} terms "
            f"in {n_features} inputs)"
        )

    def _fit(self, X: np.ndarray, Y: np.ndarray) -> None:
        """Solve for the interpolation weights (``X`` pairwise distinct, enough rows)."""
        least, why = self.min_samples(X.shape[1])
        if X.shape[0] < least:
            raise ParameterError(
                f"RBF interpolation needs {least} samples or more{why}, got "
                f"{X.shape[0]} sample{'s' if X.shape[0] != 1 else ''}"
            )
        self._build(X, Y, self._default_epsilon(X))

    def _default_epsilon(self, X: np.ndarray) -> float:
        if self.epsilon is not None:
            return float(self.epsilon)
        if self.kernel in SCALE_FREE_KERNELS:
            return 1.0
        spacing = mean_nearest_neighbour_distance(X)
        if spacing == 0.0:
            raise ParameterError(f"X of shape {X.shape} has only repeated rows; cannot set epsilon")
        return 1.0 / spacing

    def _build(self, X: np.ndarray, Y: np.ndarray, epsilon: float) -> None:
        self.interpolator_ = RBFInterpolator(
            X,
            Y,
            kernel=self.kernel,
            epsilon=epsilon,
            smoothing=self.smoothing,
            degree=self.degree,
        )
        self.X_train_, self.Y_train_, self.epsilon_ = X, Y, epsilon
        self.n_features_in_ = int(X.shape[1])
        self.n_outputs_ = int(Y.shape[1])

    def _predict(self, X: np.ndarray, return_std: bool) -> tuple[np.ndarray, None]:
        return self.interpolator_(X), None

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The fitted state as named numpy arrays (the hyperparameters are :meth:`to_json`)."""
        check_is_fitted(self, "interpolator_")
        return {
            "X_train": self.X_train_,
            "Y_train": self.Y_train_,
            "epsilon": np.array(self.epsilon_),
            "y_ndim": np.array(self.y_ndim_),
        }

    def _load(self, arrays: Mapping[str, np.ndarray]) -> None:
        """Rebuild the same interpolant by the same deterministic solve."""
        check_saved(arrays, _SAVED_KEYS, type(self))
        X = check_inputs(arrays["X_train"])
        Y = check_targets(arrays["Y_train"], X.shape[0], type(self).__name__).reshape(len(X), -1)
        self._build(X, Y, float(arrays["epsilon"]))
        self.y_ndim_ = int(arrays["y_ndim"])

    def summary(self) -> str:
        check_is_fitted(self, "interpolator_")
        return f"rbf: {self.kernel} through {self.X_train_.shape[0]} training points"
