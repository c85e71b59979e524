"""Parallel generation: wall time of the same thermal-block study on 1 and 2 workers.

Run: ``python benchmarks/generation.py [--samples 32] [--resolution 318]``
(resolution 318 is 100,489 unknowns). Each run starts its own local Dask
cluster, so the times include cluster start-up and each worker's one-off
assembly, as a user's run would.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from rich.console import Console

from nirom import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=32)
    parser.add_argument("--resolution", type=int, default=318)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    quiet = Console(quiet=True)
    walls = {}
    with tempfile.TemporaryDirectory() as tmp:
        for workers in args.workers:
            report = generate(
                "thermal-block",
                Path(tmp) / f"w{workers}",
                args.samples,
                workers=workers,
                solver_options={"resolution": args.resolution},
                console=quiet,
            )
            assert report.solved == args.samples and report.failed == 0
            walls[workers] = report.wall_time_s
            print(
                f"{workers} worker(s): {args.samples} samples in {report.wall_time_s:.1f} s wall "
                f"(median solve {np.median(report.solve_times_s):.3f} s, "
                f"sum of solves {sum(report.solve_times_s):.1f} s)"
            )
    base = walls[min(walls)]
    for workers, wall in sorted(walls.items()):
        print(f"  speed-up with {workers} worker(s): {base / wall:.2f}x")


if __name__ == "__main__":
    main()
