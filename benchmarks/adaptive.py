"""Adaptive sampling against space-filling sampling on the 3 x 3 thermal block.

Reference: POD-GP fitted on the first ``--reference`` (400) samples of a Sobol
design, its mean relative L2 test error E_ref on ``--test`` random samples.
Adaptive: start from the first ``--start`` (100) Sobol samples, then
``nirom.refinement.refine`` in batches of ``--batch`` (25) up to ``--budget``
(250) solver runs, printing the test error after each batch and the number
of runs at which it first reaches E_ref. Target: at most 250 runs.

Run::

    python benchmarks/adaptive.py [--resolution 96] [--workdir DIR]

The datasets in ``--workdir`` are reused (the reference) or rebuilt (the
adaptive copy, which refine extends).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from _datasets import train_and_test
from rich.console import Console

from nirom import Dataset, generate
from nirom.evaluation.evaluate import evaluate
from nirom.refinement import refine
from nirom.surrogates import PODSurrogate


def mean_error(model: PODSurrogate, test: Dataset) -> float:
    return evaluate(model, test, n_timing=2)["fields"]["u"]["relative_l2"]["mean"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resolution", type=int, default=96)
    parser.add_argument("--reference", type=int, default=400)
    parser.add_argument("--start", type=int, default=100)
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--budget", type=int, default=250)
    parser.add_argument("--test", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="nirom-adaptive-"))
    quiet = Console(quiet=True)
    options = {"resolution": args.resolution}

    def model() -> PODSurrogate:
        return PODSurrogate(
            regressor="gp", discarded_energy=1e-4, regressor_params={"n_restarts": 1}
        )

    sobol, test = train_and_test(
        workdir, "sobol.nirom", args.reference, args.test, args.resolution, args.workers
    )
    reference = mean_error(model().fit(sobol), test)
    print(f"space-filling (Sobol) with {args.reference} runs: mean relative L2 {reference:.2%}")
    start = mean_error(model().fit(sobol, sobol.sample_ids()[: args.start]), test)
    print(f"space-filling (Sobol) with {args.start} runs: mean relative L2 {start:.2%}")

    adaptive_path = workdir / "adaptive.nirom"
    shutil.rmtree(adaptive_path, ignore_errors=True)
    adaptive = generate(
        "thermal-block",
        adaptive_path,
        args.start,
        workers=args.workers,
        solver_options=options,
        console=quiet,
    ).dataset
    current = model().fit(adaptive)
    reached = None
    while len(adaptive) < args.budget:
        report = refine(adaptive, current, args.batch, workers=args.workers, console=quiet)
        current = report.model
        error = mean_error(current, test)
        runs = len(adaptive)
        print(f"adaptive with {runs} runs: mean relative L2 {error:.2%}", flush=True)
        if reached is None and error <= reference:
            reached = runs
    verdict = f"reached at {reached} runs" if reached else f"not reached within {args.budget}"
    print(
        f"target: adaptive reaches the {args.reference}-run Sobol error within "
        f"{args.budget} runs: {verdict}"
    )


if __name__ == "__main__":
    main()
