"""Regressors from unit-cube parameters ``X`` (n, d) to reduced coordinates ``Y`` (n, r).

Both follow scikit-learn's estimator conventions and save as data, not pickle:
``est.get_params()`` (JSON) plus ``est.to_arrays()`` (numpy arrays), read back by
``Class.from_saved(params, arrays)``.

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
