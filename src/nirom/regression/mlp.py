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
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from sklearn.utils.validation import check_is_fitted

from nirom.checks import Constraint, Integer, OneOf, Real, Widths
from nirom.errors import ModelError, TorchMissingError
from nirom.regression.base import Regressor
from nirom.regression.validation import check_saved, check_saved_shapes, standardise
from nirom.saving import saveable

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


@saveable("regressor", "mlp")
class MLPRegressor(Regressor):
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
    y_ndim_, n_features_in_, n_outputs_
        See :class:`~nirom.regression.base.Regressor`.
    """

    _fitted = "weights_"
    _constraints: ClassVar[dict[str, Constraint]] = {
        "hidden": Widths(),
        "activation": OneOf(choices=tuple(ACTIVATIONS), label="activation"),
        "epochs": Integer(least=1),
        "learning_rate": Real(low=0, closed="neither"),
        "weight_decay": Real(low=0),
        "batch_size": Integer(least=1, none=True),
        "validation_fraction": Real(low=0, high=1, closed="left"),
        "patience": Integer(least=1),
        "random_state": Integer(),
    }

    def __init__(
        self,
        *,
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
        self._store_hyperparameters(locals())

    # --- fitting ----------------------------------------------------------------------------

    def _fit(self, X: np.ndarray, Y: np.ndarray) -> None:
        """Train the network (PyTorch, float64, CPU) and copy its weights to numpy."""
        torch = _import_torch()
        self.y_mean_, self.y_std_ = standardise(Y)
        train, val = train_validation_split(len(X), self.validation_fraction, self.random_state)
        Xs, Zs = 2.0 * X - 1.0, (Y - self.y_mean_) / self.y_std_
        with torch.random.fork_rng(devices=[]):  # leave the caller's global RNG alone
            torch.manual_seed(self.random_state)
            model = self._network(torch, X.shape[1], Y.shape[1])
            self._train(torch, model, Xs, Zs, train, val)
        self.weights_ = _extract(model)
        self._set_shapes()

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

    def _predict(self, X: np.ndarray, return_std: bool) -> tuple[np.ndarray, None]:
        """Network output in numpy (no PyTorch needed)."""
        return forward(
            self.weights_, 2.0 * X - 1.0, self.activation
        ) * self.y_std_ + self.y_mean_, None

    # --- saving -----------------------------------------------------------------------------

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The fitted state as named numpy arrays (save with ``get_params()`` as JSON).

        Keys ``W0, b0, W1, b1, ...`` (see ``weights_``), ``y_mean``, ``y_std``, ``y_ndim``.
        """
        check_is_fitted(self, "weights_")
        arrays = {f"{'Wb'[i % 2]}{i // 2}": np.asarray(a) for i, a in enumerate(self.weights_)}
        arrays.update(y_mean=self.y_mean_, y_std=self.y_std_, y_ndim=np.array(self.y_ndim_))
        return arrays

    def _load(self, arrays: Mapping[str, np.ndarray]) -> None:
        """Weights from :meth:`to_arrays` output, checked against ``hidden``; no PyTorch."""
        n_layers = len(self.hidden) + 1
        check_saved(arrays, _saved_keys(n_layers), type(self))
        self.weights_ = [
            np.asarray(arrays[f"{k}{i}"], dtype=float) for i in range(n_layers) for k in "Wb"
        ]
        self.y_mean_ = np.asarray(arrays["y_mean"], dtype=float)
        self.y_std_ = np.asarray(arrays["y_std"], dtype=float)
        self.y_ndim_ = int(arrays["y_ndim"])
        _check_weight_shapes(self.weights_, (*self.hidden,), self.y_mean_, self.y_std_)
        self._set_shapes()

    def summary(self) -> str:
        check_is_fitted(self, "weights_")
        widths = [self.n_features_in_, *self.hidden, self.n_outputs_]
        return f"mlp: layer widths {widths}, {self.activation}"


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


def _check_weight_shapes(
    weights: list[np.ndarray], hidden: tuple[int, ...], y_mean: np.ndarray, y_std: np.ndarray
) -> None:
    """Raise ModelError unless saved weights chain through widths ``(d, *hidden, r)``."""
    d, r = weights[0].shape[0] if weights[0].ndim == 2 else -1, y_mean.shape[0]
    widths = [d, *hidden, r]
    expected = {}
    for i in range(len(widths) - 1):
        expected[f"W{i}"] = ((widths[i], widths[i + 1]), weights[2 * i])
        expected[f"b{i}"] = ((widths[i + 1],), weights[2 * i + 1])
    check_saved_shapes(MLPRegressor, expected)
    if y_mean.ndim != 1 or y_std.shape != y_mean.shape:
        raise ModelError(
            f"saved MLPRegressor y_mean/y_std have shapes {y_mean.shape}/{y_std.shape}, "
            "expected (r,) each"
        )
