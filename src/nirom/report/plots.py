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


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _triangulation(mesh: Mesh) -> Any:
    import matplotlib.tri as mtri

    cell_type, conn = mesh.cells[0]
    if cell_type == "quad":  # split each quad into two triangles for plotting
        conn = np.vstack([conn[:, [0, 1, 2]], conn[:, [0, 2, 3]]])
    elif cell_type != "triangle" or mesh.dim != 2:
        raise ValueError("field plots need a 2-D triangle or quad mesh")
    return mtri.Triangulation(mesh.points[:, 0], mesh.points[:, 1], conn)


def plot_field_comparison(
    mesh: Mesh,
    reference: np.ndarray,
    prediction: np.ndarray,
    std: np.ndarray | None,
    path: str | Path,
    title: str = "",
) -> Path:
    """Reference, prediction, absolute error (and std) of one scalar point field."""
    plt = _pyplot()
    tri = _triangulation(mesh)
    panels = [("reference", reference, "inferno"), ("prediction", prediction, "inferno")]
    panels.append(("|error|", np.abs(prediction - reference), "viridis"))
    if std is not None:
        panels.append(("predicted std", std, "viridis"))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.4), squeeze=False)
    vmin, vmax = float(reference.min()), float(reference.max())
    for ax, (label, values, cmap) in zip(axes[0], panels, strict=True):
        same_scale = label in ("reference", "prediction")
        art = ax.tripcolor(
            tri,
            values,
            shading="gouraud",
            cmap=cmap,
            vmin=vmin if same_scale else None,
            vmax=vmax if same_scale else None,
        )
        ax.set_title(label, fontsize=9)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(art, ax=ax, shrink=0.8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_singular_values(singular_values: dict[str, np.ndarray], path: str | Path) -> Path:
    """Normalised singular values s_k / s_1 of each named POD, log scale."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for label, s in singular_values.items():
        s = np.asarray(s, dtype=float)
        ax.semilogy(np.arange(1, len(s) + 1), s / s[0], marker=".", label=label)
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
    plt = _pyplot()
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
    _pyplot().close(fig)
    return Path(path)
