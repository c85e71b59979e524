"""Accuracy of the uses of a surrogate (issue 13), printing each figure beside its target.

- ``sensitivity``: Sobol indices of the Ishigami function (a = 7, b = 0.1,
  inputs uniform on [-pi, pi]^3) against the analytic values, with
  N = 2048 base samples, i.e. 2048 x 5 = 10,240 evaluations (target: every
  index within 0.02 with at most 2^14 = 16,384 evaluations), for 5 seeds.
- ``uq``: the 3 x 3 thermal block at resolution 48 (2,401 nodes),
  conductivities log-uniform on [0.1, 10] (the space's own distribution):
  mean and standard-deviation fields of a pod-gp surrogate (``--train``
  Sobol samples, default 512, energy 1e-4) from 2^14 QMC samples, against a 1,000-run plain
  Monte Carlo of the solver (target: both within 2 % relative L2, FE norm).
  Also printed, to separate the two errors: the surrogate on the solver's own
  1,000 inputs (its error alone, without sampling noise), the surrogate's QMC
  statistics against its own on those 1,000 inputs (the sampling noise,
  measured on the surrogate), the reference's sampling noise (bootstrap rms
  of its fields' relative L2 deviation, 200 resamples, and its 95 % range),
  and the solver runs a reference would need for 1 % and 0.5 % noise.
- ``calibration``: coverage of the 90 % credible intervals over repeated
  synthetic experiments on the 2 x 2 thermal block (resolution 12, pod-gp on
  ``--cal-train`` Sobol samples, default 64): truths drawn from the prior,
  the solver's temperatures at 5 points plus Gaussian noise, emcee
  posterior; the share of true
  parameters inside their interval (target: 85-95 %). The likelihood uses the
  surrogate's covariance at the sensors (``--independent``: its standard
  deviations only, as before issue 22); the effective number of independent
  observations is printed per experiment.

Run (datasets and models in ``--workdir`` are reused)::

    python benchmarks/apps.py all --workdir /tmp/apps-bench
    python benchmarks/apps.py calibration --experiments 20
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console

from nirom import Dataset, generate
from nirom.apps.calibration import calibrate, synthetic_observations
from nirom.apps.distributions import Distribution, input_distributions, sample_inputs
from nirom.apps.quantities import parse_quantities
from nirom.apps.sensitivity import sobol_function
from nirom.apps.uq import propagate
from nirom.evaluation.metrics import relative_l2
from nirom.solvers import ThermalBlock
from nirom.surrogates import PODSurrogate, Surrogate

QUIET = Console(quiet=True)


def sensitivity(args: argparse.Namespace) -> None:
    a, b = 7.0, 0.1
    v1 = 0.5 * (1 + b * np.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * np.pi**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    s1, st = np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v
    dists = {
        f"x{i}": Distribution("uniform", {"low": -np.pi, "high": np.pi}, -np.pi, np.pi)
        for i in range(3)
    }

    def ishigami(x: np.ndarray) -> dict[str, np.ndarray]:
        return {
            "y": np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])
        }

    n_base = 2048
    print(f"Ishigami, N = {n_base}: {n_base * 5} evaluations (budget 2^14 = 16384)")
    print(f"  analytic S1 {np.round(s1, 4)}  ST {np.round(st, 4)}")
    worst = 0.0
    for seed in range(5):
        r = sobol_function(ishigami, dists, n_base=n_base, seed=seed)["y"]
        err = max(np.abs(r["S1"] - s1).max(), np.abs(r["ST"] - st).max())
        worst = max(worst, err)
        print(
            f"  seed {seed}: S1 {np.round(r['S1'], 4)}  ST {np.round(r['ST'], 4)}  "
            f"max |error| {err:.4f}  (95% CI half-width up to {r['ST_conf'].max():.3f})"
        )
    print(f"  largest error over seeds: {worst:.4f}  (target <= 0.02)")


def _thermal_block_model(workdir: Path, n_train: int) -> Surrogate:
    path = workdir / f"tb-gp-{n_train}.model"
    if not (path / "model.json").is_file():
        train = generate(
            "thermal-block",
            workdir / "train.nirom",
            n_train,
            workers=2,
            solver_options={"resolution": 48},
            console=QUIET,
        ).dataset
        model = PODSurrogate(regressor="gp", energy=1e-4, regressor_params={"n_restarts": 0})
        start = time.perf_counter()
        model.fit(Dataset(train.path), ids=list(range(n_train))).save(path)
        print(f"fitted pod-gp on {n_train} samples in {time.perf_counter() - start:.0f} s")
    return Surrogate.load(path)


def uq(args: argparse.Namespace) -> None:
    model = _thermal_block_model(args.workdir, args.train)
    start = time.perf_counter()
    mc = generate(
        "thermal-block",
        args.workdir / "mc.nirom",
        args.mc_runs,
        design="random",
        seed=2,
        workers=2,
        solver_options={"resolution": 48},
        console=QUIET,
    ).dataset
    print(f"solver Monte Carlo: {len(mc)} runs ({time.perf_counter() - start:.0f} s incl. reuse)")
    u = mc.field("u")
    ref_mean, ref_std = u.mean(axis=0), u.std(axis=0, ddof=1)
    mass = ThermalBlock(resolution=48).mass_matrix()

    def err(field: np.ndarray, ref: np.ndarray) -> float:
        return float(relative_l2(field[None], ref[None], mass=mass)[0])

    start = time.perf_counter()
    result = propagate(model, n_samples=args.uq_samples, seed=0)
    seconds = time.perf_counter() - start
    f = result.fields["u"]
    print(
        f"surrogate, {args.uq_samples} QMC samples ({seconds:.1f} s): mean field "
        f"{err(f['mean'], ref_mean):.2%}, std field {err(f['std'], ref_std):.2%}, "
        f"std with surrogate error {err(f['std_total'], ref_std):.2%}  (target <= 2 % each)"
    )
    same = model.predict(mc.parameters())["u"]
    print(
        f"surrogate on the solver's {len(mc)} inputs: mean field "
        f"{err(same.mean(axis=0), ref_mean):.2%}, std field "
        f"{err(same.std(axis=0, ddof=1), ref_std):.2%}  (surrogate error alone)"
    )
    print(
        f"surrogate on {args.uq_samples} QMC inputs against itself on the solver's {len(mc)} "
        f"inputs: mean field {err(f['mean'], same.mean(axis=0)):.2%}, std field "
        f"{err(f['std'], same.std(axis=0, ddof=1)):.2%}  (the {len(mc)}-run sampling noise, "
        "measured on the surrogate)"
    )
    rng = np.random.default_rng(0)
    noise_mean, noise_std = [], []
    for _ in range(200):
        boot = u[rng.integers(len(u), size=len(u))]
        noise_mean.append(err(boot.mean(axis=0), ref_mean))
        noise_std.append(err(boot.std(axis=0, ddof=1), ref_std))
    rms_mean = float(np.sqrt(np.mean(np.square(noise_mean))))
    rms_std = float(np.sqrt(np.mean(np.square(noise_std))))
    lo, hi = np.quantile(noise_std, [0.025, 0.975])
    print(
        f"sampling noise of the {len(mc)}-run reference (bootstrap rms, 200 resamples): mean "
        f"field {rms_mean:.2%}, std field {rms_std:.2%} (95 % of resamples {lo:.2%}-{hi:.2%})"
    )
    surrogate_alone = err(same.std(axis=0, ddof=1), ref_std)
    expected = np.hypot(surrogate_alone, rms_std)
    print(
        f"std field: surrogate error alone {surrogate_alone:.2%} (target 2 %), reference noise "
        f"{rms_std:.2%}; together sqrt({surrogate_alone:.2%}^2 + {rms_std:.2%}^2) = "
        f"{expected:.2%} expected against the {err(f['std'], ref_std):.2%} measured"
    )
    for target in (0.01, 0.005):
        runs = int(np.ceil(len(mc) * (rms_std / target) ** 2))
        print(
            f"  a reference whose std-field noise is {target:.1%} needs about {runs:,} solver runs "
            f"(noise ~ 1/sqrt(runs)); its mean field {len(mc) * (rms_mean / target) ** 2:,.0f}"
        )
    print(f"surrogate error share of the variance: {f['error_share_overall']:.2%}")


def calibration(args: argparse.Namespace) -> None:
    options = {"nx_blocks": 2, "ny_blocks": 2, "resolution": 12}
    suffix = "" if args.cal_train == 64 else f"-{args.cal_train}"
    path = args.workdir / f"small-gp{suffix}.model"
    if not (path / "model.json").is_file():
        train = generate(
            "thermal-block",
            args.workdir / f"small{suffix}.nirom",
            args.cal_train,
            workers=0,
            solver_options=options,
            console=QUIET,
        ).dataset
        PODSurrogate(regressor="gp", energy=1e-6).fit(train).save(path)
    model = Surrogate.load(path)
    solver = ThermalBlock(**options)
    sensors = parse_quantities(
        [f"at(u, {x}, {y})" for x in (0.25, 0.75) for y in (0.25, 0.75)] + ["at(u, 0.5, 0.5)"],
        model.fields_,
        model.mesh_,
    )
    truths = sample_inputs(input_distributions(model.space_), args.experiments, "mc", seed=11)
    inside, total, n_eff = 0, 0, []
    start = time.perf_counter()
    factors = model.regressors_["u"].std_scale_
    print(
        f"pod-gp on {args.cal_train} samples, std_scale {factors.min():.2f}-"
        f"{factors.max():.2f} ({model.regressors_['u'].std_calibration()}); likelihood: "
        "surrogate covariance "
        f"{'full' if args.correlated else 'diagonal'}"
    )
    for i, row in enumerate(truths):
        mu = model.space_.as_dict(row)
        obs = synthetic_observations(solver.solve(mu), sensors, args.noise, seed=100 + i)
        result = calibrate(model, obs, n_steps=args.steps, seed=i, correlated=args.correlated)
        intervals = result.interval(0.9)
        hits = [intervals[n][0] <= mu[n] <= intervals[n][1] for n in model.space_.scalar_names]
        inside += sum(hits)
        total += len(hits)
        n_eff.append(result.effective_observations)
        print(
            f"  experiment {i:2d}: {sum(hits)}/{len(hits)} inside, acceptance "
            f"{result.acceptance:.2f}, chain {result.summary()['chain_over_autocorr']:.0f} tau, "
            f"{result.effective_observations:.2f} effective observations of {len(sensors)}",
            flush=True,
        )
    print(
        f"90% credible intervals: {inside}/{total} = {inside / total:.1%} contain the truth "
        f"({args.experiments} experiments, noise std {args.noise}, {args.steps} steps, "
        f"{time.perf_counter() - start:.0f} s)  (target: close to 90 %; "
        f"binomial 2-sigma band +- {2 * np.sqrt(0.09 / total):.1%}; target 85-95 %); "
        f"effective observations {np.median(n_eff):.2f} (median of {len(n_eff)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("which", choices=["sensitivity", "uq", "calibration", "all"])
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--mc-runs", type=int, default=1000)
    parser.add_argument("--train", type=int, default=512, help="pod-gp training samples (uq)")
    parser.add_argument("--uq-samples", type=int, default=2**14)
    parser.add_argument(
        "--cal-train", type=int, default=64, help="pod-gp training samples (calibration)"
    )
    parser.add_argument("--experiments", type=int, default=40)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--noise", type=float, default=1e-3)
    parser.add_argument(
        "--independent",
        dest="correlated",
        action="store_false",
        help="calibration: the surrogate's errors at the sensors as independent (the old way)",
    )
    args = parser.parse_args()
    args.workdir = args.workdir or Path(tempfile.mkdtemp(prefix="nirom-apps-bench-"))
    args.workdir.mkdir(parents=True, exist_ok=True)
    for name, run in (("sensitivity", sensitivity), ("uq", uq), ("calibration", calibration)):
        if args.which in (name, "all"):
            print(f"== {name}", flush=True)
            run(args)


if __name__ == "__main__":
    main()
