"""Neural-operator surrogates: FNO and DeepONet on datasets with field inputs.

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
from typing import Any

import numpy as np

from nirom.dataset import Dataset, FieldSpec
from nirom.errors import DatasetError, ParameterError, TorchMissingError
from nirom.parameters import FieldInput, ParameterSpace
from nirom.regression.mlp import train_validation_split
from nirom.surrogates.base import Fields, ModelError, Surrogate

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
    epochs, batch_size, learning_rate, weight_decay, scheduler
        AdamW with a per-epoch schedule ("cosine", "step", "onecycle", "none").
    patience : int, optional
        Early stopping after this many epochs without a better validation error.
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

    def __init__(
        self,
        epochs: int = 500,
        batch_size: int = 20,
        learning_rate: float = 1e-3,
        weight_decay: float = 1e-4,
        scheduler: str = "cosine",
        patience: int | None = None,
        validation_fraction: float = 0.1,
        seed: int = 0,
        device: str = "auto",
        progress: bool = True,
    ) -> None:
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.scheduler = scheduler
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.seed = seed
        self.device = device
        self.progress = progress

    # -- hyperparameters -------------------------------------------------------------
    _ARCHITECTURE: tuple[str, ...] = ()
    _y_axis = 1  # channel axis of the target array

    def get_params(self) -> dict[str, Any]:
        names = (*self._ARCHITECTURE, *self._TRAINING)
        return {name: getattr(self, name) for name in names}

    def check_params(self) -> None:
        """Raise :class:`ModelError` naming the first hyperparameter that cannot work."""
        from nirom.neural import TrainingConfig, check_config

        options = {k: getattr(self, k) for k in self._TRAINING if k != "validation_fraction"}
        try:
            check_config(TrainingConfig(**options), has_validation=self.validation_fraction > 0)
            if not 0.0 <= self.validation_fraction < 1.0:
                raise ValueError(
                    f"validation_fraction must be in [0, 1), got {self.validation_fraction}"
                )
            with _caller_rng_kept():
                self._build_network(1, 1, probe=True)
        except (ValueError, TypeError, ParameterError) as exc:
            raise ModelError(f"{self.kind}: {exc}") from None

    # -- fitting -------------------------------------------------------------------------
    _FITTED = ("space_", "fields_", "mesh_", "grid_shape_", "training_ids_", "x_stats_")
    _FITTED += ("y_stats_", "channels_", "network_", "history_")

    def fit(self, dataset: Dataset, ids: list[int] | None = None) -> NeuralOperatorSurrogate:
        """Train on the done samples ``ids`` of ``dataset`` (default: all); return self.

        A failed fit (bad data, diverging training) leaves the model unfitted.
        """
        self.check_params()
        with _caller_rng_kept():
            try:
                self._fit(dataset, ids)
            except BaseException:
                for name in self._FITTED:
                    self.__dict__.pop(name, None)
                raise
        return self

    def _fit(self, dataset: Dataset, ids: list[int] | None) -> None:
        from nirom.neural import TrainingConfig, seed_everything, train

        torch = _torch()
        ids = dataset.sample_ids() if ids is None else list(ids)
        if len(ids) < 2:
            raise DatasetError(f"{dataset.path}: need at least 2 done samples, got {len(ids)}")
        self.space_, self.fields_, self.mesh_ = dataset.space, dict(dataset.fields), dataset.mesh
        self.grid_shape_ = _grid_shape(dataset)
        self.training_ids_ = ids
        u = self.space_.to_unit(dataset.parameters(ids))
        inputs = {p.name: dataset.field_input(p.name, ids) for p in self.space_.field_inputs}
        self.x_stats_ = np.stack([_stats(inputs[p.name]) for p in self.space_.field_inputs], 1)
        x = self._input_array(u, inputs)
        y = self._output_array({name: dataset.field(name, ids) for name in self.fields_})
        self.y_stats_ = _channel_stats(y, axis=self._y_axis)
        train_rows, val_rows = train_validation_split(len(ids), self.validation_fraction, self.seed)
        seed_everything(self.seed)
        self.channels_ = [int(x.shape[1]), int(y.shape[self._y_axis])]  # network in, out
        self.network_ = self._build_network(*self.channels_)
        xt = torch.as_tensor(x, dtype=torch.float32)
        yt = torch.as_tensor(y, dtype=torch.float32)
        options = {k: getattr(self, k) for k in self._TRAINING if k != "validation_fraction"}
        self.history_ = train(
            self.network_,
            xt[train_rows],
            yt[train_rows],
            TrainingConfig(**options),
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
        self, u: np.ndarray, inputs: Fields, return_std: bool
    ) -> tuple[Fields, Fields | None]:
        torch = _torch()
        grid = next(iter(inputs.values())).shape[1:]
        forward = self._forward_fn(tuple(grid))
        outputs = []
        with torch.no_grad():
            for start in range(0, len(u), _PREDICT_BATCH):
                rows = slice(start, start + _PREDICT_BATCH)
                x = self._input_array(u[rows], {k: v[rows] for k, v in inputs.items()})
                batch = torch.as_tensor(x, dtype=torch.float32)
                outputs.append(forward(self.network_, batch).numpy())
        y = np.concatenate(outputs).astype(float)
        return self._fields_from_output(y, tuple(grid)), None

    # -- persistence ---------------------------------------------------------------------------
    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state = {
            "params": self.get_params(),
            "grid_shape": list(self.grid_shape_),
            "x_stats": self.x_stats_.tolist(),
            "y_stats": self.y_stats_.tolist(),
            "channels": self.channels_,
            "history": _history_dict(self.history_),
        }
        arrays = {
            f"weights/{k}": v.detach().cpu().numpy() for k, v in self.network_.state_dict().items()
        }
        return state, arrays | self._extra_arrays()

    def _extra_arrays(self) -> dict[str, np.ndarray]:
        return {}

    @classmethod
    def _from_state(cls, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> Surrogate:
        torch = _torch()
        model = cls(**state["params"])
        model.grid_shape_ = tuple(state["grid_shape"])
        model.x_stats_ = np.asarray(state["x_stats"], dtype=float)
        model.y_stats_ = np.asarray(state["y_stats"], dtype=float)
        from nirom.neural import TrainingHistory

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

    def _load_extra_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Arrays besides the weights that the network needs (DeepONet: query points)."""


class FNOSurrogate(NeuralOperatorSurrogate):
    """Fourier neural operator (Li et al. 2021) on 1-D or 2-D grids (``fno``).

    Parameters
    ----------
    modes : int
        Fourier modes kept per axis in each spectral convolution.
    width : int
        Channels of the Fourier layers.
    n_layers : int
        Number of Fourier layers.
    projection_channels : int
        Hidden channels of the pointwise projection.
    padding : int
        Zero-padding points appended per axis at the training resolution
        (non-periodic problems, e.g. 9 for Darcy at 85 x 85); 0 for periodic
        ones. On another grid the same physical length is padded (15 points at
        141 x 141), since the Fourier modes live on the padded domain.
    periodic : bool
        Grid convention of the coordinate channels: periodic grids hold
        ``x_j = j / n``, others ``x_j = j / (n - 1)``.
    **training
        See :class:`NeuralOperatorSurrogate`.

    An FNO predicts at any grid resolution: ``predict`` accepts field inputs
    on a finer or coarser grid than the training one (same number of axes)
    and returns the fields on that grid.
    """

    kind = "fno"
    _ARCHITECTURE = ("modes", "width", "n_layers", "projection_channels", "padding", "periodic")

    def __init__(
        self,
        modes: int = 16,
        width: int = 32,
        n_layers: int = 4,
        projection_channels: int = 128,
        padding: int = 0,
        periodic: bool = True,
        **training: Any,
    ) -> None:
        super().__init__(**training)
        self.modes = modes if isinstance(modes, int) else tuple(modes)
        self.width = width
        self.n_layers = n_layers
        self.projection_channels = projection_channels
        self.padding = padding
        self.periodic = periodic

    def _modes_per_axis(self, n_dim: int) -> tuple[int, ...]:
        return (self.modes,) * n_dim if isinstance(self.modes, int) else tuple(self.modes)

    def _build_network(self, in_channels: int, out_channels: int, probe: bool = False) -> Any:
        from nirom.neural import FNO

        n_dim = (1 if isinstance(self.modes, int) else len(self.modes)) if probe else None
        return FNO(
            n_dim=n_dim or len(self.grid_shape_),
            in_channels=in_channels,
            out_channels=out_channels,
            modes=self.modes,
            width=self.width,
            n_layers=self.n_layers,
            projection_channels=self.projection_channels,
            padding=self.padding,
            periodic=self.periodic,
        )

    def _forward_fn(self, grid: tuple[int, ...] | None = None) -> Any:
        torch = _torch()
        mean, std = (torch.as_tensor(s, dtype=torch.float32) for s in self.y_stats_)
        shape = (1, -1) + (1,) * len(self.grid_shape_)
        padding = self._padding(grid or self.grid_shape_)

        def forward(network: Any, x: Any) -> Any:
            out = network(x, padding=padding)
            return out * std.to(x.device).view(shape) + mean.to(x.device).view(shape)

        return forward

    def _padding(self, grid: tuple[int, ...]) -> tuple[int, ...]:
        """Points padded per axis so the padded domain has the training grid's physical size."""
        offset = 0 if self.periodic else 1  # intervals per axis: n (periodic) or n - 1
        return tuple(
            round(self.padding * (n - offset) / (n0 - offset))
            for n, n0 in zip(grid, self.grid_shape_, strict=True)
        )

    def _input_array(self, u: np.ndarray, inputs: Fields) -> np.ndarray:
        grid = next(iter(inputs.values())).shape[1:]
        channels = self._normalised_inputs(inputs)
        for j in range(u.shape[1]):  # scalars as constant channels
            channels.append(np.broadcast_to(u[:, j].reshape(-1, *[1] * len(grid)), (len(u), *grid)))
        return np.stack(channels, axis=1)

    def _output_array(self, fields: Fields) -> np.ndarray:
        n = len(next(iter(fields.values())))
        parts = [
            fields[name].reshape(n, *self.grid_shape_, spec.components)
            for name, spec in self.fields_.items()
        ]
        return np.moveaxis(np.concatenate(parts, axis=-1), -1, 1)

    def _fields_from_output(self, y: np.ndarray, grid: tuple[int, ...]) -> Fields:
        y = np.moveaxis(y, 1, -1).reshape(len(y), int(np.prod(grid)), -1)
        return _split_channels(y, self.fields_)

    def _validate(self, mu: Mapping[str, Any]) -> dict[str, Any]:
        """As the space checks, but field inputs may be on any grid with the same axes."""
        relaxed = []
        for p in self.space_.parameters:
            value = mu.get(p.name) if isinstance(mu, Mapping) else None
            shape = np.shape(value) if value is not None else None
            if isinstance(p, FieldInput) and shape is not None and len(shape) == len(p.shape):
                p = dataclasses.replace(p, shape=shape)
            relaxed.append(p)
        checked = ParameterSpace(relaxed).validate(mu)
        grids = {p.name: p.shape for p in relaxed if isinstance(p, FieldInput)}
        if len(set(grids.values())) > 1:
            raise ParameterError(f"field inputs must share one grid, got {grids}")
        for name, shape in grids.items():
            modes = self._modes_per_axis(len(shape))
            if any(n < 2 * m for n, m in zip(shape, modes, strict=True)):
                raise ParameterError(
                    f"field input {name!r}: grid {shape} is too coarse for {modes} "
                    f"Fourier modes (needs at least {tuple(2 * m for m in modes)} points)"
                )
        return checked


class DeepONetSurrogate(NeuralOperatorSurrogate):
    """Deep operator network (Lu et al. 2021), unstacked (``deeponet``).

    The branch net reads the field inputs at the training grid's points (the
    sensors) and the scalars; the trunk net reads the coordinates of the
    output points, the mesh points of the training dataset.

    Parameters
    ----------
    branch_layers, trunk_layers : tuple of int
        Hidden widths of the branch and trunk MLPs.
    latent : int
        Number of basis functions (the dot-product dimension) per output channel.
    **training
        See :class:`NeuralOperatorSurrogate`.
    """

    kind = "deeponet"
    _ARCHITECTURE = ("branch_layers", "trunk_layers", "latent")
    _y_axis = -1

    def __init__(
        self,
        branch_layers: tuple[int, ...] = (128, 128, 128),
        trunk_layers: tuple[int, ...] = (128, 128, 128),
        latent: int = 128,
        **training: Any,
    ) -> None:
        super().__init__(**training)
        self.branch_layers = _widths("branch_layers", branch_layers)
        self.trunk_layers = _widths("trunk_layers", trunk_layers)
        self.latent = latent

    def get_params(self) -> dict[str, Any]:
        params = super().get_params()
        params["branch_layers"] = list(self.branch_layers)
        params["trunk_layers"] = list(self.trunk_layers)
        return params

    def fit(self, dataset: Dataset, ids: list[int] | None = None) -> DeepONetSurrogate:
        mesh = dataset.mesh
        if mesh is None:
            raise DatasetError(f"{dataset.path}: DeepONet needs the mesh points as query points")
        self.query_points_ = _unit_coordinates(mesh.points)
        return super().fit(dataset, ids)

    def _build_network(self, in_channels: int, out_channels: int, probe: bool = False) -> Any:
        from nirom.neural import DeepONet

        return DeepONet(
            n_sensors=in_channels,
            coord_dim=1 if probe else self.query_points_.shape[1],
            out_channels=out_channels,
            branch_layers=self.branch_layers,
            trunk_layers=self.trunk_layers,
            latent=self.latent,
        )

    def _forward_fn(self, grid: tuple[int, ...] | None = None) -> Any:
        torch = _torch()
        points = torch.as_tensor(self.query_points_, dtype=torch.float32)
        mean, std = (torch.as_tensor(s, dtype=torch.float32) for s in self.y_stats_)

        def forward(network: Any, x: Any) -> Any:
            out = network(x, points.to(x.device))
            return out * std.to(x.device) + mean.to(x.device)

        return forward

    def _input_array(self, u: np.ndarray, inputs: Fields) -> np.ndarray:
        parts = [v.reshape(len(u), -1) for v in self._normalised_inputs(inputs)]
        return np.hstack([*parts, u])

    def _output_array(self, fields: Fields) -> np.ndarray:
        n = len(next(iter(fields.values())))
        parts = [
            fields[name].reshape(n, -1, spec.components) for name, spec in self.fields_.items()
        ]
        return np.concatenate(parts, axis=-1)

    def _fields_from_output(self, y: np.ndarray, grid: tuple[int, ...]) -> Fields:
        return _split_channels(y, self.fields_)

    def _extra_arrays(self) -> dict[str, np.ndarray]:
        return {"query_points": self.query_points_}

    def _load_extra_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.query_points_ = arrays["query_points"]


# -- helpers --------------------------------------------------------------------------------
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


def _grid_shape(dataset: Dataset) -> tuple[int, ...]:
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
    if dataset.per_sample_mesh or dataset.mesh is None:
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


def _stats(values: np.ndarray) -> np.ndarray:
    """Mean and std of all entries (std 1 for a constant input)."""
    std = float(values.std())
    return np.array(
        [float(values.mean()), std if std > 1e-12 * max(1.0, abs(values.mean())) else 1.0]
    )


def _widths(name: str, widths: Any) -> tuple[int, ...]:
    if isinstance(widths, (int, str)) or not all(
        isinstance(w, int) and not isinstance(w, bool) and w >= 1 for w in widths
    ):
        raise ModelError(f"{name} must be a list of positive integers, got {widths!r}")
    return tuple(widths)


def _channel_stats(a: np.ndarray, axis: int) -> np.ndarray:
    """(2, channels): mean and std over everything but the channel ``axis`` (std 1 if constant)."""
    moved = np.moveaxis(a, axis, 0).reshape(a.shape[axis], -1)
    std = moved.std(axis=1)
    return np.stack([moved.mean(axis=1), np.where(std > 0, std, 1.0)])


def _split_channels(y: np.ndarray, fields: dict[str, FieldSpec]) -> Fields:
    """Fields (n, n_points[, components]) from an array (n, n_points, total components)."""
    out, start = {}, 0
    for name, spec in fields.items():
        part = y[..., start : start + spec.components]
        out[name] = part[..., 0] if spec.components == 1 else part
        start += spec.components
    return out


def _unit_coordinates(points: np.ndarray) -> np.ndarray:
    """Mesh points scaled to [0, 1] per used axis (constant axes dropped)."""
    low, high = points.min(axis=0), points.max(axis=0)
    used = high > low
    return (points[:, used] - low[used]) / (high[used] - low[used])


def _history_dict(history: Any) -> dict[str, Any] | None:
    if history is None or isinstance(history, dict):
        return history
    return dataclasses.asdict(history)
