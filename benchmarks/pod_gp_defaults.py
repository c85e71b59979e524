"""Default pod-gp fit time and test error, with and without GP warm starts.

3 x 3 thermal block at resolution 96 (9,409 nodes): ``--samples`` Sobol training samples
and 40 random test samples (generated into ``--workdir`` and reused), default
``PODSurrogate(regressor="gp")`` (energy 1e-6, 4 restarts) fitted with
``warm_start=True`` (the default) and ``False``; prints fit time, modes, mean relative L2
test error and 95 % coverage. Run with one BLAS thread::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/pod_gp_defaults.py --samples 400

Measured here (2 cores shared with other jobs): 100 samples 6.1 s warm / 24.2 s cold,
12.75 % / 12.79 %; 400 samples 97 s / 441 s, 5.13 % / 5.14 %.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _datasets import train_and_test

from nirom.evaluation import evaluate
from nirom.surrogates import PODSurrogate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--workdir", type=Path, default=Path("pod-gp-defaults-data"))
    args = parser.parse_args()
    train, test = train_and_test(
        args.workdir, f"train-{args.samples}.nirom", args.samples, 40, 96, workers=2
    )
    for warm in (True, False):
        start = time.perf_counter()
        model = PODSurrogate(regressor="gp", regressor_params={"warm_start": warm}).fit(train)
        seconds = time.perf_counter() - start
        u = evaluate(model, test)["fields"]["u"]
        print(
            f"warm_start={warm!s:<5} n={args.samples}: fit {seconds:6.1f} s, "
            f"{u['n_modes']} modes, mean relative L2 {100 * u['relative_l2']['mean']:.2f} %, "
            f"coverage {u['coverage']:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
