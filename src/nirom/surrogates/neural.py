"""Neural-operator surrogates: FNO and DeepONet on datasets with field inputs.

The data convention (the built-in ``darcy`` and ``burgers`` solvers follow it):
every field input of the space is an array on one grid of shape ``G`` (1-D or
2-D); every output field is a point field on a mesh of ``prod(G)`` points in
the C order of that grid (x fastest in 2-D: point ``iy * nx + ix`` holds
``a[iy, ix]``), with optional components. What both models share (normalisation,
training, saving) is :class:`~nirom.surrogates.operator.NeuralOperatorSurrogate`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from nirom.checks import AnyOf, Boolean, Constraint, Integer, Widths
from nirom.dataset import Dataset
from nirom.errors import DatasetError, ParameterError
from nirom.parameters import FieldInput, ParameterSpace
from nirom.saving import saveable
from nirom.surrogates.base import Fields
from nirom.surrogates.operator import (
    NeuralOperatorSurrogate,
    _torch,
    grid_shape,
    split_channels,
    unit_coordinates,
)

__all__ = ["DeepONetSurrogate", "FNOSurrogate", "NeuralOperatorSurrogate"]

_LAYERS = Widths(empty=False, phrase="a list of positive integers")


@saveable("surrogate", "fno")
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

    _constraints: ClassVar[dict[str, Constraint]] = {
        "modes": AnyOf(rules=(Integer(least=1), Widths(empty=False))),
        "width": Integer(least=1),
        "n_layers": Integer(least=1),
        "projection_channels": Integer(least=1),
        "padding": Integer(least=0),
        "periodic": Boolean(),
    }

    def __init__(
        self,
        *,
        modes: int = 16,
        width: int = 32,
        n_layers: int = 4,
        projection_channels: int = 128,
        padding: int = 0,
        periodic: bool = True,
        **training: Any,
    ) -> None:
        super().__init__(**training)
        self._store_hyperparameters(locals())

    def _check_kind_of_data(self, dataset: Dataset) -> None:
        """A grid (as every neural operator) fine enough for the kept Fourier modes."""
        grid = grid_shape(dataset)
        modes = self._modes_per_axis(len(grid))
        if len(modes) != len(grid):
            raise DatasetError(
                f"{dataset.path}: fno modes {self.modes} name {len(modes)} axes, the grid "
                f"{grid} has {len(grid)}"
            )
        for axis, (n, m) in enumerate(zip(grid, modes, strict=True)):
            if n + self.padding < 2 * m:
                raise DatasetError(
                    f"{dataset.path}: fno keeps {m} Fourier modes per axis, which needs "
                    f"{2 * m} grid points or more (padding included); axis {axis} has "
                    f"{n + self.padding}: set -O modes={max(1, (n + self.padding) // 2)}"
                )

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
        return split_channels(y, self.fields_)

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


@saveable("surrogate", "deeponet")
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

    _constraints: ClassVar[dict[str, Constraint]] = {
        "branch_layers": _LAYERS,
        "trunk_layers": _LAYERS,
        "latent": Integer(least=1),
    }
    _y_axis = -1

    def __init__(
        self,
        *,
        branch_layers: tuple[int, ...] = (128, 128, 128),
        trunk_layers: tuple[int, ...] = (128, 128, 128),
        latent: int = 128,
        **training: Any,
    ) -> None:
        super().__init__(**training)
        self._store_hyperparameters(locals())

    def _fit(self, dataset: Dataset, ids: list[int]) -> None:
        self.query_points_ = unit_coordinates(dataset.mesh.points)  # checked: a grid's mesh
        super()._fit(dataset, ids)

    def _build_network(self, in_channels: int, out_channels: int, probe: bool = False) -> Any:
        from nirom.neural import DeepONet

        return DeepONet(
            n_sensors=in_channels,
            coord_dim=1 if probe else self.query_points_.shape[1],
            out_channels=out_channels,
            branch_layers=tuple(self.branch_layers),
            trunk_layers=tuple(self.trunk_layers),
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
        return split_channels(y, self.fields_)

    def _extra_arrays(self) -> dict[str, np.ndarray]:
        return {"query_points": self.query_points_}

    def _load_extra_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.query_points_ = arrays["query_points"]
