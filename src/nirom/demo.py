"""The demo study: a thermal block from solver runs to evaluated surrogates.

A 2 x 2 thermal block (four log-uniform conductivities in [0.1, 10]; the
3 x 3 case with nine is the benchmark's, see benchmarks/) is sampled with a
scrambled Sobol design for training and an independent random design for
testing, solved with the built-in P1 finite-element solver through
:func:`nirom.generate` (in this process; ``nirom generate`` runs the same on
Dask workers; re-running resumes), stored, summarised and exported to VTU.
POD + GP and POD + RBF surrogates are fitted on the training set and
evaluated on the held-out test set with the same metrics, and the study
writes its comparison table and plots.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from nirom import mesh as mesh_io
from nirom.dataset import Dataset, export_sample
from nirom.evaluation.evaluate import evaluate
from nirom.generation import generate
from nirom.report.plots import (
    error_vs_modes,
    plot_error_vs_modes,
    plot_field_comparison,
    plot_singular_values,
)
from nirom.report.terminal import print_dataset_summary, print_model_comparison
from nirom.solvers import ThermalBlock
from nirom.surrogates import PODSurrogate

MODELS = {"pod-gp": "gp", "pod-rbf": "rbf"}


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
    solver = ThermalBlock(nx_blocks=2, ny_blocks=2, resolution=resolution)
    console.print(
        f"[bold]nirom demo[/]: thermal block 2 x 2, P1 on {solver.mesh.n_points} nodes, "
        f"k_i ~ LogUniform[0.1, 10]; {n_samples} training (Sobol) and {n_test} test (random) "
        "samples"
    )
    train = _generate(solver, out / "thermal-block.nirom", n_samples, "sobol", console)
    test = _generate(solver, out / "thermal-block-test.nirom", n_test, "random", console)
    print_dataset_summary(train.summary(), console)
    first = train.sample_ids()[0]
    vtu = export_sample(train, first, out / f"sample_{first:06d}.vtu")[0]
    _, point_data, _ = mesh_io.read(vtu)
    gap = float(np.abs(point_data["u"] - train.field("u", [first])[0]).max())
    console.print(
        f"Exported sample {first} to {vtu} (read back by meshio, max difference {gap:.1e})"
    )

    models, reports = {}, {}
    for label, regressor in MODELS.items():
        start = time.perf_counter()
        models[label] = PODSurrogate(regressor=regressor, energy=1e-4).fit(train)
        fit_s = time.perf_counter() - start
        reports[label] = evaluate(models[label], test)
        reports[label]["fit_s"] = fit_s
    print_model_comparison(reports, console)
    for path in _plots(models, test, out):
        console.print(f"Plot: {path}")
    return {"train": train, "test": test, "models": models, "reports": reports}


def _generate(solver: ThermalBlock, path: Path, n: int, design: str, console: Console) -> Dataset:
    seed = 0 if design == "sobol" else 1
    report = generate(solver, path, n, design=design, seed=seed, workers=0, console=console)
    console.print(
        f"{path.name}: solved {report.solved} sample(s), {report.skipped} already on disk "
        f"({report.wall_time_s:.1f} s)"
    )
    return report.dataset


def _plots(models: dict[str, PODSurrogate], test: Dataset, out: Path) -> list[Path]:
    ids = test.sample_ids()
    reference = test.field("u")
    x = test.parameters()
    mass = test.mesh.mass_matrix()
    worst = int(np.argmax(np.linalg.norm(models["pod-gp"].predict(x)["u"] - reference, axis=1)))
    mean, std = models["pod-gp"].predict(x[worst : worst + 1], return_std=True)
    paths = [
        plot_field_comparison(
            test.mesh,
            reference[worst],
            mean["u"][0],
            std["u"][0],
            out / "demo_fields.png",
            title=f"pod-gp on test sample {ids[worst]} (its worst)",
        ),
        plot_singular_values(
            {"u (training snapshots)": models["pod-gp"].pods_["u"].singular_values_},
            out / "demo_singular_values.png",
        ),
    ]
    curves = {
        label: error_vs_modes(model.pods_["u"], model.predict_coordinates("u", x), reference, mass)
        for label, model in models.items()
    }
    paths.append(plot_error_vs_modes(curves, out / "demo_error_vs_modes.png"))
    return paths
