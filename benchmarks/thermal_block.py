"""Surrogate accuracy, calibration and speed on the 3 x 3 thermal block.

The issue's study: thermal block 3 x 3 at about 100k unknowns
(``--resolution 318``: 100,489), conductivities log-uniform in [0.1, 10],
100 held-out test samples (random design, seed 1), surrogates fitted on the
first 100, 200, 400 and 800 samples of a Sobol design. For each model and
size it prints the mean and max relative L2 error (FE norm), coverage of the
95 % intervals, fit time and the median latency of one full-field
prediction, beside the targets:

- best mean relative L2 error <= 5 % at 400 samples and <= 3 % at 800;
- 95 % intervals covering between 85 % and 98 % of test values;
- one full-field prediction in <= 1 ms median (>= 800x faster than a solve).

Run (the datasets in ``--workdir`` are reused and resumed)::

    python benchmarks/thermal_block.py --workdir /tmp/tb-bench
    python benchmarks/thermal_block.py --resolution 96 --sizes 50 100 --test 50  # quick

The full run is long on 2 cores: generating 900 samples at 100k unknowns
takes several minutes, and per-mode GP fits grow as n^3 in the training size.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from _datasets import train_and_test

from nirom.evaluation.validation import learning_curve
from nirom.surrogates import PODSurrogate

MODELS = {"pod-rbf": "rbf", "pod-mlp": "mlp", "pod-gp": "gp"}  # fastest first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resolution", type=int, default=318)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 200, 400, 800])
    parser.add_argument("--test", type=int, default=100)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--energy", type=float, default=1e-4)
    parser.add_argument("--restarts", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="nirom-tb-bench-"))
    train, test = train_and_test(
        workdir, "train.nirom", max(args.sizes), args.test, args.resolution, args.workers
    )
    n_dof = test.mesh.n_points
    print(f"thermal block 3x3, {n_dof} nodes; {len(train)} training, {len(test)} test samples")
    results = {}
    for label in args.models:
        params = {"n_restarts": args.restarts} if label == "pod-gp" else {}

        model = PODSurrogate(
            regressor=MODELS[label], discarded_energy=args.energy, regressor_params=params
        )

        results[label] = []
        for size in args.sizes:  # one size at a time, printed as soon as it is measured
            row = learning_curve(model, train, test, [size])[0]
            results[label].append(row)
            u, t = row["fields"]["u"], row["timing"]
            cover = "-" if u.get("coverage") is None else f"{u['coverage']:.1%}"
            print(
                f"{label:8s} n={row['n_train']:4d}  L2 mean {u['relative_l2']['mean']:.2%}  "
                f"max {u['relative_l2']['max']:.2%}  floor {u['projection_floor']['mean']:.2%}  "
                f"modes {u['n_modes']:3d}  cover {cover:>6s}  fit {row['fit_s']:7.1f} s  "
                f"predict {1e3 * t['predict_s']:.3f} ms  speed-up {t.get('speedup', 0):.0f}x",
                flush=True,
            )
    print(
        "targets: best L2 mean <= 5% at 400, <= 3% at 800; coverage 85-98%; "
        "predict <= 1 ms, speed-up >= 800x"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
