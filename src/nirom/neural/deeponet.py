"""Deep operator network (Lu et al. 2021, "Learning nonlinear operators via DeepONet").

:class:`DeepONet` is the unstacked DeepONet: a branch MLP encodes an input function
sampled at ``n_sensors`` fixed sensors into ``latent`` coefficients per output channel,
a trunk MLP maps a query point to ``latent`` basis values per output channel, and the
output at that point is their dot product plus a learned bias per channel. The output
can be asked for at any query points, on or off the training points.

Both MLPs use GELU activations; the trunk applies one after its last layer too (its
outputs are basis functions), the branch's last layer is linear. Weights are float32.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def mlp(widths: tuple[int, ...], activate_last: bool) -> nn.Sequential:
    """Fully connected GELU network through ``widths`` (input width first)."""
    layers: list[nn.Module] = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2 or activate_last:
            layers.append(nn.GELU())
    return nn.Sequential(*layers)


def _check_widths(name: str, widths: tuple[int, ...]) -> tuple[int, ...]:
    widths = tuple(widths)
    if not all(isinstance(w, int) and not isinstance(w, bool) and w >= 1 for w in widths):
        raise ValueError(f"{name} must be a tuple of positive ints, got {widths!r}")
    return widths


class DeepONet(nn.Module):
    """Unstacked DeepONet: ``G(u)(y) = sum_k b_k(u) t_k(y) + bias``, per output channel.

    Parameters
    ----------
    n_sensors : int
        Number of values describing an input function (its samples at fixed sensors).
    coord_dim : int
        Dimension of the query points ``y``.
    out_channels : int
        Output components at each query point.
    branch_layers, trunk_layers : tuple of int
        Hidden widths of the branch and trunk MLPs.
    latent : int
        Basis size per output channel (the branch and trunk each output
        ``latent * out_channels`` values).
    """

    def __init__(
        self,
        n_sensors: int,
        coord_dim: int,
        out_channels: int = 1,
        branch_layers: tuple[int, ...] = (128, 128, 128),
        trunk_layers: tuple[int, ...] = (128, 128, 128),
        latent: int = 128,
    ) -> None:
        super().__init__()
        for name, value in (
            ("n_sensors", n_sensors),
            ("coord_dim", coord_dim),
            ("out_channels", out_channels),
            ("latent", latent),
        ):
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        branch_layers = _check_widths("branch_layers", branch_layers)
        trunk_layers = _check_widths("trunk_layers", trunk_layers)
        self.n_sensors, self.coord_dim = n_sensors, coord_dim
        self.out_channels, self.latent = out_channels, latent
        features = latent * out_channels
        self.branch = mlp((n_sensors, *branch_layers, features), activate_last=False)
        self.trunk = mlp((coord_dim, *trunk_layers, features), activate_last=True)
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, u: Tensor, y: Tensor) -> Tensor:
        """Evaluate the operator on input functions ``u`` at query points ``y``.

        Parameters
        ----------
        u : Tensor of shape (batch, n_sensors)
            Input functions at the sensors, float32, on the model's device.
        y : Tensor of shape (n_points, coord_dim), or (batch, n_points, coord_dim)
            Query points, shared by the batch or one set per function; same device.

        Returns
        -------
        Tensor of shape (batch, n_points, out_channels)
        """
        if u.ndim != 2 or u.shape[1] != self.n_sensors:
            raise ValueError(
                f"DeepONet expects u of shape (batch, {self.n_sensors}), got {tuple(u.shape)}"
            )
        if y.ndim not in (2, 3) or y.shape[-1] != self.coord_dim:
            raise ValueError(
                f"DeepONet expects y of shape (n_points, {self.coord_dim}) or "
                f"(batch, n_points, {self.coord_dim}), got {tuple(y.shape)}"
            )
        shape = (self.out_channels, self.latent)
        b = self.branch(u).reshape(u.shape[0], *shape)
        t = self.trunk(y).reshape(*y.shape[:-1], *shape)
        pattern = "bcl,pcl->bpc" if y.ndim == 2 else "bcl,bpcl->bpc"
        return torch.einsum(pattern, b, t) + self.bias
