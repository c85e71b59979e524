"""Plots a person wants from a surrogate study (matplotlib, written as PNG files).

- :func:`plot_field_comparison`: reference, prediction, error and predicted
  standard deviation of one sample side by side (2-D triangle/quad meshes).
- :func:`plot_singular_values`: POD singular-value decay per model.
- :func:`plot_error_vs_modes`: test error and projection floor against the
  number of POD modes kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nirom.evaluation.metrics import relative_l2
from nirom.mesh import Mesh
from nirom.plotting import pyplot, triangulation


def plot_field_comparison(
    mesh: Mesh,
    reference: np.ndarray,
    prediction: np.ndarray,
    std: np.ndarray | None,
    path: str | Path,
    title: str = "",
    field: str = "u",
    unit: str = "",
) -> Path:
    """Reference, prediction, absolute error (and std) of one scalar point field, as PNG."""
    fig = field_comparison_figure(mesh, reference, prediction, std, title, field, unit)
    fig.savefig(path, dpi=110)
    pyplot().close(fig)
    return Path(path)


def field_comparison_figure(
    mesh: Mesh,
    reference: np.ndarray,
    prediction: np.ndarray,
    std: np.ndarray | None,
    title: str = "",
    field: str = "u",
    unit: str = "",
) -> Any:
    """The figure of :func:`plot_field_comparison`: reference and prediction share one
    colour scale, |error| and the predicted std another (from 0), so the error bars can
    be judged against the error by eye; axes in the mesh's coordinates, colour bars
    labelled with the field and its unit."""
    plt = pyplot()
    tri = triangulation(mesh)
    error = np.abs(prediction - reference)
    panels = [("reference", reference, "inferno"), ("prediction", prediction, "inferno")]
    panels.append(("|error|", error, "viridis"))
    if std is not None:
        panels.append(("predicted std", std, "viridis"))
    values_scale = (float(reference.min()), float(reference.max()))
    spread = [error.max()] + ([] if std is None else [np.max(std)])
    error_scale = (0.0, float(max(spread)) or 1.0)
    suffix = f" ({unit})" if unit else ""
    fig, axes = plt.subplots(1, len(panels), figsize=(3.8 * len(panels), 3.6), squeeze=False)
    for k, (ax, (label, values, cmap)) in enumerate(zip(axes[0], panels, strict=True)):
        vmin, vmax = values_scale if k < 2 else error_scale
        art = ax.tripcolor(tri, values, shading="gouraud", cmap=cmap, vmin=vmin, vmax=vmax)
        ax.set_title(label, fontsize=9)
        ax.set_aspect("equal")
        ax.set_xlabel("x", fontsize=8)
        ax.set_ylabel("y", fontsize=8)
        ax.tick_params(labelsize=7)
        bar = fig.colorbar(art, ax=ax, shrink=0.8)
        bar.set_label(f"{label if k >= 2 else field}{suffix}", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def plot_singular_values(singular_values: dict[str, np.ndarray], path: str | Path) -> Path:
    """Normalised singular values s_k / s_1 of each named POD, log scale.

    Values that are zero to rounding (below 1e-15 s_1) are left out (they have no
    place on a log axis); the x-axis always shows at least modes 1 to 2.
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.6))
    n_max = 2
    for label, s in singular_values.items():
        s = np.asarray(s, dtype=float)
        if s.size == 0 or not s[0] > 0:
            continue
        ratio = s / s[0]
        k = np.arange(1, len(s) + 1)
        keep = ratio > 1e-15
        ax.semilogy(k[keep], ratio[keep], marker=".", label=label)
        n_max = max(n_max, int(k[keep][-1]))
    ax.set_xlim(0.5, n_max + 0.5)
    return _save_curves(fig, ax, path, "mode k", "s_k / s_1", "POD singular-value decay")


def error_vs_modes(
    pod: Any, z_pred: np.ndarray, reference: np.ndarray, mass: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean relative L2 error of the surrogate and of the projection with k modes.

    With independent per-mode regressors, truncating the predicted
    coefficients ``z_pred`` (n, r) to the first k is the k-mode surrogate.
    ``reference`` has shape (n, n_points) (a scalar point field).
    Returns (k values, surrogate error, projection floor).
    """
    n = len(reference)
    z_true = pod.transform(reference.reshape(n, -1))
    ks = np.arange(1, pod.n_modes_ + 1)
    surrogate, floor = [], []
    for k in ks:
        modes = pod.modes_[:k]
        predicted = z_pred[:, :k] @ modes + pod.mean_
        projected = z_true[:, :k] @ modes + pod.mean_
        surrogate.append(relative_l2(predicted, reference, mass=mass).mean())
        floor.append(relative_l2(projected, reference, mass=mass).mean())
    return ks, np.array(surrogate), np.array(floor)


def plot_error_vs_modes(curves: dict[str, tuple[np.ndarray, ...]], path: str | Path) -> Path:
    """Test error (solid) and projection floor (dashed) against the modes kept."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for label, (ks, surrogate, floor) in curves.items():
        line = ax.semilogy(ks, surrogate, marker=".", label=f"{label}")[0]
        ax.semilogy(ks, floor, linestyle="--", color=line.get_color(), alpha=0.6)
    return _save_curves(
        fig,
        ax,
        path,
        "POD modes kept",
        "mean relative L2 error (test)",
        "error against modes (dashed: projection floor)",
    )


def _save_curves(fig: Any, ax: Any, path: str | Path, xlabel: str, ylabel: str, title: str) -> Path:
    """Label, grid and legend a curve plot, write it as PNG and close it."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    pyplot().close(fig)
    return Path(path)
