"""PNG plots of the applications: distributions, maps, indices, Pareto fronts, posteriors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from nirom.mesh import Mesh
from nirom.plotting import pyplot, triangulation


def can_map(mesh: Mesh | None) -> bool:
    """Whether field maps can be drawn on ``mesh`` (a 2-D triangle or quad mesh)."""
    if mesh is None:
        return False
    try:
        triangulation(mesh)
    except ValueError:
        return False
    return True


def plot_maps(
    mesh: Mesh,
    panels: Sequence[tuple[str, np.ndarray]],
    path: str | Path,
    title: str = "",
    *,
    colorbars: str | Sequence[str] = "",
) -> Path:
    """Scalar point fields on a 2-D mesh side by side, each with its colour bar (NaN blank).

    ``colorbars`` labels the colour bars: one label for all, or one per panel
    (what the colours are, with the unit, e.g. ``u [K]``).
    """
    bars = [colorbars] * len(panels) if isinstance(colorbars, str) else list(colorbars)
    if len(bars) != len(panels):
        raise ValueError(f"{len(bars)} colour-bar labels for {len(panels)} panels")
    plt = pyplot()
    tri = triangulation(mesh)
    cols = min(len(panels), 4)
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 3.1 * rows), squeeze=False)
    for ax in axes.ravel()[len(panels) :]:
        ax.axis("off")
    for ax, (label, values), bar in zip(axes.ravel(), panels, bars, strict=False):
        values = np.where(np.isfinite(values), values, 0.0)
        art = ax.tripcolor(tri, values, shading="flat", cmap="viridis", rasterized=True)
        ax.set_title(label, fontsize=9)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        cbar = fig.colorbar(art, ax=ax, shrink=0.8)
        if bar:
            cbar.set_label(bar, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def plot_distribution(
    values: np.ndarray,
    path: str | Path,
    label: str,
    with_error: np.ndarray | None = None,
) -> Path:
    """Histogram and kernel density of a quantity's samples (and of the predictive draws)."""
    from scipy.stats import gaussian_kde

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.4))
    series = [("surrogate mean", values)]
    if with_error is not None:
        series.append(("with surrogate error", with_error))
    for name, v in series:
        v = np.asarray(v, dtype=float).ravel()
        line = ax.hist(v, bins=40, density=True, alpha=0.35, label=f"{name} (histogram)")
        if np.ptp(v) > 0:
            grid = np.linspace(v.min(), v.max(), 200)
            color = line[2][0].get_facecolor()
            ax.plot(grid, gaussian_kde(v)(grid), color=color[:3], label=f"{name} (density)")
    ax.set_xlabel(label)
    ax.set_ylabel("probability density")
    ax.set_title(f"distribution of {label}", fontsize=9)
    ax.legend(fontsize=7)
    return _save(fig, path)


def plot_indices(
    indices: Mapping[str, Mapping[str, np.ndarray]], names: Sequence[str], path: str | Path
) -> Path:
    """First-order and total Sobol indices with confidence intervals, one panel per quantity."""
    plt = pyplot()
    n = len(indices)
    fig, axes = plt.subplots(1, n, figsize=(max(4.0, 0.5 * len(names) + 2.5) * n, 3.4))
    axes = np.atleast_1d(axes)
    pos = np.arange(len(names))
    for ax, (label, ind) in zip(axes, indices.items(), strict=True):
        ax.bar(pos - 0.2, ind["S1"], 0.4, yerr=ind["S1_conf"], label="first order", capsize=2)
        ax.bar(pos + 0.2, ind["ST"], 0.4, yerr=ind["ST_conf"], label="total", capsize=2)
        ax.set_xticks(pos, names, rotation=45 if len(names) > 6 else 0, fontsize=8)
        ax.set_ylim(0, 1.05)
        ax.set_title(label, fontsize=9)
        ax.grid(True, axis="y", alpha=0.3)
    axes[0].set_ylabel("Sobol index")
    axes[0].legend(fontsize=7)
    return _save(fig, path)


def plot_pareto(
    values: np.ndarray, front: np.ndarray, labels: Sequence[str], path: str | Path
) -> Path:
    """All trials and the Pareto front of the first two objectives."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.8))
    ax.scatter(values[:, 0], values[:, 1], s=8, alpha=0.35, label="trials")
    order = np.argsort(front[:, 0])
    ax.plot(front[order, 0], front[order, 1], "o-", color="C3", ms=4, label="Pareto front")
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_title("multi-objective optimization", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, path)


def plot_corner(
    samples: np.ndarray, names: Sequence[str], path: str | Path, truths: np.ndarray | None = None
) -> Path:
    """Corner plot of posterior samples (``corner`` package), 5/50/95 % quantiles marked."""
    import corner

    plt = pyplot()
    fig = corner.corner(
        samples,
        labels=list(names),
        quantiles=[0.05, 0.5, 0.95],
        show_titles=True,
        title_fmt=".3g",
        truths=truths,
        title_kwargs={"fontsize": 8},
        label_kwargs={"fontsize": 8},
    )
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return Path(path)


def plot_traces(chain: np.ndarray, names: Sequence[str], path: str | Path) -> Path:
    """Walker traces (steps, walkers, dim) per parameter: a look at mixing and burn-in."""
    plt = pyplot()
    dim = chain.shape[2]
    fig, axes = plt.subplots(dim, 1, figsize=(6, 1.4 * dim + 0.6), sharex=True, squeeze=False)
    for j, ax in enumerate(axes[:, 0]):
        ax.plot(chain[:, :, j], color="k", alpha=0.15, lw=0.5)
        ax.set_ylabel(names[j], fontsize=8)
    axes[-1, 0].set_xlabel("step")
    return _save(fig, path)


def plot_sensors(
    mesh: Mesh, sensors: Mapping[str, tuple[Sequence[float], float]], path: str | Path
) -> Path:
    """Where the observations are: sensors (name -> (coordinates, observed value)) on the mesh."""
    plt = pyplot()
    tri = triangulation(mesh)
    fig, ax = plt.subplots(figsize=(4.6, 4))
    ax.triplot(tri, color="0.85", lw=0.4)
    xy = np.array([c[:2] for c, _ in sensors.values()], dtype=float)
    values = np.array([v for _, v in sensors.values()], dtype=float)
    art = ax.scatter(xy[:, 0], xy[:, 1], c=values, s=36, edgecolors="k", zorder=3)
    for (name, _), (x, y) in zip(sensors.items(), xy, strict=True):
        ax.annotate(name, (x, y), xytext=(4, 4), textcoords="offset points", fontsize=7)
    fig.colorbar(art, ax=ax, shrink=0.8).set_label("observed value (mean)", fontsize=8)
    ax.set_aspect("equal")
    ax.set_title("observations used in the calibration", fontsize=9)
    return _save(fig, path)


def plot_calibration_curve(nominal: np.ndarray, observed: np.ndarray, path: str | Path) -> Path:
    """Observed coverage of predicted intervals against their nominal level."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4, 3.6))
    ax.plot([0, 1], [0, 1], "--", color="grey", label="calibrated")
    ax.plot(nominal, observed, "o-", label="observed")
    ax.set_xlabel("nominal coverage")
    ax.set_ylabel("observed coverage")
    ax.set_title("calibration of the error bars", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, path)


def _save(fig: object, path: str | Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    pyplot().close(fig)
    return Path(path)
