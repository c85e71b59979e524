"""Fourier neural operator (Li et al. 2021, "Fourier neural operator for parametric PDEs").

:class:`FNO` maps functions sampled on a uniform grid, ``(batch, in_channels, *grid)``,
to functions on the same grid, ``(batch, out_channels, *grid)``, in 1-D or 2-D. It
appends the normalised grid coordinates to the input channels, lifts pointwise to
``width`` channels, applies ``n_layers`` Fourier layers (a :class:`SpectralConv` plus a
pointwise linear map, GELU between layers, none after the last) and projects pointwise
through ``projection_channels`` to ``out_channels``. The spectral convolutions act on
the lowest Fourier modes only, so the same weights evaluate on any grid with at least
``2 * modes`` points per axis (resolution independence).

Weights are float32 (PyTorch's default); the spectral weights are complex64.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nirom.neural.dft import irfft_modes, rfft_modes


def _modes_tuple(modes: int | tuple[int, ...], n_dim: int) -> tuple[int, ...]:
    """``modes`` as one positive int per axis; ValueError otherwise."""
    if n_dim not in (1, 2):
        raise ValueError(f"n_dim must be 1 or 2, got {n_dim!r}")
    if isinstance(modes, int) and not isinstance(modes, bool):
        modes = (modes,) * n_dim
    modes = tuple(modes)
    if len(modes) != n_dim or not all(
        isinstance(m, int) and not isinstance(m, bool) and m >= 1 for m in modes
    ):
        raise ValueError(f"modes must be a positive int or {n_dim} positive ints, got {modes!r}")
    return modes


def check_grid(grid: tuple[int, ...], modes: tuple[int, ...], what: str = "grid") -> None:
    """Raise ValueError unless every axis of ``grid`` has at least ``2 * modes`` points.

    Parameters
    ----------
    grid : tuple of int
        Spatial sizes of the input (points per axis).
    modes : tuple of int
        Fourier modes kept per axis.
    what : str
        Name of the checked thing, for the message.
    """
    if len(grid) != len(modes):
        raise ValueError(
            f"expected {len(modes)} spatial axes, got an input with spatial shape {grid}"
        )
    for axis, (n, m) in enumerate(zip(grid, modes, strict=True)):
        if n < 2 * m:
            raise ValueError(
                f"{what} of spatial shape {grid} is too small for modes {modes}: axis {axis} has "
                f"{n} points, at least 2 * {m} = {2 * m} needed"
            )


class SpectralConv(nn.Module):
    """Convolution as a multiplication of the lowest Fourier modes (1-D or 2-D).

    ``x`` (batch, in_channels, *grid) is transformed with ``rfft``/``rfftn`` over the
    spatial axes; the kept modes are mixed across channels by complex weights, the
    others set to zero, and the result transformed back to the input grid. Kept
    modes: frequencies ``0 .. m-1`` on the last axis (the rfft half-spectrum) and
    ``-m .. m-1`` on the first axis in 2-D (both signs).

    Parameters
    ----------
    n_dim : int
        Number of spatial axes, 1 or 2.
    in_channels, out_channels : int
        Channels of the input and output.
    modes : int or tuple of int
        Modes ``m`` kept per axis (one int for all axes).

    Attributes
    ----------
    weight : Parameter, complex
        Shape (in_channels, out_channels, m) in 1-D, (in_channels, out_channels, 2 m0, m1)
        in 2-D (first axis: the ``m0`` non-negative frequencies, then the ``m0`` negative
        ones); initialised as in the reference code, ``rand / (in * out)`` for the real
        and imaginary parts.
    """

    def __init__(
        self, n_dim: int, in_channels: int, out_channels: int, modes: int | tuple[int, ...]
    ) -> None:
        super().__init__()
        self.n_dim = n_dim
        self.modes = _modes_tuple(modes, n_dim)
        kept = (*(2 * m for m in self.modes[:-1]), self.modes[-1])
        scale = 1.0 / (in_channels * out_channels)
        self.weight = nn.Parameter(
            scale * torch.rand(in_channels, out_channels, *kept, dtype=torch.cfloat)
        )

    def forward(self, x: Tensor) -> Tensor:
        """Spectral convolution of ``x`` (batch, in_channels, *grid) -> (batch, out, *grid)."""
        grid = tuple(x.shape[2:])
        check_grid(grid, self.modes, "SpectralConv input")
        # Only the kept modes are transformed, by DFT matrix products (see nirom.neural.dft):
        # the same result as rfftn / irfftn of the truncated spectrum, faster on CPUs.
        low = rfft_modes(x, self.modes)
        pattern = "bix,iox->box" if self.n_dim == 1 else "bixy,ioxy->boxy"
        mixed = torch.einsum(pattern, low, self.weight)
        return irfft_modes(mixed, grid, x.dtype)


def _pointwise(n_dim: int, in_channels: int, out_channels: int) -> nn.Module:
    """Linear map of the channels at every grid point (a 1x1 convolution)."""
    conv = nn.Conv1d if n_dim == 1 else nn.Conv2d
    return conv(in_channels, out_channels, kernel_size=1)


def grid_coordinates(grid: tuple[int, ...], periodic: bool, like: Tensor) -> Tensor:
    """Normalised coordinates of a uniform grid, shape (n_dim, *grid), dtype/device of ``like``.

    Periodic: ``x_j = j / n`` (the point ``n`` is the periodic copy of ``0``);
    otherwise ``x_j = j / (n - 1)``. Either way one physical point gets the same
    coordinate at every resolution.
    """
    axes = []
    for n in grid:
        denominator = n if periodic else max(n - 1, 1)
        axes.append(torch.arange(n, dtype=like.dtype, device=like.device) / denominator)
    return torch.stack(torch.meshgrid(*axes, indexing="ij"))


class FNO(nn.Module):
    """Fourier neural operator on a uniform 1-D or 2-D grid.

    Parameters
    ----------
    n_dim : int
        Number of spatial axes, 1 or 2.
    in_channels, out_channels : int
        Channels of the input and output functions (grid coordinates excluded: the
        network appends them itself).
    modes : int or tuple of int
        Fourier modes kept per axis by every spectral convolution; inputs need at least
        ``2 * modes`` points per axis.
    width : int
        Channels inside the Fourier layers.
    n_layers : int
        Number of Fourier layers.
    projection_channels : int
        Hidden channels of the pointwise output projection.
    padding : int
        Zero points appended at the end of every spatial axis before the Fourier layers
        and cropped after them, for non-periodic problems (the reference code pads its
        Darcy model). A count of points, so the padded length in physical units shrinks
        on finer grids.
    periodic : bool
        Whether the domain is periodic; sets the appended coordinates (``j / n`` or
        ``j / (n - 1)``).
    """

    def __init__(
        self,
        n_dim: int,
        in_channels: int,
        out_channels: int,
        modes: int | tuple[int, ...] = 16,
        width: int = 32,
        n_layers: int = 4,
        projection_channels: int = 128,
        padding: int = 0,
        periodic: bool = True,
    ) -> None:
        super().__init__()
        self.modes = _modes_tuple(modes, n_dim)
        for name, value, least in (
            ("in_channels", in_channels, 1),
            ("out_channels", out_channels, 1),
            ("width", width, 1),
            ("n_layers", n_layers, 1),
            ("projection_channels", projection_channels, 1),
            ("padding", padding, 0),
        ):
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= least):
                raise ValueError(f"{name} must be an int >= {least}, got {value!r}")
        self.n_dim, self.in_channels, self.out_channels = n_dim, in_channels, out_channels
        self.padding, self.periodic = padding, periodic
        self.lift = _pointwise(n_dim, in_channels + n_dim, width)
        self.spectral = nn.ModuleList(
            SpectralConv(n_dim, width, width, self.modes) for _ in range(n_layers)
        )
        self.local = nn.ModuleList(_pointwise(n_dim, width, width) for _ in range(n_layers))
        self.project = nn.Sequential(
            _pointwise(n_dim, width, projection_channels),
            nn.GELU(),
            _pointwise(n_dim, projection_channels, out_channels),
        )

    def forward(self, x: Tensor, padding: tuple[int, ...] | None = None) -> Tensor:
        """Evaluate the operator.

        Parameters
        ----------
        x : Tensor of shape (batch, in_channels, *grid)
            Input functions on a uniform grid, float32 (the weights' dtype); ``grid``
            has ``n_dim`` axes of at least ``2 * modes`` points each.
        padding : tuple of int, optional
            Points padded per axis instead of ``self.padding`` on each. On another
            grid than the training one, pad the same physical length (e.g. 9 points at
            85 x 85 are 15 at 141 x 141): the Fourier modes live on the padded domain,
            so its physical size must not change with the resolution.

        Returns
        -------
        Tensor of shape (batch, out_channels, *grid)
        """
        if x.ndim != 2 + self.n_dim or x.shape[1] != self.in_channels:
            raise ValueError(
                f"FNO expects input of shape (batch, {self.in_channels}, "
                f"{', '.join(['n'] * self.n_dim)}), got {tuple(x.shape)}"
            )
        grid = tuple(x.shape[2:])
        check_grid(grid, self.modes)
        coords = grid_coordinates(grid, self.periodic, x).expand(x.shape[0], -1, *grid)
        h = self.lift(torch.cat([x, coords], dim=1))
        pads = (self.padding,) * self.n_dim if padding is None else tuple(padding)
        if any(pads):
            h = F.pad(h, [v for p in reversed(pads) for v in (0, p)])
        last = len(self.spectral) - 1
        for i, (spectral, local) in enumerate(zip(self.spectral, self.local, strict=True)):
            h = spectral(h) + local(h)
            if i < last:
                h = F.gelu(h)
        if any(pads):
            h = h[(..., *(slice(0, n) for n in grid))]
        return self.project(h)
