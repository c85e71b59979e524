"""Tests for nirom.regression.mlp: training, accuracy, seeding, numpy predict, saving, errors."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import check_estimator

from nirom.errors import ParameterError
from nirom.regression.mlp import MLPRegressor, TorchMissingError, _extract, forward

# Small and short enough for a loaded 2-core machine; accurate enough for the tolerances below.
FAST = {"hidden": (32, 32), "epochs": 300}


@pytest.fixture(scope="module")
def torch() -> Iterator[Any]:
    """PyTorch on one thread (skips the test without it); restores the thread count."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


def smooth(X: np.ndarray) -> np.ndarray:
    """Three smooth outputs of unit-square inputs (n, 2): shape (n, 3)."""
    return np.column_stack(
        [
            np.sin(3 * X[:, 0]) * np.cos(2 * X[:, 1]),
            np.exp(-X[:, 0] - X[:, 1] ** 2),
            10.0 * X[:, 0] * X[:, 1] - 3.0,
        ]
    )


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(0).random((200, 2))
    return X, smooth(X)


@pytest.fixture(scope="module")
def fitted(torch, data) -> MLPRegressor:
    return MLPRegressor(**FAST).fit(*data)


def relative_rms(prediction: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """RMS error per column over the std of the truth per column: shape (r,)."""
    return np.sqrt(((prediction - truth) ** 2).mean(axis=0)) / truth.std(axis=0)


def test_training_reduces_the_loss(fitted) -> None:
    assert fitted.n_epochs_ == len(fitted.loss_curve_) == len(fitted.validation_curve_)
    assert fitted.loss_curve_[-1] < fitted.loss_curve_[0] / 10
    assert fitted.validation_curve_.min() < fitted.validation_curve_[0] / 10
    assert 1 <= fitted.best_epoch_ <= fitted.n_epochs_


def test_learns_a_smooth_function_at_held_out_points(torch, data) -> None:
    """200 points, default (64, 64) tanh network, 500 epochs (~1 s): relative RMSE < 5 %."""
    X_test = np.random.default_rng(1).random((500, 2))
    mlp = MLPRegressor(epochs=500).fit(*data)
    assert np.all(relative_rms(mlp.predict(X_test), smooth(X_test)) < 0.05)


def test_same_seed_gives_identical_predictions(torch, data, fitted) -> None:
    X_test = np.random.default_rng(2).random((50, 2))
    again = MLPRegressor(**FAST).fit(*data)
    np.testing.assert_array_equal(again.predict(X_test), fitted.predict(X_test))
    np.testing.assert_array_equal(again.loss_curve_, fitted.loss_curve_)
    other = MLPRegressor(**FAST, random_state=1).fit(*data)
    assert not np.array_equal(other.predict(X_test), fitted.predict(X_test))


def test_fit_leaves_the_global_torch_seed_alone(torch, data) -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    MLPRegressor(hidden=(4,), epochs=2).fit(*data)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("activation", ["tanh", "relu", "silu"])
def test_numpy_predict_equals_the_torch_forward_pass(torch, data, activation: str) -> None:
    """The extracted weights, run in numpy, reproduce the trained torch network."""
    X, Y = data
    mlp = MLPRegressor(hidden=(16, 8), activation=activation, epochs=20)
    model = mlp._network(torch, 2, 3)
    mlp._train(
        torch, model, 2 * X - 1, (Y - Y.mean(0)) / Y.std(0), np.arange(150), np.arange(150, 200)
    )
    H = 2 * np.random.default_rng(3).random((40, 2)) - 1
    with torch.no_grad():
        expected = model(torch.from_numpy(H)).numpy()
    got = forward(_extract(model), H, activation)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-12)


def test_mini_batches_and_no_validation_train_too(torch, data) -> None:
    mlp = MLPRegressor(hidden=(16,), epochs=30, batch_size=64, validation_fraction=0.0).fit(*data)
    assert mlp.validation_curve_.shape == (0,)
    assert mlp.loss_curve_[-1] < mlp.loss_curve_[0]


def test_early_stopping_keeps_the_best_weights(torch, data) -> None:
    """Pure-noise targets: the validation loss stops improving, training stops `patience` later."""
    X = data[0][:60]
    noise = np.random.default_rng(5).standard_normal((60, 2))
    mlp = MLPRegressor(hidden=(32,), epochs=2000, patience=20, validation_fraction=0.3)
    mlp.fit(X, noise)
    assert mlp.n_epochs_ < 2000
    assert mlp.best_epoch_ == mlp.n_epochs_ - 20
    assert mlp.validation_curve_[mlp.best_epoch_ - 1] == mlp.validation_curve_.min()


def test_one_dimensional_targets_give_one_dimensional_predictions(torch, data) -> None:
    X, Y = data
    mlp = MLPRegressor(hidden=(8,), epochs=5).fit(X, Y[:, 1])
    assert mlp.n_outputs_ == 1
    assert mlp.predict(X[:4]).shape == (4,)


def save_and_load(est: MLPRegressor) -> MLPRegressor:
    """Round trip through JSON text and an in-memory ``.npz`` file."""
    params = json.loads(json.dumps(est.get_params()))
    buffer = io.BytesIO()
    np.savez(buffer, **est.to_arrays())
    buffer.seek(0)
    with np.load(buffer) as arrays:
        return MLPRegressor.from_saved(params, dict(arrays))


def test_saved_model_predicts_identically(fitted) -> None:
    loaded = save_and_load(fitted)
    X_test = np.random.default_rng(4).random((20, 2))
    np.testing.assert_array_equal(loaded.predict(X_test), fitted.predict(X_test))
    assert loaded.get_params() == fitted.get_params()
    keys = ["W0", "W1", "W2", "b0", "b1", "b2", "y_mean", "y_ndim", "y_std"]
    assert sorted(fitted.to_arrays()) == keys


def hand_made_arrays() -> dict[str, np.ndarray]:
    """A (2 -> 3 -> 1) tanh network: 1-D output ``5 + 2 * sum(tanh(2 x - 1 + 0.1))``."""
    return {
        "W0": np.ones((2, 3)) / 2,
        "b0": np.full(3, 0.1),
        "W1": np.ones((3, 1)),
        "b1": np.zeros(1),
        "y_mean": np.array([5.0]),
        "y_std": np.array([2.0]),
        "y_ndim": np.array(1),
    }


def test_loads_and_predicts_without_torch(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # ``import torch`` now fails
    mlp = MLPRegressor.from_saved({"hidden": [3], "activation": "tanh"}, hand_made_arrays())
    X = np.array([[0.2, 0.7], [1.0, 0.0]])
    hidden = np.tanh(((2 * X - 1) @ np.ones((2, 3))) / 2 + 0.1)
    np.testing.assert_allclose(mlp.predict(X), 5 + 2 * hidden.sum(axis=1), rtol=1e-14)
    with pytest.raises(ImportError, match=r"needs PyTorch: pip install torch==2\.13\.0"):
        MLPRegressor().fit(X, X)
    with pytest.raises(TorchMissingError):
        MLPRegressor().fit(X, X)


def test_asking_for_uncertainty_names_the_alternative() -> None:
    mlp = MLPRegressor.from_saved({"hidden": (3,)}, hand_made_arrays())
    with pytest.raises(ValueError, match="no uncertainty; use GPRegressor for error bars"):
        mlp.predict([[0.5, 0.5]], return_std=True)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
def test_passes_scikit_learns_estimator_checks(torch) -> None:
    check_estimator(MLPRegressor(hidden=(16,), epochs=100))


def test_clone_and_params_follow_sklearn_conventions(fitted, data) -> None:
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "weights_")
    with pytest.raises(NotFittedError):
        copy.predict(data[0])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"hidden": (8, 0)}, "hidden must be a sequence of positive integers"),
        ({"activation": "sigmoid"}, "unknown activation 'sigmoid'"),
        ({"epochs": 0}, "epochs must be a positive integer"),
        ({"batch_size": 2.5}, "batch_size must be a positive integer"),
        ({"learning_rate": -1.0}, "learning_rate must be a positive number"),
        ({"validation_fraction": 1.0}, r"validation_fraction must be in \[0, 1\)"),
    ],
)
def test_bad_hyperparameters_raise(data, params: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MLPRegressor(**params).fit(*data)


def test_bad_inputs_raise_errors_naming_the_shape(data) -> None:
    X, Y = data
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ParameterError, match=r"shape \(200, 2\) holds NaN or infinite"):
        MLPRegressor().fit(bad, Y)
    with pytest.raises(ValueError, match=r"Y has shape \(199, 3\) but X has 200 rows"):
        MLPRegressor().fit(X, Y[:-1])
    mlp = MLPRegressor.from_saved({"hidden": (3,)}, hand_made_arrays())
    with pytest.raises(ParameterError, match=r"expecting 2 features.*shape \(2, 3\)"):
        mlp.predict(np.zeros((2, 3)))
    with pytest.raises(ParameterError, match=r"shape \(2,\)"):
        mlp.predict(X[0])
    with pytest.raises(ValueError, match=r"lacks arrays \['W1', 'b1'"):
        MLPRegressor.from_saved({"hidden": (3,)}, {"W0": np.ones((2, 3)), "b0": np.ones(3)})
    with pytest.raises(ValueError, match=r"'W0' has shape \(2, 3\), expected \(2, 4\)"):
        MLPRegressor.from_saved({"hidden": (4,)}, hand_made_arrays())
