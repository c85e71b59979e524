"""What every regressor of reduced coordinates shares: the fit/predict/save shape.

A :class:`Regressor` maps parameters ``X`` of shape ``(n, d)``, scaled by the
caller to the unit cube, to reduced coordinates ``y`` of shape ``(n, r)`` or
``(n,)``. Subclasses declare their hyperparameters (``_constraints``) and
implement ``_fit(X, Y)`` on a 2-D ``Y``, ``_predict(X, return_std)``,
``to_arrays()`` and ``_load(arrays)``; this class checks the inputs, keeps
``y``'s dimension, and saves the hyperparameters as JSON.

scikit-learn users write ``fit(X, y)``; ``y`` may be 1-D (one coordinate).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted

from nirom.errors import ModelError, ParameterError
from nirom.estimator import Estimator
from nirom.regression.validation import check_inputs, check_targets
from nirom.saving import Saveable


class Regressor(RegressorMixin, Estimator, Saveable):
    """Unit-cube parameters to reduced coordinates, scikit-learn style, saved as data.

    Attributes (after ``fit``)
    --------------------------
    y_ndim_ : int
        1 if ``fit`` got a 1-D ``y`` (predictions are then 1-D), else 2.
    n_features_in_ : int
    n_outputs_ : int
    """

    #: whether ``predict(X, return_std=True)`` gives a standard deviation
    provides_std: ClassVar[bool] = False
    #: the fitted attribute that says the regressor is fitted
    _fitted: ClassVar[str] = ""

    def fit(self, X: ArrayLike, y: ArrayLike) -> Any:
        """Learn the map from parameters to reduced coordinates.

        Parameters
        ----------
        X : array-like of shape (n, d)
            Parameters in the unit cube.
        y : array-like of shape (n, r) or (n,)
            Reduced coordinates.

        Returns
        -------
        self
        """
        self.check_params()
        X = check_inputs(X)
        y = check_targets(y, X.shape[0], type(self).__name__)
        self._fit(X, y.reshape(len(y), -1))
        self.y_ndim_ = int(y.ndim)
        return self

    def min_samples(self, n_features: int) -> tuple[int, str]:
        """The fewest training rows this regressor can fit with ``n_features`` inputs, and
        why (a phrase in parentheses, empty when the reason is only "two points")."""
        return 2, ""

    @abstractmethod
    def _fit(self, X: np.ndarray, Y: np.ndarray) -> None:
        """Fit on checked ``X`` (n, d) and 2-D ``Y`` (n, r); set the fitted attributes."""

    def predict(
        self, X: ArrayLike, return_std: bool = False
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Predicted reduced coordinates at ``X`` (and their standard deviation).

        Parameters
        ----------
        X : array-like of shape (m, d)
            Parameters in the unit cube.
        return_std : bool
            Also return the predictive standard deviation (regressors with
            ``provides_std`` only).

        Returns
        -------
        mean : ndarray of shape (m, r), or (m,) if fitted with 1-D ``y``; units of ``y``
        std : ndarray of the same shape, only with ``return_std``
        """
        if return_std and not self.provides_std:
            raise ParameterError(
                f"{type(self).__name__} gives no uncertainty; use GPRegressor for error bars"
            )
        fitted = (self._fitted,) if isinstance(self._fitted, str) else self._fitted
        if not all(name and name in self.__dict__ for name in fitted):  # sklearn's is slow
            check_is_fitted(self, self._fitted)
        X = check_inputs(X, self.n_features_in_, type(self).__name__)
        mean, std = self._predict(X, return_std)
        if self.y_ndim_ == 1:
            mean, std = mean[:, 0], None if std is None else std[:, 0]
        return (mean, std) if return_std else mean

    @abstractmethod
    def _predict(self, X: np.ndarray, return_std: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """Mean (m, r) and, if asked, std (m, r) at checked ``X``."""

    # -- saving ------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """The hyperparameters (what ``get_params()`` returns), JSON-compatible."""
        return self.params_to_json()

    @classmethod
    def from_saved(cls, state: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Any:
        """Rebuild a fitted regressor from :meth:`to_json` and :meth:`to_arrays`; no refit."""
        try:
            est = cls(**cls.params_from_json(state))
        except TypeError as exc:
            raise ModelError(f"saved {cls.__name__}: unknown hyperparameters ({exc})") from None
        est.check_params()
        est._load(arrays)
        return est

    @abstractmethod
    def _load(self, arrays: Mapping[str, np.ndarray]) -> None:
        """Set the fitted attributes from :meth:`to_arrays` output (checked)."""

    def summary(self) -> str:
        check_is_fitted(self, self._fitted)
        return f"{self.kind}: {self.n_features_in_} inputs -> {self.n_outputs_} outputs"

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
