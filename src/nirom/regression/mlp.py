"""Small neural-network (multilayer perceptron) regression of reduced coordinates.

:class:`MLPRegressor` maps parameters ``X`` of shape ``(n, d)``, scaled by the
caller to the unit cube ``[0, 1]^d``, to reduced coordinates ``Y`` of shape
``(n, r)``. It is trained with PyTorch (imported only inside :meth:`MLPRegressor.fit`):
float64 on the CPU, Adam with a cosine-annealed learning rate, mean squared error
on per-column standardised outputs, and early stopping on a seeded validation split
that keeps the best weights. The trained weights are then copied into numpy arrays,
so prediction and loading need no PyTorch: ``predict`` is a few matrix products,
and a fitted model is saved as data (:meth:`MLPRegressor.to_arrays` /
:meth:`MLPRegressor.from_saved`), never with ``torch.save`` or pickle.

Inside the network the inputs are mapped affinely to ``[-1, 1]^d`` (``2 X - 1``)
and the outputs are standardised (constant column: std 1); ``weights_`` act on
those scaled quantities. Training uses as many threads as ``torch.get_num_threads()``;
set them with ``torch.set_num_threads``. The network gives no uncertainty.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from nirom.errors import TorchMissingError
from nirom.regression.gp import _standardise, check_inputs, check_saved, check_targets

if TYPE_CHECKING:
    import torch

TORCH_HINT = "the MLP regressor needs PyTorch: pip install torch==2.13.0"
# Learning rate at the end of the cosine schedule, as a fraction of the initial one.
FINAL_LR_FRACTION = 1e-2


def _tanh(z: np.ndarray) -> np.ndarray:
    return np.tanh(z, out=z)


def _relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0, out=z)


def _silu(z: np.ndarray) -> np.ndarray:
    return z * (0.5 * (1.0 + np.tanh(0.5 * z)))  # z * sigmoid(z), overflow-free


# Hidden-layer activations: numpy versions for predict (torch.nn names for training).
ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": _tanh,
    "relu": _relu,
    "silu": _silu,
}
_TORCH_ACTIVATIONS = {"tanh": "Tanh", "relu": "ReLU", "silu": "SiLU"}


def _import_torch() -> Any:
    """The ``torch`` module, or TorchMissingError with the install command."""
    try:
        import torch
    except ImportError as error:
        raise TorchMissingError(TORCH_HINT) from error
    return torch


def _saved_keys(n_layers: int) -> tuple[str, ...]:
    weights = tuple(f"{k}{i}" for i in range(n_layers) for k in ("W", "b"))
    return (*weights, "y_mean", "y_std", "y_ndim")


def train_validation_split(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (train, validation) row indices; no validation rows if too few samples."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = round(fraction * n) if n >= 2 else 0
    n_val = min(n_val, n - 1)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


class MLPRegressor(RegressorMixin, BaseEstimator):
    """Multilayer perceptron from unit-cube parameters to reduced coordinates.

    Parameters
    ----------
    hidden : sequence of int
        Widths of the hidden layers; ``()`` gives an affine model.
    activation : str
        Hidden-layer activation: "tanh", "relu" or "silu". The output layer is linear.
    epochs : int
        Maximum number of passes over the training rows.
    learning_rate : float
        Initial Adam learning rate, cosine-annealed to ``FINAL_LR_FRACTION`` of itself
        over ``epochs``.
    weight_decay : float
        L2 penalty of Adam (on all weights and biases).
    batch_size : int or None
        None trains full-batch; otherwise shuffled mini-batches of this many rows.
    validation_fraction : float
        Fraction of the rows, in [0, 1), held out (seeded) for early stopping. With 0,
        the training loss is monitored instead.
    patience : int
        Stop after this many epochs without a new best monitored loss; the weights of
        the best epoch are kept.
    random_state : int
        Seed of the split, the initial weights and the mini-batch order.

    Attributes
    ----------
    weights_ : list of ndarray
        ``[W0, b0, W1, b1, ...]``; ``W_i`` of shape (width_i, width_{i+1}) acts on rows
        (``h @ W_i + b_i``), widths ``(d, *hidden, r)``; input ``2 X - 1``, output
        standardised.
    y_mean_, y_std_ : ndarray of shape (r,)
        Output standardisation.
    loss_curve_ : ndarray of shape (n_epochs_,)
        Mean training loss (standardised MSE) per epoch, before that epoch's steps.
    validation_curve_ : ndarray of shape (n_epochs_,)
        Validation loss per epoch (after its steps); empty without validation rows.
    n_epochs_ : int
        Epochs run (fewer than ``epochs`` if stopped early).
    best_epoch_ : int
        Epoch (1-based) whose weights were kept.
    y_ndim_ : int
        1 if ``fit`` got a 1-D ``Y`` (predictions are then 1-D), else 2.
    n_features_in_ : int
    n_outputs_ : int
    """

    def __init__(
        self,
        hidden: Sequence[int] = (64, 64),
        activation: str = "tanh",
        epochs: int = 2000,
        learning_rate: float = 1e-2,
        weight_decay: float = 1e-6,
        batch_size: int | None = None,
        validation_fraction: float = 0.1,
        patience: int = 200,
        random_state: int = 0,
    ) -> None:
        self.hidden = hidden
        self.activation = activation
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state

    # --- fitting ----------------------------------------------------------------------------

    def fit(self, X: ArrayLike, Y: ArrayLike) -> MLPRegressor:
        """Train the network (PyTorch, float64, CPU) and copy its weights to numpy.

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
        torch = _import_torch()
        y_ndim, Y = Y.ndim, Y.reshape(len(Y), -1)
        self.y_mean_, self.y_std_ = _standardise(Y)
        train, val = train_validation_split(len(X), self.validation_fraction, self.random_state)
        Xs, Zs = 2.0 * X - 1.0, (Y - self.y_mean_) / self.y_std_
        with torch.random.fork_rng(devices=[]):  # leave the caller's global RNG alone
            torch.manual_seed(self.random_state)
            model = self._network(torch, X.shape[1], Y.shape[1])
            self._train(torch, model, Xs, Zs, train, val)
        self.weights_ = _extract(model)
        self.y_ndim_ = int(y_ndim)
        self._set_shapes()
        return self

    def _check_hyperparameters(self) -> None:
        hidden = self.hidden
        if not (
            isinstance(hidden, (tuple, list))
            and all(isinstance(w, (int, np.integer)) and w >= 1 for w in hidden)
        ):
            raise ValueError(f"hidden must be a sequence of positive integers, got {hidden!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {self.activation!r}; choose from {tuple(ACTIVATIONS)}"
            )
        _check_positive_int(self.epochs, "epochs")
        _check_positive_int(self.patience, "patience")
        if self.batch_size is not None:
            _check_positive_int(self.batch_size, "batch_size")
        if not (isinstance(self.learning_rate, (int, float)) and self.learning_rate > 0):
            raise ValueError(f"learning_rate must be a positive number, got {self.learning_rate!r}")
        if not (isinstance(self.weight_decay, (int, float)) and self.weight_decay >= 0):
            raise ValueError(f"weight_decay must be a number >= 0, got {self.weight_decay!r}")
        fraction = self.validation_fraction
        if not (isinstance(fraction, (int, float)) and 0 <= fraction < 1):
            raise ValueError(f"validation_fraction must be in [0, 1), got {fraction!r}")

    def _network(self, torch: Any, d: int, r: int) -> torch.nn.Sequential:
        """Float64 network of widths ``(d, *hidden, r)``, PyTorch's default initialisation."""
        widths = [d, *self.hidden, r]
        act = getattr(torch.nn, _TORCH_ACTIVATIONS[self.activation])
        layers: list[Any] = []
        for i in range(len(widths) - 1):
            if i > 0:
                layers.append(act())
            layers.append(torch.nn.Linear(widths[i], widths[i + 1], dtype=torch.float64))
        return torch.nn.Sequential(*layers)

    def _train(
        self,
        torch: Any,
        model: torch.nn.Sequential,
        X: np.ndarray,
        Z: np.ndarray,
        train: np.ndarray,
        val: np.ndarray,
    ) -> None:
        """Adam with cosine decay and early stopping; leaves the best weights in ``model``."""
        Xt, Zt = torch.from_numpy(X[train]), torch.from_numpy(Z[train])
        Xv, Zv = torch.from_numpy(X[val]), torch.from_numpy(Z[val])
        optimiser = torch.optim.Adam(
            model.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay
        )
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
            optimiser, T_max=self.epochs, eta_min=FINAL_LR_FRACTION * self.learning_rate
        )
        batches = torch.Generator().manual_seed(self.random_state)
        losses, val_losses = [], []
        best, best_epoch, best_state = math.inf, 0, None
        for epoch in range(1, self.epochs + 1):
            losses.append(self._epoch(torch, model, optimiser, Xt, Zt, batches))
            schedule.step()
            if len(val):
                with torch.no_grad():
                    val_losses.append(float(torch.mean((model(Xv) - Zv) ** 2)))
            monitored = val_losses[-1] if len(val) else losses[-1]
            if monitored < best:
                best, best_epoch = monitored, epoch
                best_state = {k: v.clone() for k, v in model.state_dict().items()}
            elif epoch - best_epoch >= self.patience:
                break
        if best_state is not None:
            model.load_state_dict(best_state)
        self.loss_curve_, self.validation_curve_ = np.array(losses), np.array(val_losses)
        self.n_epochs_, self.best_epoch_ = len(losses), best_epoch

    def _epoch(
        self,
        torch: Any,
        model: torch.nn.Sequential,
        optimiser: torch.optim.Optimizer,
        X: torch.Tensor,
        Z: torch.Tensor,
        generator: torch.Generator,
    ) -> float:
        """One pass over the training rows; the mean loss before each step, row-weighted."""
        n = X.shape[0]
        size = n if self.batch_size is None else min(self.batch_size, n)
        order = torch.randperm(n, generator=generator) if size < n else None
        total = 0.0
        for start in range(0, n, size):
            rows = slice(start, start + size) if order is None else order[start : start + size]
            optimiser.zero_grad()
            loss = torch.mean((model(X[rows]) - Z[rows]) ** 2)
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(X[rows])
        return total / n

    def _set_shapes(self) -> None:
        self.n_features_in_ = int(self.weights_[0].shape[0])
        self.n_outputs_ = int(self.weights_[-1].shape[0])

    # --- prediction -------------------------------------------------------------------------

    def predict(self, X: ArrayLike, return_std: bool = False) -> np.ndarray:
        """Network output at ``X``, in numpy (no PyTorch needed).

        Parameters
        ----------
        X : array-like of shape (m, d)
            Parameters in the unit cube.
        return_std : bool
            Must be False: the network gives no uncertainty.

        Returns
        -------
        ndarray of shape (m, r), or (m,) if fitted with 1-D ``Y``; units of ``Y``.
        """
        if return_std:
            raise ValueError(
                "the MLP regressor gives no uncertainty; use GPRegressor for error bars"
            )
        check_is_fitted(self, "weights_")
        X = check_inputs(X, self.n_features_in_, type(self).__name__)
        Y = forward(self.weights_, 2.0 * X - 1.0, self.activation) * self.y_std_ + self.y_mean_
        return Y[:, 0] if self.y_ndim_ == 1 else Y

    # --- saving -----------------------------------------------------------------------------

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The fitted state as named numpy arrays (save with ``get_params()`` as JSON).

        Keys ``W0, b0, W1, b1, ...`` (see ``weights_``), ``y_mean``, ``y_std``, ``y_ndim``.
        """
        check_is_fitted(self, "weights_")
        arrays = {f"{'Wb'[i % 2]}{i // 2}": np.asarray(a) for i, a in enumerate(self.weights_)}
        arrays.update(y_mean=self.y_mean_, y_std=self.y_std_, y_ndim=np.array(self.y_ndim_))
        return arrays

    @classmethod
    def from_saved(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> MLPRegressor:
        """Rebuild a fitted regressor from ``get_params()`` and ``to_arrays()``; no PyTorch."""
        if isinstance(params.get("hidden"), list):  # JSON turns the tuple into a list
            params = {**params, "hidden": tuple(params["hidden"])}
        est = cls(**params)
        est._check_hyperparameters()
        n_layers = len(est.hidden) + 1
        check_saved(arrays, _saved_keys(n_layers), cls)
        est.weights_ = [
            np.asarray(arrays[f"{k}{i}"], dtype=float) for i in range(n_layers) for k in "Wb"
        ]
        est.y_mean_ = np.asarray(arrays["y_mean"], dtype=float)
        est.y_std_ = np.asarray(arrays["y_std"], dtype=float)
        est.y_ndim_ = int(arrays["y_ndim"])
        _check_weight_shapes(est.weights_, (*est.hidden,), est.y_mean_, est.y_std_)
        est._set_shapes()
        return est

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


# --- numpy network --------------------------------------------------------------------------


def forward(weights: Sequence[np.ndarray], H: np.ndarray, activation: str) -> np.ndarray:
    """Network output (m, r) for scaled inputs ``H`` (m, d); ``weights`` as ``weights_``."""
    act = ACTIVATIONS[activation]
    n_layers = len(weights) // 2
    for i in range(n_layers):
        H = H @ weights[2 * i] + weights[2 * i + 1]
        if i < n_layers - 1:
            H = act(H)
    return H


def _extract(model: torch.nn.Sequential) -> list[np.ndarray]:
    """``[W0, b0, ...]`` of the Linear layers of ``model``, W transposed to (in, out)."""
    weights: list[np.ndarray] = []
    for layer in model:
        if hasattr(layer, "weight"):
            weights.append(layer.weight.detach().numpy().T.copy())
            weights.append(layer.bias.detach().numpy().copy())
    return weights


def _check_positive_int(value: Any, name: str) -> None:
    if not (isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _check_weight_shapes(
    weights: list[np.ndarray], hidden: tuple[int, ...], y_mean: np.ndarray, y_std: np.ndarray
) -> None:
    """Raise ValueError unless saved weights chain through widths ``(d, *hidden, r)``."""
    d, r = weights[0].shape[0] if weights[0].ndim == 2 else -1, y_mean.shape[0]
    widths = [d, *hidden, r]
    for i in range(len(widths) - 1):
        for name, got, shape in (
            (f"W{i}", weights[2 * i].shape, (widths[i], widths[i + 1])),
            (f"b{i}", weights[2 * i + 1].shape, (widths[i + 1],)),
        ):
            if got != shape:
                raise ValueError(
                    f"saved MLPRegressor array {name!r} has shape {got}, expected {shape}"
                )
    if y_mean.ndim != 1 or y_std.shape != y_mean.shape:
        raise ValueError(
            f"saved MLPRegressor y_mean/y_std have shapes {y_mean.shape}/{y_std.shape}, "
            "expected (r,) each"
        )
