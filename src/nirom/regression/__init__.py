"""Regressors from unit-cube parameters ``X`` (n, d) to reduced coordinates ``Y`` (n, r).

They share :class:`~nirom.regression.base.Regressor` (scikit-learn's estimator
conventions: keyword-only hyperparameters, ``fit(X, y)``, ``predict(X, return_std)``)
and its input checks (:mod:`nirom.regression.validation`), and save as data, not
pickle: ``est.to_json()`` (the hyperparameters) plus ``est.to_arrays()`` (numpy
arrays), read back by ``Class.from_saved(state, arrays)``; they are registered
as family ``"regressor"`` of :mod:`nirom.saving` (``gp``, ``rbf``, ``mlp``).

- :class:`GPRegressor`: Gaussian process per output (or shared), with a posterior
  standard deviation and a pure-numpy predictor.
- :class:`RBFRegressor`: radial-basis-function interpolation (scipy), no uncertainty.
- :class:`MLPRegressor`: small neural network trained with PyTorch (optional
  dependency), predicted in numpy; no uncertainty.
"""

from nirom.regression.gp import GPRegressor
from nirom.regression.mlp import MLPRegressor
from nirom.regression.rbf import RBFRegressor

__all__ = ["GPRegressor", "MLPRegressor", "RBFRegressor"]
