"""Gaussian-process regression of reduced coordinates, with a fast numpy predictor.

:class:`GPRegressor` maps parameters ``X`` of shape ``(n, d)``, scaled by the
caller to the unit cube ``[0, 1]^d``, to reduced coordinates ``Y`` of shape
``(n, r)``. Hyperparameters are learned by
:class:`sklearn.gaussian_process.GaussianProcessRegressor` (Matern kernel with
one length scale per input, times a signal variance, plus a learned nugget or a
fixed noise); everything prediction needs is then copied into plain numpy
arrays, so ``predict`` is a few vectorised numpy calls and a fitted model is
saved as data (:meth:`GPRegressor.to_arrays` / :meth:`GPRegressor.from_saved`),
never as a pickled scikit-learn object.

With ``shared_kernel=False`` (the default) each output column gets its own GP
and kernel ("per mode"), which fits POD coefficients of very different
smoothness best; ``shared_kernel=True`` fits one kernel for all columns, which
is ``r`` times cheaper to fit, store and to evaluate the variance of.

Outputs are standardised per column before fitting (constant column: std 1).
Learned kernel quantities (``signal_variance_``, ``noise_``, ``alpha_``,
``cholesky_``) are in these standardised units; predictions are in the
original units of ``Y``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.linalg import solve_triangular
from scipy.sparse import issparse
from scipy.special import gamma, kv
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Kernel, Matern, WhiteKernel
from sklearn.utils.validation import check_is_fitted

from nirom.errors import ParameterError

LENGTH_SCALE_BOUNDS = (1e-3, 1e3)
SIGNAL_VARIANCE_BOUNDS = (1e-5, 1e5)
NOISE_BOUNDS = (1e-10, 1e-1)
NOISE_START = 1e-6
# Diagonal jitter of the training covariance when the noise is learned (scikit-learn's default).
JITTER = 1e-10
# Elements of the largest temporary array predict builds at once: cache-sized blocks for the
# mean; larger ones with the std, whose triangular solves read the Cholesky factors per block.
_BLOCK_ELEMENTS = 2**18
_STD_BLOCK_ELEMENTS = 2**23
_SAVED_KEYS = (
    "X_train",
    "length_scales",
    "signal_variance",
    "noise",
    "alpha",
    "cholesky",
    "y_mean",
    "y_std",
    "log_marginal_likelihood",
    "y_ndim",
)


# --- validation shared by the regressors ---------------------------------------------------


def _as_float_array(A: ArrayLike, name: str) -> np.ndarray:
    """``A`` as a float ndarray; sparse and complex data are refused."""
    if issparse(A):
        raise TypeError(f"Sparse data was passed for {name}, but dense data is required")
    A = np.asarray(A)
    if np.iscomplexobj(A):
        raise ValueError(f"Complex data not supported: {name} of shape {A.shape}")
    return A.astype(float)


def check_inputs(X: ArrayLike, n_features: int | None = None, who: str = "") -> np.ndarray:
    """Return ``X`` as a finite float array of shape ``(n, d)``, or raise ParameterError.

    ``n_features`` is the number of columns the fitted model ``who`` expects (None at fit).
    """
    X = _as_float_array(X, "X")
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


def check_targets(Y: ArrayLike, n_samples: int, who: str = "") -> np.ndarray:
    """Return ``Y`` as a finite float array of shape ``(n_samples,)`` or ``(n_samples, r)``."""
    if Y is None:
        raise ValueError(f"{who} requires y to be passed, but the target y is None")
    Y = _as_float_array(Y, "Y")
    if Y.ndim not in (1, 2):
        raise ValueError(f"Y must have shape (n_samples,) or (n_samples, r), got shape {Y.shape}")
    if Y.shape[0] != n_samples:
        raise ValueError(f"Y has shape {Y.shape} but X has {n_samples} rows")
    if not np.isfinite(Y).all():
        raise ValueError(f"Y of shape {Y.shape} holds NaN or infinite values")
    return Y


def check_saved(arrays: dict[str, np.ndarray], keys: tuple[str, ...], cls: type) -> None:
    """Raise ValueError naming the arrays a saved ``cls`` model lacks."""
    missing = [k for k in keys if k not in arrays]
    if missing:
        raise ValueError(f"saved {cls.__name__} lacks arrays {missing}")


# --- kernel ---------------------------------------------------------------------------------


def _distance_factor(nu: float) -> float:
    """Factor ``c`` with ``q = c * r**2`` the argument :func:`_matern_of_q` takes."""
    return 0.5 if math.isinf(nu) else 2.0 * nu


def _matern_of_q(q: np.ndarray, nu: float) -> np.ndarray:
    """Matern correlation (scikit-learn's definition) from ``q = _distance_factor(nu) * r**2``.

    ``r`` is the scaled distance; ``q`` (any shape) is overwritten. Closed forms for ``nu``
    in {0.5, 1.5, 2.5, inf}; other ``nu`` use the Bessel form.
    """
    if math.isinf(nu):
        return np.exp(np.negative(q, out=q), out=q)
    s = np.sqrt(q)  # sqrt(2 nu) * r
    if nu == 0.5:
        return np.exp(np.negative(s, out=s), out=s)
    if nu not in (1.5, 2.5):
        s[s == 0.0] = np.finfo(float).eps
        return (2.0 ** (1.0 - nu) / gamma(nu)) * s**nu * kv(nu, s)
    e = np.exp(-s)
    s += 1.0
    if nu == 2.5:
        q *= 1.0 / 3.0
        s += q
    s *= e
    return s


def _standardise(Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and stds of ``Y`` (n, r); a (near-)constant column gets std 1."""
    mean = Y.mean(axis=0)
    std = Y.std(axis=0)
    constant = std <= 10 * np.finfo(float).eps * np.maximum(1.0, np.abs(mean))
    return mean, np.where(constant, 1.0, std)


class GPRegressor(RegressorMixin, BaseEstimator):
    """Gaussian-process regression from unit-cube parameters to reduced coordinates.

    Parameters
    ----------
    nu : float
        Matern smoothness: 0.5, 1.5, 2.5 (default) or inf have closed forms; other
        positive values use the slower Bessel form.
    n_restarts : int
        Extra optimiser starts from random hyperparameters (per GP).
    shared_kernel : bool
        False: one GP, with its own kernel, per output column. True: one GP whose
        kernel all columns share.
    noise : float or None
        None learns a nugget (WhiteKernel, bounds 1e-10..1e-1); a number fixes the
        noise variance, in standardised output units (1 = the output variance).
    random_state : int
        Seed of the optimiser restarts.

    Attributes
    ----------
    length_scales_ : ndarray of shape (n_models, d)
        Length scales per model and input, in unit-cube units. ``n_models`` is
        ``n_outputs_``, or 1 with ``shared_kernel``.
    signal_variance_ : ndarray of shape (n_models,)
        Kernel amplitude, standardised output units.
    noise_ : ndarray of shape (n_models,)
        Learned nugget or the fixed ``noise``, standardised output units.
    log_marginal_likelihood_ : ndarray of shape (n_models,)
        At the optimum.
    X_train_ : ndarray of shape (n, d)
    alpha_ : ndarray of shape (n, r)
        Weights ``K^-1 y`` of the standardised outputs.
    cholesky_ : ndarray of shape (n_models, n, n)
        Lower Cholesky factor of each training covariance (noise included).
    y_mean_, y_std_ : ndarray of shape (r,)
        Output standardisation.
    y_ndim_ : int
        1 if ``fit`` got a 1-D ``Y`` (predictions are then 1-D), else 2.
    n_features_in_ : int
    n_outputs_ : int
    """

    def __init__(
        self,
        nu: float = 2.5,
        n_restarts: int = 4,
        shared_kernel: bool = False,
        noise: float | None = None,
        random_state: int = 0,
    ) -> None:
        self.nu = nu
        self.n_restarts = n_restarts
        self.shared_kernel = shared_kernel
        self.noise = noise
        self.random_state = random_state

    # --- fitting ----------------------------------------------------------------------------

    def fit(self, X: ArrayLike, Y: ArrayLike) -> GPRegressor:
        """Learn kernel hyperparameters and prediction weights.

        Parameters
        ----------
        X : array-like of shape (n, d)
            Parameters in the unit cube.
        Y : array-like of shape (n, r) or (n,)
            Reduced coordinates.

        Returns
        -------
        self
        """
        self._check_hyperparameters()
        X = check_inputs(X)
        Y = check_targets(Y, X.shape[0], type(self).__name__)
        y_ndim, Y = Y.ndim, Y.reshape(len(Y), -1)
        self.y_mean_, self.y_std_ = _standardise(Y)
        Z = (Y - self.y_mean_) / self.y_std_
        targets = [Z] if self.shared_kernel else [Z[:, k] for k in range(Z.shape[1])]
        fits = [self._fit_one(X, z) for z in targets]
        self.X_train_ = X
        self.y_ndim_ = int(y_ndim)
        self._store_fits(fits)
        self._prepare_predict()
        return self

    def _check_hyperparameters(self) -> None:
        if not (isinstance(self.nu, (int, float)) and self.nu > 0):
            raise ValueError(f"nu must be a positive number, got {self.nu!r}")
        if not (isinstance(self.n_restarts, (int, np.integer)) and self.n_restarts >= 0):
            raise ValueError(f"n_restarts must be a non-negative integer, got {self.n_restarts!r}")
        if self.noise is not None and not (math.isfinite(self.noise) and self.noise >= 0):
            raise ValueError(f"noise must be None or a finite number >= 0, got {self.noise!r}")

    def _kernel(self, d: int) -> Kernel:
        """Initial kernel: amplitude * anisotropic Matern (+ nugget when noise is learned)."""
        kernel = ConstantKernel(1.0, SIGNAL_VARIANCE_BOUNDS) * Matern(
            length_scale=np.ones(d), length_scale_bounds=LENGTH_SCALE_BOUNDS, nu=float(self.nu)
        )
        if self.noise is None:
            kernel = kernel + WhiteKernel(NOISE_START, NOISE_BOUNDS)
        return kernel

    def _fit_one(self, X: np.ndarray, z: np.ndarray) -> GaussianProcessRegressor:
        """Fit one scikit-learn GP to standardised outputs ``z`` of shape (n,) or (n, r)."""
        gpr = GaussianProcessRegressor(
            kernel=self._kernel(X.shape[1]),
            alpha=JITTER if self.noise is None else self.noise,
            n_restarts_optimizer=self.n_restarts,
            normalize_y=False,
            random_state=self.random_state,
        )
        with warnings.catch_warnings():
            # A length scale at its upper bound (an input a mode ignores) or the nugget at its
            # lower bound (noise-free data) is an expected optimum here, not a failure.
            warnings.filterwarnings(
                "ignore", message=".*close to the specified", category=ConvergenceWarning
            )
            return gpr.fit(X, z)

    def _store_fits(self, fits: list[GaussianProcessRegressor]) -> None:
        """Copy what prediction needs out of the fitted scikit-learn GPs."""
        d = self.X_train_.shape[1]
        if self.noise is None:  # kernel_ = amplitude * Matern + WhiteKernel
            products = [g.kernel_.k1 for g in fits]
            self.noise_ = np.array([g.kernel_.k2.noise_level for g in fits], dtype=float)
        else:  # kernel_ = amplitude * Matern
            products = [g.kernel_ for g in fits]
            self.noise_ = np.full(len(fits), float(self.noise))
        self.signal_variance_ = np.array([p.k1.constant_value for p in products], dtype=float)
        self.length_scales_ = np.stack(
            [np.broadcast_to(np.asarray(p.k2.length_scale, dtype=float), (d,)) for p in products]
        )
        n = self.X_train_.shape[0]
        self.alpha_ = np.column_stack([g.alpha_.reshape(n, -1) for g in fits])
        self.cholesky_ = np.stack([g.L_ for g in fits])
        self.log_marginal_likelihood_ = np.array(
            [g.log_marginal_likelihood_value_ for g in fits], dtype=float
        )

    def _prepare_predict(self) -> None:
        self.n_features_in_ = int(self.X_train_.shape[1])
        self.n_outputs_ = int(self.alpha_.shape[1])
        # Precomputed for predict: scaled inverse squared length scales, and the weights
        # signal_variance * alpha, (n_models, n) per mode or (n, r) shared.
        self._q_scale = _distance_factor(self.nu) / self.length_scales_**2
        weights = self.signal_variance_[:, None] * self.alpha_.T
        self._weights = weights.T.copy() if self.length_scales_.shape[0] == 1 else weights

    # --- prediction -------------------------------------------------------------------------

    def predict(
        self, X: ArrayLike, return_std: bool = False
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Posterior mean (and std of the latent function, noise excluded) at ``X``.

        Parameters
        ----------
        X : array-like of shape (m, d)
            Parameters in the unit cube.
        return_std : bool
            Also return the posterior standard deviation.

        Returns
        -------
        mean : ndarray of shape (m, r), or (m,) if fitted with 1-D ``Y``
            In the units of ``Y``.
        std : ndarray of the same shape, only with ``return_std``
        """
        check_is_fitted(self, "alpha_")
        X = check_inputs(X, self.n_features_in_, type(self).__name__)
        n, d = self.X_train_.shape
        budget = _STD_BLOCK_ELEMENTS if return_std else _BLOCK_ELEMENTS
        rows = max(1, budget // (n * max(d, self._q_scale.shape[0])))
        parts = [self._predict_block(X[i : i + rows], return_std) for i in range(0, len(X), rows)]
        mean = np.concatenate([p[0] for p in parts]) * self.y_std_ + self.y_mean_
        if self.y_ndim_ == 1:
            mean = mean[:, 0]
        if not return_std:
            return mean
        std = np.concatenate([p[1] for p in parts]) * self.y_std_
        return mean, std[:, 0] if self.y_ndim_ == 1 else std

    def _correlation(self, X: np.ndarray) -> np.ndarray:
        """Matern correlation of queries (m, d) with the training inputs: (n_models, m, n)."""
        m, n = X.shape[0], self.X_train_.shape[0]
        diff2 = (X[:, None, :] - self.X_train_[None, :, :]) ** 2
        q = self._q_scale @ diff2.reshape(m * n, -1).T
        return _matern_of_q(q, self.nu).reshape(-1, m, n)

    def _predict_block(self, X: np.ndarray, return_std: bool) -> tuple[np.ndarray, np.ndarray]:
        """Standardised mean (m, r) and, if asked, std (m, r) at a block of queries."""
        c = self._correlation(X)
        if c.shape[0] == 1:
            mean = c[0] @ self._weights
        else:
            mean = np.einsum("kmn,kn->mk", c, self._weights)
        if not return_std:
            return mean, np.empty(0)
        # Latent variance s - |L^-1 k|^2 with k = s c, s the signal variance (noise excluded).
        v = solve_triangular(self.cholesky_, c.transpose(0, 2, 1), lower=True, check_finite=False)
        s = self.signal_variance_[:, None]
        var = s - s**2 * np.einsum("kni,kni->ki", v, v)
        std = np.sqrt(np.maximum(var, 0.0)).T
        return mean, np.broadcast_to(std, mean.shape)

    # --- saving -----------------------------------------------------------------------------

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The fitted state as named numpy arrays (save with ``get_params()`` as JSON).

        ``cholesky`` has shape (n_models, n, n): 100 MB for n=800 and 20 per-mode GPs.
        """
        check_is_fitted(self, "alpha_")
        return {
            "X_train": self.X_train_,
            "length_scales": self.length_scales_,
            "signal_variance": self.signal_variance_,
            "noise": self.noise_,
            "alpha": self.alpha_,
            "cholesky": self.cholesky_,
            "y_mean": self.y_mean_,
            "y_std": self.y_std_,
            "log_marginal_likelihood": self.log_marginal_likelihood_,
            "y_ndim": np.array(self.y_ndim_),
        }

    @classmethod
    def from_saved(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> GPRegressor:
        """Rebuild a fitted regressor from ``get_params()`` and ``to_arrays()``; no refit."""
        check_saved(arrays, _SAVED_KEYS, cls)
        est = cls(**params)
        est._check_hyperparameters()
        a = {k: np.asarray(arrays[k], dtype=float) for k in _SAVED_KEYS}
        est.X_train_, est.alpha_, est.cholesky_ = a["X_train"], a["alpha"], a["cholesky"]
        est.length_scales_, est.signal_variance_ = a["length_scales"], a["signal_variance"]
        est.noise_, est.log_marginal_likelihood_ = a["noise"], a["log_marginal_likelihood"]
        est.y_mean_, est.y_std_, est.y_ndim_ = a["y_mean"], a["y_std"], int(a["y_ndim"])
        est._prepare_predict()
        est._check_saved_shapes()
        return est

    def _check_saved_shapes(self) -> None:
        n, d = self.X_train_.shape
        r = self.n_outputs_
        n_models = 1 if self.shared_kernel else r
        expected = {
            "alpha": ((n, r), self.alpha_),
            "cholesky": ((n_models, n, n), self.cholesky_),
            "length_scales": ((n_models, d), self.length_scales_),
            "signal_variance": ((n_models,), self.signal_variance_),
            "noise": ((n_models,), self.noise_),
            "y_mean": ((r,), self.y_mean_),
            "y_std": ((r,), self.y_std_),
        }
        for name, (shape, value) in expected.items():
            if value.shape != shape:
                raise ValueError(
                    f"saved GPRegressor array {name!r} has shape {value.shape}, expected {shape}"
                )

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
