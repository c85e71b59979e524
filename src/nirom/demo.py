"""The demo study: the smallest complete path through nirom that exists today.

A 3 x 3 thermal block is sampled with a scrambled Sobol design, solved with
the built-in P1 finite-element solver through :func:`nirom.generate` (in this
process; ``nirom generate`` runs the same on Dask workers), stored sample by
sample (re-running resumes, skipping done samples), summarised, read back lazily
through Dask, exported to VTU and plotted. Later stages (reduction,
surrogates, evaluation) extend it as they land.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rich.console import Console

from nirom import mesh as mesh_io
from nirom.dataset import Dataset, export_sample
from nirom.generation import generate
from nirom.report.terminal import print_dataset_summary
from nirom.solvers import ThermalBlock


def run_demo(
    out: Path, n_samples: int = 16, resolution: int = 48, console: Console | None = None
) -> Dataset:
    """Run the demo study into folder ``out`` and return its dataset."""
    console = console or Console()
    out = Path(out)
    solver = ThermalBlock(resolution=resolution)
    console.print(
        f"[bold]nirom demo[/]: thermal block 3 x 3, P1 on {solver.mesh.n_points} nodes, "
        f"{n_samples} Sobol samples of k_i ~ LogUniform[0.1, 10]"
    )
    path = out / "thermal-block.nirom"
    report = generate(solver, path, n_samples, design="sobol", seed=0, workers=0, console=console)
    ds = report.dataset
    console.print(
        f"Solved {report.solved} sample(s); {report.skipped} were already on disk "
        f"({report.wall_time_s:.1f} s)"
    )

    print_dataset_summary(ds.summary(), console)
    u = ds.to_dask("u")
    mean = u.mean(axis=0).compute()
    console.print(
        f"Mean temperature over {u.shape[0]} samples (lazy Dask read, one chunk per sample): "
        f"max {mean.max():.4g}, at x = {solver.mesh.points[mean.argmax()].round(3).tolist()}"
    )
    first = ds.sample_ids()[0]
    vtu = export_sample(ds, first, out / f"sample_{first:06d}.vtu")[0]
    _, point_data, _ = mesh_io.read(vtu)
    gap = float(np.abs(point_data["u"] - ds.field("u", [first])[0]).max())
    console.print(
        f"Exported sample {first} to {vtu} (read back by meshio, max difference {gap:.1e})"
    )
    png = _plot(ds, first, out / "demo_fields.png")
    console.print(f"Plotted the first samples' temperature fields to {png}")
    return ds


def _plot(ds: Dataset, first: int, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.tri as mtri

    mesh = ds.mesh
    tri = mtri.Triangulation(mesh.points[:, 0], mesh.points[:, 1], mesh.cells[0][1])
    ids = ds.sample_ids()[:3]
    fig, axes = plt.subplots(1, len(ids), figsize=(4.2 * len(ids), 3.6), squeeze=False)
    for ax, i in zip(axes[0], ids, strict=True):
        sample = ds.sample(i)
        art = ax.tripcolor(tri, sample.fields["u"], shading="gouraud", cmap="inferno")
        ks = ", ".join(f"{sample.mu[n]:.2g}" for n in ds.space.scalar_names)
        ax.set_title(f"sample {i}: u\nk = [{ks}]", fontsize=8)
        ax.set_aspect("equal")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        fig.colorbar(art, ax=ax, shrink=0.8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
