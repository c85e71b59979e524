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

With ``rescale_std=True`` the predictive standard deviation of each column is
calibrated on the training data and multiplied by ``std_scale_``. Up to
``CV_MAX_SAMPLES`` (64) training points it is one factor for all columns: the root
mean square of the standardised errors of ``CV_FOLDS``-fold (8) cross-validation, each
fold's GPs refitted without it (from the full fit's optimum), so the factor sees how
much hyperparameters fitted to few points trust them (which leave-one-out with the
full fit's hyperparameters does not: on the 2 x 2 thermal block at 64 samples its
factors are 0.9-1.15, while errors at new points are 1.3 times the std; the cross-
validated factor is 1.18; ``CV_FOLDS`` more fits), times ``exp((X - 0.5) @ std_slope_)``, a
log-linear trend in the inputs fitted to the same held-out errors (the errors of a
stationary kernel grow where the function changes fastest: 0.37 to 3.0 over that
block's cube, largest where the conductivities are low). Above, one factor per
column, the product of

- the root mean square of the closed-form leave-one-out residuals of the GP
  (Rasmussen & Williams 2006, section 5.4.2), ``r_i = alpha_i / [K^-1]_ii``,
  over the latent std predicted for them (``1 / [K^-1]_ii`` less the nugget):
  about 1 when the kernel suits the data, above 1 for data rougher than the
  kernel, below for smoother ones;
- a degrees-of-freedom factor ``sqrt(n / (n - p))`` for the ``p`` kernel
  hyperparameters (length scales, amplitude, nugget) estimated from the same
  ``n`` points (as ``RSS / (n - p)`` estimates a regression's variance; the
  plug-in estimate is overconfident with few points; at most 2): 1.23 for 32
  points in 9 dimensions, 1.06 for 100, 1.01 for 400.

False (the default) keeps the GP's own variance.

Outputs are standardised per column before fitting (constant column: std 1).
Learned kernel quantities (``signal_variance_``, ``noise_``, ``alpha_``,
``cholesky_``) are in these standardised units; predictions are in the
original units of ``Y``.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable, Mapping
from typing import ClassVar

import numpy as np
from scipy.linalg import solve_triangular
from scipy.optimize import minimize
from scipy.special import gamma, kv
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Kernel, Matern, WhiteKernel
from sklearn.utils.validation import check_is_fitted

from nirom.checks import Boolean, Constraint, Integer, Real
from nirom.errors import ModelError
from nirom.progress import progress_bar
from nirom.regression.base import Regressor
from nirom.regression.validation import (  # noqa: F401 (check_inputs: its former home)
    check_inputs,
    check_saved,
    check_saved_shapes,
    check_targets,
    standardise,
)
from nirom.saving import saveable

LENGTH_SCALE_BOUNDS = (1e-3, 1e3)
SIGNAL_VARIANCE_BOUNDS = (1e-5, 1e5)
NOISE_BOUNDS = (1e-10, 1e-1)
NOISE_START = 1e-6
# Diagonal jitter of the training covariance when the noise is learned (scikit-learn's default).
JITTER = 1e-10
# A warm start reopens length scales above this (unit-cube units) to it: an input the previous
# mode ignored (length scale near its upper bound, zero gradient there) stays learnable.
WARM_LENGTH_SCALE_CAP = 2.0
# Relative change of the negative log marginal likelihood at which L-BFGS-B stops. SciPy's
# default (about 2e-9) spends a third of the evaluations moving it by less than 1e-2 (400
# thermal-block samples: 1,206 evaluations against 748, the same test error to 3 digits).
OPTIMISER_FTOL = 1e-5
# rescale_std: up to this many training points the std factor comes from CV_FOLDS-fold cross-
# validation with refitted hyperparameters (CV_FOLDS more fits, from the full fit's optimum);
# above, from the closed-form leave-one-out residuals and the degrees-of-freedom factor.
# 2 x 2 thermal block, 64 samples: leave-one-out factors 0.9-1.15 while the errors at 400 new
# points are 1.3 times the std; cross-validated 1.18. 3 x 3 block (benchmarks/coverage.py):
# 95 % coverage at 32 samples 91.8 % leave-one-out, 94.6 % cross-validated (with the trend);
# at 100, 94.0 and 95.9 % (RMS z 1.05 and 0.91, without the trend), the cross-validated fit
# 4 times slower: leave-one-out there.
CV_MAX_SAMPLES = 64
CV_FOLDS = 8
# Largest |slope| of the log std factor per unit-cube input (a factor of e over a range).
STD_SLOPE_BOUND = 1.0
# std_scale_ is the factor at this point of the unit cube (its centre); the trend is about it.
STD_TREND_CENTRE = 0.5
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


def _joint_std(Y: np.ndarray) -> float:
    """Root mean variance of the columns of ``Y``; 1 for constant outputs."""
    std = float(np.sqrt(np.mean(np.var(Y, axis=0))))
    return std if std > 10 * np.finfo(float).eps * max(1.0, float(np.abs(Y).max())) else 1.0


# --- kernel ---------------------------------------------------------------------------------


def _lbfgs(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]],
    theta: np.ndarray,
    bounds: np.ndarray,
) -> tuple[np.ndarray, float]:
    """scikit-learn's L-BFGS-B optimiser of log hyperparameters, with ``OPTIMISER_FTOL``."""
    result = minimize(
        objective,
        theta,
        method="L-BFGS-B",
        jac=True,
        bounds=bounds,
        options={"ftol": OPTIMISER_FTOL},
    )
    if not result.success:  # as scikit-learn's own optimiser reports it
        warnings.warn(f"L-BFGS-B stopped: {result.message}", ConvergenceWarning, stacklevel=2)
    return result.x, float(result.fun)


def _reopened(kernel: Kernel) -> Kernel:
    """A copy of a fitted kernel with length scales capped at ``WARM_LENGTH_SCALE_CAP``."""
    kernel = clone(kernel)
    matern = next(k for k in _parts(kernel) if isinstance(k, Matern))
    matern.length_scale = np.minimum(np.asarray(matern.length_scale), WARM_LENGTH_SCALE_CAP)
    return kernel


def _parts(kernel: Kernel) -> list[Kernel]:
    """The kernel and every kernel inside its sums and products."""
    parts = [kernel]
    for name in ("k1", "k2"):
        if hasattr(kernel, name):
            parts += _parts(getattr(kernel, name))
    return parts


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


def _log_linear_variance(X: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The std factor ``exp((b0 + X @ b) / 2)`` (one for all columns) fitted to standardised
    held-out errors ``z`` (n, r) at inputs ``X`` (n, d), by maximum likelihood of
    ``z ~ N(0, exp(b0 + X @ b))``: returns ``std_scale_`` (r,) filled with the factor at
    the cube's centre and ``std_slope_`` = ``b / 2`` (d,), the factor being
    ``std_scale_ * exp((X - 0.5) @ std_slope_)``. A variance that grows towards one end of a
    parameter's range (a solution that changes fastest there) gets wider bars there;
    ``b = 0`` is the root mean square of ``z``. The factor's log is kept within
    ``STD_SLOPE_BOUND`` of its value at the inputs' centre."""
    n, r = z.shape
    ok = np.isfinite(z)
    w = np.sum(np.where(ok, z, 0.0) ** 2, axis=1)
    counts = ok.sum(axis=1).astype(float)
    A = np.column_stack([np.ones(n), X])

    def nll(b: np.ndarray) -> tuple[float, np.ndarray]:
        eta = A @ b
        e = w * np.exp(-eta)
        return float(np.sum(e + counts * eta)), A.T @ (counts - e)

    start = np.zeros(A.shape[1])
    start[0] = np.log(max(w.sum() / max(counts.sum(), 1.0), 1e-12))
    b = minimize(nll, start, jac=True, method="L-BFGS-B").x
    slope = np.clip(b[1:] / 2, -STD_SLOPE_BOUND, STD_SLOPE_BOUND)
    centre = X.mean(axis=0)  # the clipped trend keeps the factor there
    level = b[0] / 2 + centre @ (b[1:] / 2) - (centre - STD_TREND_CENTRE) @ slope
    return np.full(r, float(np.exp(level))), slope


@saveable("regressor", "gp")
class GPRegressor(Regressor):
    """Gaussian-process regression from unit-cube parameters to reduced coordinates.

    Parameters
    ----------
    nu : float
        Matern smoothness: 0.5, 1.5, 2.5 (default) or inf have closed forms; other
        positive values use the slower Bessel form.
    n_restarts : int
        Extra optimiser starts from random hyperparameters, per GP (scikit-learn's
        ``n_restarts_optimizer`` of each ``GaussianProcessRegressor`` fitted here; the
        shorter name is the one saved models and study files use).
    shared_kernel : bool
        False: one GP, with its own kernel, per output column. True: one GP whose
        kernel all columns share.
    noise : float or None
        None learns a nugget (WhiteKernel, bounds 1e-10..1e-1); a number fixes the
        noise variance, in standardised output units (1 = the output variance).
    random_state : int
        Seed of the optimiser restarts.
    joint_scale : bool
        False: each output column is standardised by its own std. True: all
        columns by one (the root mean column variance), so that a shared
        kernel's likelihood weighs each column by its variance: fitted to POD
        coefficients, the energetic modes lead instead of the many small,
        noise-like ones (on tensile2d stresses with about 100 modes, the test
        error drops from 0.18 to 0.022).
    warm_start : bool
        With one GP per column: the first column's (the most energetic mode's)
        hyperparameters are optimised from ``n_restarts`` + 1 starts, each later
        column's from the previous column's optimum only (neighbouring modes have
        similar length scales), with length scales above ``WARM_LENGTH_SCALE_CAP``
        reopened to it so an input the previous mode ignored stays learnable: about
        ``n_restarts`` + 1 times fewer optimisations. False: every column from
        ``n_restarts`` + 1 starts.

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
    std_scale_ : ndarray of shape (r,)
        Factor applied to each column's predictive std (ones without ``rescale_std``).
    std_slope_ : ndarray of shape (d,)
        With the cross-validated calibration, the std is also multiplied by
        ``exp((X - 0.5) @ std_slope_)`` (zeros otherwise; see ``_log_linear_variance``).
    y_ndim_, n_features_in_, n_outputs_
        See :class:`~nirom.regression.base.Regressor`.
    """

    provides_std = True
    _fitted = "alpha_"
    _constraints: ClassVar[dict[str, Constraint]] = {
        "nu": Real(low=0, closed="neither", infinite=True),
        "n_restarts": Integer(least=0),
        "shared_kernel": Boolean(),
        "noise": Real(low=0, none=True),
        "random_state": Integer(none=True),
        "joint_scale": Boolean(),
        "warm_start": Boolean(),
        "rescale_std": Boolean(),
    }

    def __init__(
        self,
        *,
        nu: float = 2.5,
        n_restarts: int = 4,
        shared_kernel: bool = False,
        noise: float | None = None,
        random_state: int = 0,
        joint_scale: bool = False,
        warm_start: bool = True,
        rescale_std: bool = False,
    ) -> None:
        self._store_hyperparameters(locals())

    # --- fitting ----------------------------------------------------------------------------

    def _fit(self, X: np.ndarray, Y: np.ndarray) -> None:
        """Learn kernel hyperparameters and prediction weights from ``X`` (n, d), ``Y`` (n, r)."""
        self.y_mean_, self.y_std_ = standardise(Y)
        if self.joint_scale:
            self.y_std_ = np.full_like(self.y_std_, _joint_std(Y))
        Z = (Y - self.y_mean_) / self.y_std_
        targets = [Z] if self.shared_kernel else [Z[:, k] for k in range(Z.shape[1])]
        # A pod-gp fit can take minutes: a bar over the modes on a terminal, plain lines
        # on stderr otherwise (none for a fit of under 10 s).
        bar = progress_bar("fitting GP", unit="modes", disable=len(targets) < 2)
        with bar:
            task = bar.add_task("gp", total=len(targets))
            fits = []
            for z in targets:
                start = fits[-1].kernel_ if fits and self.warm_start else None
                fits.append(self._fit_one(X, z, start))
                bar.advance(task)
        self.X_train_ = X
        self._store_fits(fits)
        r = self.alpha_.shape[1]
        self.std_scale_, self.std_slope_ = np.ones(r), np.zeros(X.shape[1])
        if self.rescale_std and X.shape[0] <= CV_MAX_SAMPLES:
            z = self.cross_validated_residuals(X, Z, [g.kernel_ for g in fits])
            self.std_scale_, self.std_slope_ = _log_linear_variance(X, z)
        elif self.rescale_std:
            self.std_scale_ = self.loo_std_ratio() * self.dof_factor()
        self._prepare_predict()

    def cross_validated_residuals(
        self, X: np.ndarray, Z: np.ndarray, kernels: list[Kernel]
    ) -> np.ndarray:
        """Standardised held-out errors (n, r) of ``CV_FOLDS``-fold cross-validation: each
        fold's GPs refitted without it (from ``kernels``, the full fit's optimum), their
        errors on it over their latent std. ``Z`` (n, r): the standardised outputs.

        Unlike :meth:`loo_residuals` (hyperparameters fitted with the left-out point), they
        see how much hyperparameters fitted to few points trust those points.
        """
        n = X.shape[0]
        order = np.random.default_rng(self.random_state).permutation(n)
        z = np.empty_like(Z)
        for held in np.array_split(order, min(CV_FOLDS, n)):
            keep = np.setdiff1d(order, held)
            targets = [Z[keep]] if self.shared_kernel else list(Z[keep].T)
            part = copy.copy(self)  # the hyperparameters; the fitted state is replaced
            part.X_train_ = X[keep]
            with warnings.catch_warnings():  # the full fit reports its own optimiser stops
                warnings.simplefilter("ignore", ConvergenceWarning)
                part._store_fits(
                    [
                        self._fit_from(X[keep], t, k, 0)
                        for t, k in zip(targets, kernels, strict=True)
                    ]
                )
            part.y_mean_, part.y_std_ = np.zeros(Z.shape[1]), np.ones(Z.shape[1])
            part.std_scale_, part.std_slope_ = np.ones(Z.shape[1]), np.zeros(X.shape[1])
            part._prepare_predict()
            mean, std = part._predict(X[held], return_std=True)
            z[held] = (Z[held] - mean) / np.maximum(std, 1e-12)
        return z

    def loo_residuals(self) -> tuple[np.ndarray, np.ndarray]:
        """Closed-form leave-one-out residuals (n, r) of the training outputs and the
        latent std (n, r) the GP left without each point would predict there, in
        standardised output units (Rasmussen & Williams 5.4.2): ``r_i = alpha_i /
        [K^-1]_ii``, variance ``1 / [K^-1]_ii`` less the nugget (``predict``'s std is
        the latent one, noise excluded, so it is compared with the same)."""
        check_is_fitted(self, "alpha_")
        n = self.X_train_.shape[0]
        eye = np.eye(n)
        inv_diag = np.stack(
            [
                np.sum(solve_triangular(L, eye, lower=True, check_finite=False) ** 2, axis=0)
                for L in self.cholesky_
            ]
        ).T  # (n, n_models): the diagonal of K^-1, K the training covariance
        inv_diag = np.broadcast_to(inv_diag, self.alpha_.shape)
        noise = np.broadcast_to(self.noise_, (self.alpha_.shape[1],))
        latent = 1.0 / inv_diag - noise
        floor = 1e-12 * np.broadcast_to(self.signal_variance_, noise.shape)
        return self.alpha_ / inv_diag, np.sqrt(np.maximum(latent, floor))

    def std_calibration(self) -> str:
        """How ``std_scale_`` was set: "off", "8-fold cross-validation" (up to
        ``CV_MAX_SAMPLES`` training points) or "leave-one-out" (more)."""
        check_is_fitted(self, "alpha_")
        if not self.rescale_std:
            return "off"
        if self.X_train_.shape[0] <= CV_MAX_SAMPLES:
            return f"{CV_FOLDS}-fold cross-validation"
        return "leave-one-out"

    def dof_factor(self) -> float:
        """``sqrt(n / (n - p))`` for ``p`` hyperparameters fitted per GP on ``n`` points
        (length scales, amplitude and a learned nugget), at most 2."""
        n, d = self.X_train_.shape
        p = d + 1 + (self.noise is None)
        return float(np.sqrt(n / max(n - p, n / 4)))

    def loo_std_ratio(self) -> np.ndarray:
        """Root mean square (r,) of each column's leave-one-out residuals over the latent
        std predicted for them: about 1 where the predictive std is right, above 1 where
        it is too small."""
        residual, std = self.loo_residuals()
        ratio = np.sqrt(np.mean((residual / std) ** 2, axis=0))
        return np.where(np.isfinite(ratio) & (ratio > 0), ratio, 1.0)

    def _kernel(self, d: int) -> Kernel:
        """Initial kernel: amplitude * anisotropic Matern (+ nugget when noise is learned)."""
        kernel = ConstantKernel(1.0, SIGNAL_VARIANCE_BOUNDS) * Matern(
            length_scale=np.ones(d), length_scale_bounds=LENGTH_SCALE_BOUNDS, nu=float(self.nu)
        )
        if self.noise is None:
            kernel = kernel + WhiteKernel(NOISE_START, NOISE_BOUNDS)
        return kernel

    def _fit_one(
        self,
        X: np.ndarray,
        z: np.ndarray,
        start: Kernel | None = None,
        restarts: int | None = None,
    ) -> GaussianProcessRegressor:
        """Fit one scikit-learn GP to standardised outputs ``z`` of shape (n,) or (n, r);
        from ``n_restarts`` + 1 starts, or (warm) from the kernel ``start`` reopened."""
        if start is not None:
            return self._fit_from(X, z, _reopened(start), 0)
        return self._fit_from(X, z, start, self.n_restarts if restarts is None else restarts)

    def _fit_from(
        self, X: np.ndarray, z: np.ndarray, start: Kernel | None, restarts: int
    ) -> GaussianProcessRegressor:
        gpr = GaussianProcessRegressor(
            kernel=self._kernel(X.shape[1]) if start is None else start,
            alpha=JITTER if self.noise is None else self.noise,
            optimizer=_lbfgs,
            n_restarts_optimizer=restarts,
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
        self._std_factor = self.std_scale_ if self.rescale_std else np.ones(self.n_outputs_)

    # --- prediction -------------------------------------------------------------------------

    def _predict(self, X: np.ndarray, return_std: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """Posterior mean and std of the latent function (noise excluded), units of ``y``."""
        n, d = self.X_train_.shape
        budget = _STD_BLOCK_ELEMENTS if return_std else _BLOCK_ELEMENTS
        rows = max(1, budget // (n * max(d, self._q_scale.shape[0])))
        parts = [self._predict_block(X[i : i + rows], return_std) for i in range(0, len(X), rows)]
        mean = np.concatenate([p[0] for p in parts]) * self.y_std_ + self.y_mean_
        if not return_std:
            return mean, None
        std = np.concatenate([p[1] for p in parts]) * (self.y_std_ * self._std_factor)
        if self.rescale_std and np.any(self.std_slope_):
            std = std * np.exp((X - STD_TREND_CENTRE) @ self.std_slope_)[:, None]
        return mean, std

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
        """The fitted state as named numpy arrays (the hyperparameters are :meth:`to_json`).

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
            "std_scale": self.std_scale_,
            "std_slope": self.std_slope_,
        }

    def _load(self, arrays: Mapping[str, np.ndarray]) -> None:
        check_saved(arrays, _SAVED_KEYS, type(self))
        a = {k: np.asarray(arrays[k], dtype=float) for k in _SAVED_KEYS}
        self.X_train_, self.alpha_, self.cholesky_ = a["X_train"], a["alpha"], a["cholesky"]
        self.length_scales_, self.signal_variance_ = a["length_scales"], a["signal_variance"]
        self.noise_, self.log_marginal_likelihood_ = a["noise"], a["log_marginal_likelihood"]
        self.y_mean_, self.y_std_, self.y_ndim_ = a["y_mean"], a["y_std"], int(a["y_ndim"])
        scale = arrays.get("std_scale")
        self.std_scale_ = (
            np.ones(np.shape(self.y_mean_)) if scale is None else np.asarray(scale, dtype=float)
        )
        slope = arrays.get("std_slope")
        self.std_slope_ = (
            np.zeros(np.shape(self.X_train_)[-1]) if slope is None else np.asarray(slope, float)
        )
        if self.X_train_.ndim != 2 or self.alpha_.ndim != 2:
            raise ModelError(
                f"saved GPRegressor arrays 'X_train' and 'alpha' must be 2-D, got shapes "
                f"{self.X_train_.shape} and {self.alpha_.shape}"
            )
        n, d = self.X_train_.shape
        r = self.alpha_.shape[1]
        n_models = 1 if self.shared_kernel else r
        check_saved_shapes(
            type(self),
            {
                "alpha": ((n, r), self.alpha_),
                "cholesky": ((n_models, n, n), self.cholesky_),
                "length_scales": ((n_models, d), self.length_scales_),
                "signal_variance": ((n_models,), self.signal_variance_),
                "noise": ((n_models,), self.noise_),
                "y_mean": ((r,), self.y_mean_),
                "y_std": ((r,), self.y_std_),
                "std_scale": ((r,), self.std_scale_),
                "std_slope": ((d,), self.std_slope_),
            },
        )
        self._prepare_predict()

    def summary(self) -> str:
        check_is_fitted(self, "alpha_")
        models = "one shared kernel" if self.shared_kernel else f"{self.n_outputs_} GPs"
        return f"gp: {models} on {self.X_train_.shape[0]} training points"
