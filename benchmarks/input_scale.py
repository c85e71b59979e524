"""Input scale: default PODSurrogate fits with ``input_scale="declared"`` and ``"auto"``.

For each case prints, per regressor (gp, rbf) and setting, the fit time (wall
clock and CPU time of this process: with one BLAS thread the CPU time does not
grow when other jobs share the cores), the scales auto chose (the parameters
moved off their declared scale) and the mean relative L2 test error
(mass-matrix norm) of each field. Cases (``--samples``
Sobol training samples, 40 random test samples, generated into ``--workdir``
and reused):

- ``thermal-block``: 3 x 3 blocks at ``--resolution``, conductivities declared
  log-uniform on [0.1, 10] (the default: auto should keep log);
- ``thermal-block-uniform``: the same conductivities declared uniform
  (``k_distribution="uniform"``): the declared scale is linear, where the
  temperature depends on them closer to logarithmically;
- ``elasticity``: the L bracket (refine 3), E log-uniform, nu, load and angle
  uniform (load and nu positive: auto may choose; angle starts at 0: linear).

Run with one BLAS thread::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/input_scale.py --samples 100

Measured here (2 cores shared with other jobs, load average 3 to 5; fit s wall / CPU)::

    case                   model   input_scale   fit s   cpu s  moved to   error
    thermal-block          pod-gp  declared        8.8     8.7  -          u 12.75 %
    thermal-block          pod-gp  auto           11.8     8.9  -          u 12.75 %
    thermal-block          pod-rbf declared        0.6     0.3  -          u 13.17 %
    thermal-block          pod-rbf auto            0.6     0.2  -          u 13.17 %
    thermal-block-uniform  pod-gp  declared       13.9    12.0  -          u 29.20 %
    thermal-block-uniform  pod-gp  auto           14.0     9.3  k_0..k_8   u 5.52 %
    thermal-block-uniform  pod-rbf declared        0.5     0.4  -          u 25.51 %
    thermal-block-uniform  pod-rbf auto            0.6     0.4  7 of 9     u 12.35 %
    elasticity             pod-gp  declared        6.3     3.3  -          displacement 1.89 %,
                                                                           von_mises 4.55 %
    elasticity             pod-gp  auto            5.0     2.7  -          the same
    elasticity             pod-rbf declared        0.5     0.4  -          25.57 %, 38.10 %
    elasticity             pod-rbf auto            0.5     0.3  E:linear,  24.31 %, 35.15 %
                                                                load:log

and at ``--samples 400``: thermal-block-uniform pod-gp 21.73 % declared (129 s CPU),
2.20 % auto (113 s); pod-rbf 16.70 % and 7.42 %; thermal-block pod-gp 5.13 % both
(84.5 s and 75.7 s CPU: the difference is noise), pod-rbf 7.21 % both. The choice itself
(timed alone) takes 0.45 s of CPU time at 100 samples and 0.8 s at 400 on the thermal
block (0.8 to 1.2 s declared uniform), 0.02 s with rbf.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from nirom import Dataset, generate
from nirom.evaluation import evaluate
from nirom.surrogates import PODSurrogate

N_TEST = 40


def cases(resolution: int) -> dict[str, tuple[str, dict[str, Any]]]:
    """Case name -> (solver, solver options)."""
    block = {"resolution": resolution}
    return {
        "thermal-block": ("thermal-block", block),
        "thermal-block-uniform": ("thermal-block", {**block, "k_distribution": "uniform"}),
        "elasticity": ("elasticity", {"refine": 3}),
    }


def datasets(
    workdir: Path, case: str, solver: str, options: dict[str, Any], n_train: int
) -> tuple[Dataset, Dataset]:
    """Training (Sobol, seed 0) and test (random, seed 1) sets of ``case``, reused."""
    quiet = Console(quiet=True)
    common = {"workers": 0, "solver_options": options, "console": quiet}
    train = generate(solver, workdir / f"{case}-train-{n_train}.nirom", n_train, **common)
    test = generate(
        solver, workdir / f"{case}-test.nirom", N_TEST, design="random", seed=1, **common
    )
    return train.dataset, test.dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--resolution", type=int, default=96)
    parser.add_argument("--workdir", type=Path, default=Path("input-scale-data"))
    parser.add_argument("--cases", nargs="*", default=None, help="default: all")
    parser.add_argument("--regressors", nargs="*", default=["gp", "rbf"])
    args = parser.parse_args()
    chosen = cases(args.resolution)
    head = f"{'case':<22} {'model':<7} {'input_scale':<11} {'fit s':>7} {'cpu s':>7}"
    print(f"{head}  moved to   error (mean relative L2)")
    for case in args.cases or list(chosen):
        solver, options = chosen[case]
        train, test = datasets(args.workdir, case, solver, options, args.samples)
        for regressor in args.regressors:
            for setting in ("declared", "auto"):
                start, cpu = time.perf_counter(), time.process_time()
                model = PODSurrogate(regressor=regressor, input_scale=setting).fit(train)
                seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
                fields = evaluate(model, test)["fields"]
                errors = ", ".join(
                    f"{name} {100 * f['relative_l2']['mean']:.2f} %" for name, f in fields.items()
                )
                moved = ",".join(f"{n}:{s}" for n, s in model.changed_scales().items()) or "-"
                label = f"{case:<22} pod-{regressor:<3} {setting:<11}"
                print(f"{label} {seconds:7.1f} {cpu:7.1f}  {moved}  {errors}", flush=True)


if __name__ == "__main__":
    main()
