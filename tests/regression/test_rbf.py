"""Tests for nirom.regression.rbf: interpolation, polynomial reproduction, saving, validation."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from scipy.stats import qmc
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import check_estimator

from nirom.errors import ParameterError
from nirom.regression import RBFRegressor
from nirom.regression.rbf import mean_nearest_neighbour_distance


def smooth(X: np.ndarray) -> np.ndarray:
    """Three smooth outputs of unit-cube inputs (n, 3): shape (n, 3)."""
    return np.column_stack(
        [np.sin(3 * X[:, 0]) * X[:, 1], np.exp(-X[:, 2]), np.cos(2 * X[:, 0] + X[:, 1])]
    )


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(0).random((60, 3))
    return X, smooth(X)


@pytest.mark.parametrize("kernel", ["thin_plate_spline", "cubic", "gaussian", "multiquadric"])
def test_interpolates_exactly_at_the_nodes(data, kernel: str) -> None:
    X, Y = data
    rbf = RBFRegressor(kernel=kernel).fit(X, Y)
    np.testing.assert_allclose(rbf.predict(X), Y, rtol=0, atol=1e-8)


def test_thin_plate_spline_reproduces_linear_data() -> None:
    rng = np.random.default_rng(1)
    X, X_test = rng.random((30, 4)), rng.random((50, 4))
    A, b = rng.standard_normal((4, 2)), rng.standard_normal(2)
    rbf = RBFRegressor().fit(X, X @ A + b)
    np.testing.assert_allclose(rbf.predict(X_test), X_test @ A + b, rtol=0, atol=1e-10)


@pytest.mark.parametrize(("kernel", "tolerance"), [("thin_plate_spline", 0.1), ("quintic", 0.01)])
def test_predicts_a_smooth_function_between_the_nodes(kernel: str, tolerance: float) -> None:
    X = qmc.Sobol(3, seed=0).random(128)
    X_test = np.random.default_rng(2).random((200, 3))
    error = RBFRegressor(kernel=kernel).fit(X, smooth(X)).predict(X_test) - smooth(X_test)
    relative_rms = np.sqrt((error**2).mean(axis=0)) / smooth(X_test).std(axis=0)
    assert np.all(relative_rms < tolerance)


def test_asking_for_uncertainty_names_the_alternative(data) -> None:
    rbf = RBFRegressor().fit(*data)
    with pytest.raises(ValueError, match="no uncertainty; use GPRegressor for error bars"):
        rbf.predict(data[0][:2], return_std=True)


def test_default_epsilon_depends_on_the_kernel(data) -> None:
    X, Y = data
    assert RBFRegressor().fit(X, Y).epsilon_ == 1.0
    expected = 1.0 / mean_nearest_neighbour_distance(X)
    assert RBFRegressor(kernel="gaussian").fit(X, Y).epsilon_ == pytest.approx(expected)
    assert RBFRegressor(kernel="gaussian", epsilon=2.5).fit(X, Y).epsilon_ == 2.5


def test_one_dimensional_targets_give_one_dimensional_predictions(data) -> None:
    X, Y = data
    rbf = RBFRegressor().fit(X, Y[:, 1])
    assert rbf.n_outputs_ == 1
    np.testing.assert_allclose(rbf.predict(X[:4]), Y[:4, 1], atol=1e-10)


def save_and_load(est: RBFRegressor) -> RBFRegressor:
    """Round trip through JSON text and an in-memory ``.npz`` file."""
    params = json.loads(json.dumps(est.get_params()))
    buffer = io.BytesIO()
    np.savez(buffer, **est.to_arrays())
    buffer.seek(0)
    with np.load(buffer) as arrays:
        return RBFRegressor.from_saved(params, dict(arrays))


@pytest.mark.parametrize(
    "params", [{}, {"kernel": "gaussian"}, {"kernel": "quintic", "smoothing": 1e-3, "degree": 2}]
)
def test_saved_model_predicts_identically(data, params: dict) -> None:
    X, Y = data
    rbf = RBFRegressor(**params).fit(X, Y[:, 0])
    loaded = save_and_load(rbf)
    X_test = np.random.default_rng(3).random((20, 3))
    np.testing.assert_array_equal(loaded.predict(X_test), rbf.predict(X_test))
    assert loaded.get_params() == rbf.get_params()


def test_passes_scikit_learns_estimator_checks() -> None:
    check_estimator(RBFRegressor(kernel="gaussian"))


def test_clone_and_params_follow_sklearn_conventions(data) -> None:
    rbf = RBFRegressor(kernel="gaussian", smoothing=0.1, epsilon=3.0, degree=1).fit(*data)
    copy = clone(rbf)
    assert copy.get_params() == rbf.get_params()
    assert not hasattr(copy, "interpolator_")
    with pytest.raises(NotFittedError):
        copy.predict(data[0])


def test_bad_inputs_raise_errors_naming_the_shape(data) -> None:
    X, Y = data
    bad = X.copy()
    bad[0, 0] = np.inf
    with pytest.raises(ParameterError, match=r"shape \(60, 3\) holds NaN or infinite"):
        RBFRegressor().fit(bad, Y)
    with pytest.raises(ValueError, match=r"Y has shape \(59, 3\) but X has 60 rows"):
        RBFRegressor().fit(X, Y[:-1])
    with pytest.raises(ValueError, match="unknown RBF kernel 'spline'"):
        RBFRegressor(kernel="spline").fit(X, Y)
    rbf = RBFRegressor().fit(X, Y)
    with pytest.raises(ParameterError, match=r"expecting 3 features.*shape \(2, 2\)"):
        rbf.predict(X[:2, :2])
    with pytest.raises(ParameterError, match="NaN"):
        rbf.predict(np.array([[0.1, np.nan, 0.2]]))
    with pytest.raises(ParameterError, match=r"shape \(3,\)"):
        rbf.predict(X[0])
    with pytest.raises(ValueError, match="lacks arrays"):
        RBFRegressor.from_saved(rbf.get_params(), {"X_train": X})
