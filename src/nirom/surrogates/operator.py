"""What FNO and DeepONet share: data to tensors, normalisation, training, prediction, saving.

The data convention (the built-in ``darcy`` and ``burgers`` solvers follow it):
every field input of the space is an array on one grid of shape ``G`` (1-D or
2-D); every output field is a point field on a mesh of ``prod(G)`` points in
the C order of that grid (x fastest in 2-D: point ``iy * nx + ix`` holds
``a[iy, ix]``), with optional components. Scalar parameters, if any, enter as
constant input channels (FNO) or extra branch inputs (DeepONet), in their
unit-cube coordinates.

Each field input and each output channel is normalised by one mean and one
standard deviation over the training set (not per grid point, so the same
statistics apply on any grid); scalars enter as their unit-cube coordinates.
The loss is the relative L2 error of the physical
outputs, the metric the models are judged by. Training holds out a seeded
validation fraction for early stopping and keeps the best weights.

Models are saved like every surrogate: ``model.json`` (hyperparameters,
normalisation, grid) and ``arrays.npz`` (the network's weights as float32
arrays, named after its ``state_dict``). Loading rebuilds the network and
loads the arrays: no pickle, no ``torch.load``. PyTorch is needed to fit,
load and predict; without it these raise :class:`TorchMissingError`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
from abc import abstractmethod
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import numpy as np

from nirom.checks import AnyOf, Boolean, Constraint, Integer, OneOf, Real
from nirom.dataset import Dataset, FieldSpec
from nirom.errors import DatasetError, HyperparameterError, ParameterError, TorchMissingError
from nirom.regression.mlp import train_validation_split
from nirom.surrogates.base import Bounds, Fields, ModelError, Prepared, Surrogate

TORCH_HINT = "neural operators need PyTorch: pip install torch==2.13.0"
_PREDICT_BATCH = 32  # samples per forward pass at prediction (bounds memory on big grids)


def _torch() -> Any:
    try:
        import torch
    except ImportError as error:
        raise TorchMissingError(TORCH_HINT) from error
    return torch


class NeuralOperatorSurrogate(Surrogate):
    """Shared fitting, normalisation, prediction and saving of FNO and DeepONet.

    Training hyperparameters (both models)
    --------------------------------------
    epochs : int or None
        Most passes over the training samples; None (default) fits them to the data
        size, so that a default fit finishes in minutes on a CPU: about
        :data:`AUTO_WORK` / (training samples x grid points), between 10 and 500
        (15 for 40 Darcy samples at 85 x 85; set it for a long, accurate fit).
    batch_size : int or "auto"
        Samples per optimiser step; "auto" (default) fits it to the data size:
        a fifth of the training samples, between 4 and 20 (7 for 40 Darcy samples,
        20 from 100 on), so that a small set still gets several steps per epoch
        (40 Darcy samples, default FNO: best validation error 0.17 against 0.44
        with batches of 20, in the same time).
    learning_rate, weight_decay, scheduler
        AdamW with a per-epoch schedule ("cosine", "step", "onecycle", "none").
    patience : int, "auto" or None
        Early stopping after this many epochs without a better validation error;
        "auto" (default): a tenth of the epochs (at least 10) when there is
        validation data, else none; None trains every epoch.
    validation_fraction : float
        Seeded share of the training samples held out for validation (0: none,
        the last epoch's weights are kept).
    seed : int
        Seeds the split, the initial weights and the batch order.
    device : str
        "auto" (a GPU when present), "cpu" or "cuda".
    progress : bool
        Show a progress bar with the loss and the validation error.
    """

    _TRAINING = (
        "epochs",
        "batch_size",
        "learning_rate",
        "weight_decay",
        "scheduler",
        "patience",
        "validation_fraction",
        "seed",
        "device",
        "progress",
    )

    _constraints: ClassVar[dict[str, Constraint]] = {
        "epochs": Integer(least=1, none=True),
        "batch_size": AnyOf(rules=(Integer(least=1), OneOf(choices=("auto",)))),
        "patience": AnyOf(rules=(Integer(least=1), OneOf(choices=("auto",))), none=True),
        "validation_fraction": Real(low=0, high=1, closed="left"),
        "seed": Integer(),
        "progress": Boolean(),
    }

    def __init__(
        self,
        *,
        epochs: int | None = None,
        batch_size: int | str = "auto",
        learning_rate: float = 1e-3,
        weight_decay: float = 1e-4,
        scheduler: str = "cosine",
        patience: int | str | None = "auto",
        validation_fraction: float = 0.1,
        seed: int = 0,
        device: str = "auto",
        progress: bool = True,
    ) -> None:
        self._store_hyperparameters(locals())

    # -- hyperparameters -------------------------------------------------------------
    _y_axis = 1  # channel axis of the target array

    def _training_config(self, n_train: int | None = None) -> Any:
        """The :class:`~nirom.neural.TrainingConfig`, "auto" settings resolved for
        ``n_train`` training samples (None: before the data is known, the largest)."""
        from nirom.neural import TrainingConfig

        options = {k: getattr(self, k) for k in self._TRAINING if k != "validation_fraction"}
        if options["epochs"] is None:
            n_points = int(np.prod(self.grid_shape_)) if hasattr(self, "grid_shape_") else None
            options["epochs"] = auto_epochs(n_train, n_points)
        if options["batch_size"] == "auto":
            options["batch_size"] = auto_batch_size(n_train)
        if options["patience"] == "auto":
            has_validation = self.validation_fraction > 0
            options["patience"] = max(10, options["epochs"] // 10) if has_validation else None
        return TrainingConfig(**options)

    def _check_relations(self) -> None:
        """The training settings (as :func:`nirom.neural.check_config` checks them) and a
        network these hyperparameters build."""
        from nirom.neural import check_config

        try:
            check_config(self._training_config(), has_validation=self.validation_fraction > 0)
            with _caller_rng_kept():
                self._build_network(1, 1, probe=True)
        except (ValueError, TypeError, ParameterError) as exc:
            raise HyperparameterError(f"{self.kind}: {exc}") from None

    # -- fitting -------------------------------------------------------------------------
    _FITTED = ("space_", "fields_", "mesh_", "grid_shape_", "training_ids_", "x_stats_")
    _FITTED += ("y_stats_", "channels_", "network_", "history_")

    def fit(self, dataset: Dataset, ids: list[int] | None = None) -> NeuralOperatorSurrogate:
        """Train on the done samples ``ids`` of ``dataset`` (default: all); return self.

        A failed fit (bad data, diverging training) leaves the model unfitted.
        """
        self.check_params()
        ids = self.check_data(dataset, ids)
        with _caller_rng_kept():
            try:
                self._fit(dataset, ids)
            except BaseException:
                for name in self._FITTED:
                    self.__dict__.pop(name, None)
                raise
        return self

    def _check_kind_of_data(self, dataset: Dataset) -> None:
        grid_shape(dataset)

    def _fit(self, dataset: Dataset, ids: list[int]) -> None:
        from nirom.neural import seed_everything, train

        torch = _torch()
        self.space_, self.fields_, self.mesh_ = dataset.space, dict(dataset.fields), dataset.mesh
        self.grid_shape_ = grid_shape(dataset)
        self.training_ids_ = ids
        u = self._unit(dataset.parameters(ids))
        inputs = {p.name: dataset.field_input(p.name, ids) for p in self.space_.field_inputs}
        self.x_stats_ = np.stack([value_stats(inputs[p.name]) for p in self.space_.field_inputs], 1)
        x = self._input_array(u, inputs)
        y = self._output_array({name: dataset.field(name, ids) for name in self.fields_})
        self.y_stats_ = channel_stats(y, axis=self._y_axis)
        train_rows, val_rows = train_validation_split(len(ids), self.validation_fraction, self.seed)
        seed_everything(self.seed)
        self.channels_ = [int(x.shape[1]), int(y.shape[self._y_axis])]  # network in, out
        self.network_ = self._build_network(*self.channels_)
        xt = torch.as_tensor(x, dtype=torch.float32)
        yt = torch.as_tensor(y, dtype=torch.float32)
        self.history_ = train(
            self.network_,
            xt[train_rows],
            yt[train_rows],
            self._training_config(len(train_rows)),
            val_inputs=xt[val_rows] if len(val_rows) else None,
            val_targets=yt[val_rows] if len(val_rows) else None,
            forward=self._forward_fn(),
        )
        self.network_.eval()

    def _normalised_inputs(self, inputs: Fields) -> list[np.ndarray]:
        """Field inputs in declaration order, each standardised by its training mean and std."""
        return [
            (inputs[p.name] - self.x_stats_[0, k]) / self.x_stats_[1, k]
            for k, p in enumerate(self.space_.field_inputs)
        ]

    @abstractmethod
    def _build_network(self, in_channels: int, out_channels: int, probe: bool = False) -> Any:
        """The torch module, from the hyperparameters and the data's channel counts.

        ``probe``: only check that the hyperparameters build a network (before any data).
        """

    @abstractmethod
    def _forward_fn(self, grid: tuple[int, ...] | None = None) -> Any:
        """``forward(network, x_batch) -> outputs`` in physical units, in the target layout.

        ``grid``: the grid of the inputs when it is not the training one.
        """

    @abstractmethod
    def _input_array(self, u: np.ndarray, inputs: Fields) -> np.ndarray:
        """Network input array from unit-cube scalars (n, dim) and field inputs (n, *grid)."""

    @abstractmethod
    def _output_array(self, fields: Fields) -> np.ndarray:
        """Target array from fields (n, *field_shape)."""

    @abstractmethod
    def _fields_from_output(self, y: np.ndarray, grid: tuple[int, ...]) -> Fields:
        """Fields (n, *field_shape) from network outputs in the target layout."""

    # -- prediction ------------------------------------------------------------------------
    def _predict_batch(
        self, batch: Prepared, return_std: bool, return_bound: bool, **context: Any
    ) -> tuple[Fields, Fields | None, Bounds | None]:
        torch = _torch()
        u, inputs = batch.u, batch.inputs
        grid = next(iter(inputs.values())).shape[1:]
        forward = self._forward_fn(tuple(grid))
        outputs = []
        with torch.no_grad():
            for start in range(0, len(u), _PREDICT_BATCH):
                rows = slice(start, start + _PREDICT_BATCH)
                x = self._input_array(u[rows], {k: v[rows] for k, v in inputs.items()})
                rows_in = torch.as_tensor(x, dtype=torch.float32)
                outputs.append(forward(self.network_, rows_in).numpy())
        y = np.concatenate(outputs).astype(float)
        return self._fields_from_output(y, tuple(grid)), None, None

    # -- persistence ---------------------------------------------------------------------------
    def _state_json(self) -> dict[str, Any]:
        return {
            "grid_shape": list(self.grid_shape_),
            "x_stats": self.x_stats_.tolist(),
            "y_stats": self.y_stats_.tolist(),
            "channels": self.channels_,
            "history": _history_dict(self.history_),
        }

    def _state_arrays(self) -> dict[str, np.ndarray]:
        arrays = {
            f"weights/{k}": v.detach().cpu().numpy() for k, v in self.network_.state_dict().items()
        }
        return arrays | self._extra_arrays()

    def _extra_arrays(self) -> dict[str, np.ndarray]:
        return {}

    @classmethod
    def _from_state(cls, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> Surrogate:
        from nirom.neural import TrainingHistory

        torch = _torch()
        model = cls(**cls.params_from_json(state["params"]))
        model.grid_shape_ = tuple(state["grid_shape"])
        model.x_stats_ = np.asarray(state["x_stats"], dtype=float)
        model.y_stats_ = np.asarray(state["y_stats"], dtype=float)
        model.history_ = TrainingHistory(**state["history"])
        model._load_extra_arrays(arrays)
        model.channels_ = list(state["channels"])
        model.network_ = model._build_network(*model.channels_)
        model.network_.requires_grad_(False)
        weights = {
            k[len("weights/") :]: torch.from_numpy(np.array(v))
            for k, v in arrays.items()
            if k.startswith("weights/")
        }
        try:
            model.network_.load_state_dict(weights, strict=True)
        except RuntimeError as exc:
            raise ModelError(f"weights do not fit the {cls.kind} network: {exc}") from None
        model.network_.eval()
        return model

    def _load_extra_arrays(self, arrays: Mapping[str, np.ndarray]) -> None:
        """Arrays besides the weights that the network needs (DeepONet: query points)."""

    def summary(self) -> str:
        """Epochs run and the best validation error, e.g. ``"40 epochs, best validation ..."``."""
        self._check_fitted()
        history = self.history_
        return (
            f"{history.epochs_run} epochs, best validation error "
            f"{min(history.val_error, default=float('nan')):.4g}"
        )


# -- helpers --------------------------------------------------------------------------------
#: Training work the default number of epochs aims at: training samples x grid points x
#: epochs. The FNO with its default width on 40 Darcy samples at 85 x 85 (36 trained on)
#: then runs 15 epochs, a few minutes on 2 CPU cores; 230 Burgers samples on 256 points, 68.
AUTO_WORK, MIN_EPOCHS, MAX_EPOCHS = 4.0e6, 10, 500
#: Bounds of the default batch size: the FNO paper's 20 for large sets, at least 5 steps
#: per epoch below 100 training samples.
MIN_BATCH, MAX_BATCH = 4, 20


def auto_epochs(n_train: int | None, n_points: int | None) -> int:
    """Epochs for about :data:`AUTO_WORK` sample-point passes, in ``[MIN_EPOCHS, MAX_EPOCHS]``
    (``MAX_EPOCHS`` while the data size is unknown)."""
    if not n_train or not n_points:
        return MAX_EPOCHS
    return int(min(MAX_EPOCHS, max(MIN_EPOCHS, round(AUTO_WORK / (n_train * n_points)))))


def auto_batch_size(n_train: int | None) -> int:
    """A fifth of the training samples, in ``[MIN_BATCH, MAX_BATCH]`` (``MAX_BATCH`` while
    the data size is unknown)."""
    if not n_train:
        return MAX_BATCH
    return int(min(MAX_BATCH, max(MIN_BATCH, n_train // 5)))


@contextlib.contextmanager
def _caller_rng_kept() -> Iterator[None]:
    """Seeding for training without changing the caller's random, NumPy and torch streams."""
    torch = _torch()
    state = random.getstate(), np.random.get_state()  # noqa: NPY002 (seed_everything seeds it)
    with torch.random.fork_rng(devices=[]):
        try:
            yield
        finally:
            random.setstate(state[0])
            np.random.set_state(state[1])  # noqa: NPY002


def grid_shape(dataset: Dataset) -> tuple[int, ...]:
    """The common grid of the field inputs; every output must be a point field on it."""
    shapes = {p.shape for p in dataset.space.field_inputs}
    if len(shapes) != 1:
        raise DatasetError(
            f"{dataset.path}: a neural operator needs field inputs on one grid, got "
            f"{sorted(shapes) or 'no field inputs'}"
        )
    grid = shapes.pop()
    if len(grid) > 2:
        raise DatasetError(f"{dataset.path}: grids of 1 or 2 axes are supported, got {grid}")
    if dataset.per_sample_mesh:
        raise DatasetError(
            f"{dataset.path}: a neural operator needs one mesh for all samples; this dataset "
            "has a mesh per sample: use --model mmgp"
        )
    if dataset.mesh is None:
        raise DatasetError(f"{dataset.path}: a neural operator needs one mesh for all samples")
    for name, spec in dataset.fields.items():
        if spec.location != "point" or spec.times is not None:
            raise DatasetError(
                f"{dataset.path}: field {name!r} must be a point field without output times"
            )
    if dataset.mesh.n_points != int(np.prod(grid)):
        raise DatasetError(
            f"{dataset.path}: the mesh has {dataset.mesh.n_points} points, the input grid "
            f"{grid} has {int(np.prod(grid))}: outputs must live on the input grid"
        )
    if not _is_c_ordered_grid(dataset.mesh.points, grid):
        raise DatasetError(
            f"{dataset.path}: the mesh points are not a uniform {grid} grid in C order "
            "(x fastest), so outputs cannot be laid out like the field inputs"
        )
    return grid


def _is_c_ordered_grid(points: np.ndarray, grid: tuple[int, ...]) -> bool:
    """Whether point ``k`` is grid node ``np.unravel_index(k, grid)`` with the last axis along x."""
    for axis in range(len(grid)):
        coord = points[:, len(grid) - 1 - axis].reshape(grid)  # axis -1 is x, axis -2 is y
        line = np.moveaxis(coord, axis, -1).reshape(-1, grid[axis])
        steps = np.diff(line[0])
        if grid[axis] > 1 and not (
            np.allclose(line, line[0]) and np.all(steps > 0) and np.allclose(steps, steps[0])
        ):
            return False
    return True


def value_stats(values: np.ndarray) -> np.ndarray:
    """Mean and std of all entries (std 1 for a constant input)."""
    std = float(values.std())
    return np.array(
        [float(values.mean()), std if std > 1e-12 * max(1.0, abs(values.mean())) else 1.0]
    )


def channel_stats(a: np.ndarray, axis: int) -> np.ndarray:
    """(2, channels): mean and std over everything but the channel ``axis`` (std 1 if constant)."""
    moved = np.moveaxis(a, axis, 0).reshape(a.shape[axis], -1)
    std = moved.std(axis=1)
    return np.stack([moved.mean(axis=1), np.where(std > 0, std, 1.0)])


def split_channels(y: np.ndarray, fields: dict[str, FieldSpec]) -> Fields:
    """Fields (n, n_points[, components]) from an array (n, n_points, total components)."""
    out, start = {}, 0
    for name, spec in fields.items():
        part = y[..., start : start + spec.components]
        out[name] = part[..., 0] if spec.components == 1 else part
        start += spec.components
    return out


def unit_coordinates(points: np.ndarray) -> np.ndarray:
    """Mesh points scaled to [0, 1] per used axis (constant axes dropped)."""
    low, high = points.min(axis=0), points.max(axis=0)
    used = high > low
    return (points[:, used] - low[used]) / (high[used] - low[used])


def _history_dict(history: Any) -> dict[str, Any] | None:
    if history is None or isinstance(history, dict):
        return history
    return dataclasses.asdict(history)
