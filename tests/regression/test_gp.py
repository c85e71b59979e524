"""Tests for nirom.regression.gp: accuracy, uncertainty, agreement with scikit-learn, saving."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest
from scipy.stats import qmc
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
from sklearn.utils.estimator_checks import check_estimator
from threadpoolctl import threadpool_limits

from nirom.errors import ParameterError
from nirom.regression import GPRegressor
from nirom.regression import gp as gp_module
from nirom.regression.gp import JITTER

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(autouse=True)
def one_blas_thread():
    """Small GP fits gain nothing from BLAS threads and lose much to them on a busy machine."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def smooth_2d(X: np.ndarray) -> np.ndarray:
    """Two smooth outputs of unit-cube inputs (n, 2): shape (n, 2)."""
    return np.column_stack([np.sin(3 * X[:, 0]) * np.cos(2 * X[:, 1]), np.exp(X[:, 0] - X[:, 1])])


def smooth_3d(X: np.ndarray) -> np.ndarray:
    """Two smooth outputs of unit-cube inputs (n, 3): shape (n, 2)."""
    return np.column_stack(
        [
            np.sin(2 * X[:, 0]) * np.cos(3 * X[:, 1]) + X[:, 2] ** 2,
            np.exp(-X[:, 0] * X[:, 2]) * np.sin(4 * X[:, 1]),
        ]
    )


def rel_rms(error: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per-column RMS of ``error`` over the std of ``truth``."""
    return np.sqrt((error**2).mean(axis=0)) / truth.std(axis=0)


@pytest.fixture(scope="module")
def data_2d() -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(0).random((40, 2))
    return X, smooth_2d(X)


def test_interpolates_training_points_with_tiny_noise(data_2d) -> None:
    X, Y = data_2d
    gp = GPRegressor(noise=1e-10, n_restarts=0).fit(X, Y)
    np.testing.assert_allclose(gp.predict(X), Y, rtol=0, atol=1e-6 * np.abs(Y).max())


def test_predicts_smooth_3d_function_at_held_out_points() -> None:
    X = qmc.Sobol(3, seed=0).random(128)[:100]
    X_test = np.random.default_rng(1).random((300, 3))
    gp = GPRegressor(n_restarts=1).fit(X, smooth_3d(X))
    truth = smooth_3d(X_test)
    assert np.all(rel_rms(gp.predict(X_test) - truth, truth) < 0.02)


def test_std_vanishes_at_training_points_and_grows_away_from_them() -> None:
    X = np.random.default_rng(2).random((30, 2)) * 0.5  # data in [0, 0.5]^2 only
    gp = GPRegressor(noise=1e-8, n_restarts=0).fit(X, smooth_2d(X))
    _, std_train = gp.predict(X, return_std=True)
    assert np.all(std_train < 1e-3 * gp.y_std_)
    ray = 0.5 + np.linspace(0.05, 0.5, 6)[:, None] * np.ones((1, 2))  # leaving the data
    _, std_ray = gp.predict(ray, return_std=True)
    assert np.all(np.diff(std_ray, axis=0) > 0)
    assert np.all(std_ray[-1] > 100 * std_train.max(axis=0))


def test_per_mode_length_scales_follow_each_outputs_anisotropy() -> None:
    X = np.random.default_rng(3).random((50, 2))
    Y = np.column_stack([np.sin(4 * X[:, 0]), np.cos(3 * X[:, 1])])  # x0 only, x1 only
    gp = GPRegressor(n_restarts=1).fit(X, Y)
    (a0, a1), (b0, b1) = gp.length_scales_
    assert a0 < 0.1 * a1
    assert b1 < 0.1 * b0


def test_error_bars_are_calibrated_on_a_smooth_function() -> None:
    P = np.random.default_rng(0).random((560, 2))
    Y = smooth_2d(P)
    gp = GPRegressor(n_restarts=1).fit(P[:60], Y[:60])
    mean, std = gp.predict(P[60:], return_std=True)
    error = np.abs(mean - Y[60:])
    coverage = np.mean(error <= 1.96 * std, axis=0)
    assert np.all((coverage >= 0.8) & (coverage <= 1.0))
    # Not vacuous: the typical error bar is of the size of the typical error.
    assert np.all(np.median(std, axis=0) < 3 * np.sqrt((error**2).mean(axis=0)))


def sklearn_reference(gp: GPRegressor, X: np.ndarray, Y: np.ndarray, X_test: np.ndarray):
    """Mean and latent variance from scikit-learn GPs with ``gp``'s fitted kernels, fixed."""
    Z = (Y - gp.y_mean_) / gp.y_std_
    columns = [Z] if gp.shared_kernel else [Z[:, [k]] for k in range(Z.shape[1])]
    means, variances = [], []
    for k, z in enumerate(columns):
        kernel = ConstantKernel(gp.signal_variance_[k]) * Matern(gp.length_scales_[k], nu=gp.nu)
        if gp.noise is None:
            kernel = kernel + WhiteKernel(gp.noise_[k])
        alpha = JITTER if gp.noise is None else gp.noise
        ref = GaussianProcessRegressor(kernel, alpha=alpha, optimizer=None).fit(X, z)
        mean, std = ref.predict(X_test, return_std=True)
        latent = std.reshape(len(X_test), -1) ** 2 - (gp.noise_[k] if gp.noise is None else 0)
        means.append(mean.reshape(len(X_test), -1))
        variances.append(np.broadcast_to(latent, means[-1].shape))
    scale = gp.y_std_
    return np.hstack(means) * scale + gp.y_mean_, np.hstack(variances) * scale**2


@pytest.mark.parametrize("nu", [0.5, 1.5, 2.5, math.inf, 1.2])
@pytest.mark.parametrize("shared_kernel", [False, True])
@pytest.mark.parametrize("noise", [None, 1e-6])
def test_numpy_predict_equals_sklearn(nu: float, shared_kernel: bool, noise) -> None:
    rng = np.random.default_rng(4)
    X, X_test = rng.random((40, 3)), rng.random((25, 3))
    Y = smooth_3d(X) + 1e-3 * rng.standard_normal((40, 2))  # noisy: a nugget is learned
    gp = GPRegressor(nu=nu, n_restarts=0, shared_kernel=shared_kernel, noise=noise).fit(X, Y)
    assert gp.length_scales_.shape == (1 if shared_kernel else 2, 3)
    mean, std = gp.predict(X_test, return_std=True)
    ref_mean, ref_var = sklearn_reference(gp, X, Y, X_test)
    np.testing.assert_allclose(mean, ref_mean, rtol=0, atol=1e-8 * np.abs(ref_mean).max())
    np.testing.assert_allclose(std**2, ref_var, rtol=0, atol=1e-8 * ref_var.max())


def test_one_dimensional_targets_give_one_dimensional_predictions(data_2d) -> None:
    X, Y = data_2d
    gp1 = GPRegressor(n_restarts=0).fit(X, Y[:, 0])
    gp2 = GPRegressor(n_restarts=0).fit(X, Y[:, :1])
    mean, std = gp1.predict(X[:5], return_std=True)
    assert mean.shape == std.shape == (5,)
    assert gp1.n_outputs_ == 1
    np.testing.assert_array_equal(mean, gp2.predict(X[:5])[:, 0])


def test_constant_output_column_is_predicted_exactly(data_2d) -> None:
    X, Y = data_2d
    Y = np.column_stack([Y[:, 0], np.full(len(X), 3.5)])
    gp = GPRegressor(n_restarts=0).fit(X, Y)
    np.testing.assert_allclose(gp.predict(X[:3] + 0.01)[:, 1], 3.5)


def save_and_load(est: GPRegressor) -> GPRegressor:
    """Round trip through JSON text and an in-memory ``.npz`` file."""
    params = json.loads(json.dumps(est.get_params()))
    buffer = io.BytesIO()
    np.savez(buffer, **est.to_arrays())
    buffer.seek(0)
    with np.load(buffer) as arrays:
        return GPRegressor.from_saved(params, dict(arrays))


@pytest.mark.parametrize("shared_kernel", [False, True])
def test_saved_model_predicts_identically(data_2d, shared_kernel: bool) -> None:
    X, Y = data_2d
    gp = GPRegressor(n_restarts=0, shared_kernel=shared_kernel).fit(X, Y)
    loaded = save_and_load(gp)
    X_test = np.random.default_rng(5).random((10, 2))
    mean, std = gp.predict(X_test, return_std=True)
    loaded_mean, loaded_std = loaded.predict(X_test, return_std=True)
    np.testing.assert_array_equal(loaded_mean, mean)
    np.testing.assert_array_equal(loaded_std, std)
    np.testing.assert_array_equal(loaded.length_scales_, gp.length_scales_)


def test_saved_model_with_missing_or_misshapen_arrays_is_refused(data_2d) -> None:
    X, Y = data_2d
    gp = GPRegressor(n_restarts=0).fit(X, Y)
    arrays = gp.to_arrays()
    del arrays["cholesky"]
    with pytest.raises(ValueError, match="cholesky"):
        GPRegressor.from_saved(gp.get_params(), arrays)
    arrays = gp.to_arrays()
    arrays["alpha"] = arrays["alpha"][:-1]
    with pytest.raises(ValueError, match="'alpha' has shape"):
        GPRegressor.from_saved(gp.get_params(), arrays)


def test_passes_scikit_learns_estimator_checks() -> None:
    check_estimator(GPRegressor(n_restarts=0))


def test_clone_and_params_follow_sklearn_conventions(data_2d) -> None:
    gp = GPRegressor(nu=1.5, n_restarts=2, shared_kernel=True, noise=1e-6, random_state=7)
    params = gp.get_params()
    assert params == {
        "nu": 1.5,
        "n_restarts": 2,
        "shared_kernel": True,
        "noise": 1e-6,
        "random_state": 7,
        "joint_scale": False,
        "warm_start": True,
        "rescale_std": False,
    }
    gp.fit(*data_2d)
    copy = clone(gp)
    assert copy.get_params() == params
    assert not hasattr(copy, "alpha_")
    assert copy.set_params(nu=0.5).nu == 0.5


def test_same_random_state_gives_the_same_fit(data_2d) -> None:
    X, Y = data_2d
    a = GPRegressor(n_restarts=2, random_state=3).fit(X, Y)
    b = GPRegressor(n_restarts=2, random_state=3).fit(X, Y)
    np.testing.assert_array_equal(a.length_scales_, b.length_scales_)
    np.testing.assert_array_equal(a.alpha_, b.alpha_)


def test_bad_inputs_raise_errors_naming_the_shape(data_2d) -> None:
    X, Y = data_2d
    with pytest.raises(NotFittedError):
        GPRegressor().predict(X)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ParameterError, match=r"shape \(40, 2\) holds NaN"):
        GPRegressor(n_restarts=0).fit(bad, Y)
    with pytest.raises(ValueError, match=r"Y has shape \(39, 2\) but X has 40 rows"):
        GPRegressor(n_restarts=0).fit(X, Y[:-1])
    gp = GPRegressor(n_restarts=0).fit(X, Y)
    with pytest.raises(ParameterError, match=r"X has 3 features, but GPRegressor is expecting 2"):
        gp.predict(np.zeros((1, 3)))
    with pytest.raises(ParameterError, match="NaN"):
        gp.predict(np.array([[0.5, np.nan]]))
    with pytest.raises(ValueError, match="nu must be a positive number"):
        GPRegressor(nu=-1.0).fit(X, Y)


def test_joint_scale_lets_the_large_outputs_lead_a_shared_kernel() -> None:
    # one smooth, energetic column and many small noise columns, as POD coefficients
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(40, 2))
    Y = np.column_stack([np.sin(3 * X[:, 0]) + X[:, 1], 1e-3 * rng.normal(size=(40, 20))])
    X_test = rng.uniform(size=(200, 2))
    truth = np.sin(3 * X_test[:, 0]) + X_test[:, 1]
    errors = {}
    for joint in (False, True):
        gp = GPRegressor(shared_kernel=True, joint_scale=joint, n_restarts=1).fit(X, Y)
        errors[joint] = np.sqrt(np.mean((gp.predict(X_test)[:, 0] - truth) ** 2))
        assert np.allclose(gp.y_std_, gp.y_std_[0]) == joint
    assert errors[True] < 0.1 * errors[False]


def test_a_bar_over_the_modes_shows_at_a_terminal_only(tmp_path) -> None:
    """A pod-gp fit can take minutes: a person at a terminal sees its progress."""
    import os
    import pty
    import subprocess
    import sys

    script = (
        "import numpy as np\n"
        "from nirom.regression import GPRegressor\n"
        "x = np.random.default_rng(0).random((12, 2))\n"
        "GPRegressor(n_restarts=0).fit(x, np.column_stack([x[:, 0], x[:, 1], x.sum(1)]))\n"
    )
    primary, secondary = pty.openpty()
    run = subprocess.run(
        [sys.executable, "-c", script], stderr=secondary, capture_output=False, timeout=120
    )
    os.close(secondary)
    shown = os.read(primary, 65536).decode(errors="replace")
    os.close(primary)
    assert run.returncode == 0
    assert "fitting GP" in shown and "3/3" in shown
    piped = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert "fitting GP" not in piped.stderr  # scripts and logs stay quiet


def test_warm_starts_learn_inputs_the_previous_mode_ignored() -> None:
    """Each later mode starts from the previous mode's optimum with its length scales
    reopened: mode 2 depends only on x1, which mode 1 ignored (length scale at its upper
    bound, where the gradient vanishes); it still finds x1 and the default start's optimum
    (from the previous optimum as it is, the marginal likelihood drops from 164 to -42)."""
    rng = np.random.default_rng(3)
    x = rng.random((30, 3))
    y = np.column_stack([np.sin(3 * x[:, 0]), x[:, 1] ** 2, np.cos(5 * x[:, 2]) * x[:, 0]])
    warm = GPRegressor(n_restarts=0, warm_start=True).fit(x, y)
    cold = GPRegressor(n_restarts=0, warm_start=False).fit(x, y)
    assert warm.log_marginal_likelihood_[0] == cold.log_marginal_likelihood_[0]  # same start
    slack = 1e-3 * np.abs(cold.log_marginal_likelihood_)
    assert np.all(warm.log_marginal_likelihood_ >= cold.log_marginal_likelihood_ - slack)
    relevant = warm.length_scales_ < 100  # inputs each mode depends on
    assert relevant.tolist() == [[True, False, False], [False, True, False], [True, False, True]]


def known_gp_draws(nu: float, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (n, 2) and 3 independent draws (n, 3) of a zero-mean unit-variance GP with a
    Matern-``nu`` kernel of length scale 0.4 (noise free)."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, 2))
    K = Matern(length_scale=0.4, nu=nu)(X) + 1e-8 * np.eye(n)
    return X, np.linalg.cholesky(K) @ rng.standard_normal((n, 3))


@pytest.mark.parametrize(("nu_true", "nu_fit"), [(0.5, 2.5), (2.5, 0.5)])
def test_rescaled_std_covers_held_out_draws_of_a_known_gp(nu_true: float, nu_fit: float) -> None:
    """A kernel rougher or smoother than the data's gives std too large or too small; the
    leave-one-out factors bring the 95 % intervals' held-out coverage near 95 %."""
    X, Y = known_gp_draws(nu_true, 460, seed=0)
    train, test = slice(0, 60), slice(60, None)

    def coverage(rescale: bool) -> tuple[float, np.ndarray]:
        gp = GPRegressor(nu=nu_fit, n_restarts=1, rescale_std=rescale).fit(X[train], Y[train])
        mean, std = gp.predict(X[test], return_std=True)
        return float(np.mean(np.abs(Y[test] - mean) <= 1.96 * std)), gp.std_scale_

    raw, ones = coverage(False)
    rescaled, factors = coverage(True)
    np.testing.assert_array_equal(ones, 1.0)
    assert abs(raw - 0.95) > 0.03  # misspecified: off by more than the sampling noise
    assert abs(rescaled - 0.95) < 0.04, (raw, rescaled, factors)
    assert abs(rescaled - 0.95) < abs(raw - 0.95), (raw, rescaled, factors)
    assert np.all(factors > 1) if nu_true < nu_fit else np.all(factors < 1)


def test_std_factors_are_saved_and_old_saves_load_without_them(data_2d) -> None:
    X, Y = data_2d
    gp = GPRegressor(n_restarts=0, rescale_std=True).fit(X, Y)
    assert gp.std_scale_.shape == (2,) and not np.allclose(gp.std_scale_, 1.0)
    loaded = save_and_load(gp)
    np.testing.assert_array_equal(loaded.std_scale_, gp.std_scale_)
    X_test = np.random.default_rng(5).random((10, 2))
    np.testing.assert_array_equal(loaded.predict(X_test, True)[1], gp.predict(X_test, True)[1])
    arrays = gp.to_arrays()
    del arrays["std_scale"]  # a model saved before the factors existed
    old = GPRegressor.from_saved(GPRegressor(n_restarts=0).get_params(), arrays)
    np.testing.assert_array_equal(old.std_scale_, 1.0)
    raw = GPRegressor(n_restarts=0).fit(X, Y)
    np.testing.assert_allclose(old.predict(X_test, True)[1], raw.predict(X_test, True)[1])


def test_small_sample_std_factor_is_cross_validated_with_refitted_hyperparameters() -> None:
    """Up to CV_MAX_SAMPLES points the factor is the RMS of CV_FOLDS-fold held-out
    standardised errors, hyperparameters refitted without each fold, one for all columns
    (not the per-column leave-one-out factors, which keep the hyperparameters that saw
    the left-out point)."""
    X, Y = known_gp_draws(2.5, 48, seed=3)
    gp = GPRegressor(n_restarts=0, rescale_std=True).fit(X, Y)
    assert X.shape[0] <= gp_module.CV_MAX_SAMPLES
    np.testing.assert_allclose(gp.std_scale_, gp.std_scale_[0])
    order = np.random.default_rng(gp.random_state).permutation(len(X))
    z = np.empty_like(Y)
    for held in np.array_split(order, gp_module.CV_FOLDS):
        keep = np.setdiff1d(order, held)
        part = GPRegressor(n_restarts=0).fit(X[keep], Y[keep])
        mean, std = part.predict(X[held], return_std=True)
        z[held] = (Y[held] - mean) / std
    assert gp.std_scale_[0] == pytest.approx(np.sqrt(np.mean(z**2)), rel=0.1)
    loo = gp.loo_std_ratio() * gp.dof_factor()
    assert not np.allclose(gp.std_scale_, loo)


def test_std_factor_grows_where_held_out_errors_do_and_is_saved() -> None:
    """Data whose amplitude grows along x_0 (a solution changing fastest at one end of a
    parameter's range): the cross-validated factor's log-linear trend rises along x_0,
    it is saved, and a model saved without it loads with none."""
    X, Y = known_gp_draws(2.5, 60, seed=4)
    Y = Y * np.exp(3.0 * X[:, :1])
    gp = GPRegressor(n_restarts=0, rescale_std=True).fit(X, Y)
    assert gp.std_slope_[0] > 0.3 and gp.std_slope_[0] > abs(gp.std_slope_[1])
    X_test = np.random.default_rng(5).random((10, 2))
    loaded = save_and_load(gp)
    np.testing.assert_array_equal(loaded.std_slope_, gp.std_slope_)
    np.testing.assert_array_equal(loaded.predict(X_test, True)[1], gp.predict(X_test, True)[1])
    arrays = gp.to_arrays()
    del arrays["std_slope"]
    old = GPRegressor.from_saved(gp.get_params(), arrays)
    np.testing.assert_array_equal(old.std_slope_, 0.0)
