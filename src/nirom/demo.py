"""The demo study: a thermal block from solver runs to evaluated surrogates.

A 2 x 2 thermal block (four log-uniform conductivities in [0.1, 10]; the
3 x 3 case with nine is the benchmark's, see benchmarks/) is sampled with a
scrambled Sobol design for training and an independent random design for
testing, solved with the built-in P1 finite-element solver (in this process;
``nirom generate`` runs the same on Dask workers; re-running resumes).
POD + GP and POD + RBF surrogates are fitted on the training set and
evaluated on the held-out set with the same metrics: the demo is the study
of :mod:`nirom.study` declared in code, plus a VTU export of one sample.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from nirom import mesh as mesh_io
from nirom.dataset import export_sample
from nirom.study import check_study, run_study


def demo_study(out: Path, n_samples: int, n_test: int, resolution: int) -> dict[str, Any]:
    """The demo as a study configuration (what a study TOML file would hold)."""
    config = {
        "_base": str(Path(out)),
        "out": ".",
        "solver": {
            "name": "thermal-block",
            "options": {"nx_blocks": 2, "ny_blocks": 2, "resolution": resolution},
        },
        "train": {"samples": n_samples, "design": "sobol", "seed": 0},
        "test": {"samples": n_test, "design": "random", "seed": 1},
        "generation": {"workers": 0},
        "surrogates": [
            {"model": "pod-gp", "discarded_energy": 1e-4},
            {"model": "pod-rbf", "discarded_energy": 1e-4},
        ],
    }
    check_study(config, "demo")
    return config


def run_demo(
    out: Path,
    n_samples: int = 64,
    n_test: int = 24,
    resolution: int = 48,
    console: Console | None = None,
) -> dict[str, Any]:
    """Run the demo study into folder ``out``; return its datasets, models and reports."""
    console = console or Console()
    out = Path(out)
    console.print(
        f"[bold]nirom demo[/]: thermal block 2 x 2, P1 on a {resolution} x {resolution} grid, "
        f"k_i ~ LogUniform[0.1, 10]; {n_samples} training (Sobol) and {n_test} test (random) "
        "samples"
    )
    result = run_study(demo_study(out, n_samples, n_test, resolution), console=console)
    train = result["train"]
    first = train.sample_ids()[0]
    vtu = export_sample(train, first, out / f"sample_{first:06d}.vtu")[0]
    _, point_data, _ = mesh_io.read(vtu)
    gap = float(np.abs(point_data["u"] - train.field("u", [first])[0]).max())
    console.print(
        f"Exported sample {first} to {vtu} (read back by meshio, max difference {gap:.1e}); "
        f"`nirom info {train.path}` describes the dataset"
    )
    return result
