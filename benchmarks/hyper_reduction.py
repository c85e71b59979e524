"""Hyper-reduced model (hrom) of plate-hole: accuracy, speed-up, cubature, offline time.

Generates a training set (Sobol, ``--train`` samples) and a test set (random,
``--test`` samples) of ``plate-hole`` (P2, elastoviscoplastic Norton +
Armstrong-Frederick, parameters load, R0, C; ``--cycles`` cycles of
``--steps`` steps), fits ``hrom`` on the training set and prints:

- reproduction (training sample 0 with its own load): relative L2 errors of u and p;
- parametric (the test set): mean / max relative L2 error over space and time
  of u (finite-element L2 norm) and p at the quadrature points (Euclidean);
- the online speed-up against the high-fidelity solves of the same histories,
  timed in this run (reduced solve alone, and with every field rebuilt);
- cubature points, reduced points, the reduced-force integration error;
- the indicator's correlation with the true error on the test set;
- the offline time with 0 (in process), 1 and 2 Dask workers;
- pod-gp fitted on the same training set, on the same test set;
- time extrapolation: trained on ``--cycles`` cycles, predicting
  ``--extrapolate`` cycles at nominal parameters, error and indicator per cycle.

Run: ``python benchmarks/hyper_reduction.py [--resolution 20] [--train 10] [--test 12]
[--cycles 2] [--steps 20] [--extrapolate 10] [--workers 2] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console

from nirom.dataset import Dataset
from nirom.evaluation.metrics import relative_l2
from nirom.generation import generate
from nirom.hyperreduction.adaptive import adaptive_simulate
from nirom.hyperreduction.indicator import correlation
from nirom.hyperreduction.snapshots import mechanics_case
from nirom.solvers import make_solver
from nirom.surrogates.hrom import HROMSurrogate
from nirom.surrogates.pod import PODSurrogate


def _datasets(args: argparse.Namespace, root: Path) -> tuple[Dataset, Dataset]:
    options = {
        "resolution": args.resolution,
        "cycles": args.cycles,
        "steps_per_cycle": args.steps,
    }
    quiet = Console(quiet=True)
    out = []
    for name, n, design, seed in (
        ("train", args.train, "sobol", 0),
        ("test", args.test, "random", 1),
    ):
        path = root / f"{name}.nirom"
        if path.exists():
            out.append(Dataset(path))
            continue
        start = time.perf_counter()
        report = generate(
            "plate-hole",
            path,
            n,
            design=design,
            seed=seed,
            workers=args.workers,
            solver_options=options,
            console=quiet,
        )
        print(f"generated {name}: {n} samples in {time.perf_counter() - start:.1f} s")
        out.append(report.dataset)
    return out[0], out[1]


def _errors(pred: dict, ds: Dataset, ids: list[int], mass) -> tuple[np.ndarray, np.ndarray]:
    u_ref, p_ref = ds.field("u", ids), ds.field("p_qp", ids)
    e_u = relative_l2(pred["u"], u_ref, mass=mass, time_series=True)
    e_p = relative_l2(pred["p_qp"].reshape(len(ids), -1), p_ref.reshape(len(ids), -1))
    return e_u, e_p


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=20)
    parser.add_argument("--train", type=int, default=10)
    parser.add_argument("--test", type=int, default=12)
    parser.add_argument("--cycles", type=int, default=2)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--extrapolate", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tolerance", type=float, default=1e-7)
    parser.add_argument("--ecm-tolerance", type=float, default=1e-6)
    parser.add_argument("--dual-tolerance", type=float, default=1e-4)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask offline timings")
    parser.add_argument("--no-pod-gp", action="store_true", help="skip the pod-gp comparison")
    parser.add_argument(
        "--adaptive", type=float, default=None, help="indicator tolerance of the adaptive mode"
    )
    parser.add_argument(
        "--outside", type=float, nargs="*", default=[], help="loads (MPa) past the training range"
    )
    args = parser.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="hrom-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    train, test = _datasets(args, root)
    case = mechanics_case(train)
    space = case.fe_space
    print(
        f"plate-hole P2, resolution {args.resolution}: {space.n_dofs} unknowns, "
        f"{space.n_qp} integration points, {len(case.times)} output times "
        f"({args.cycles} cycles x {args.steps} steps); train {len(train)}, test {len(test)}"
    )
    hyper = {
        "tolerance": args.tolerance,
        "ecm_tolerance": args.ecm_tolerance,
        "dual_tolerance": args.dual_tolerance,
    }
    start = time.perf_counter()
    model = HROMSurrogate(**hyper).fit(train, case=case)
    fit_s = time.perf_counter() - start
    rom = model.model
    print(f"fit (in process): {fit_s:.1f} s; {rom.summary()}")
    print(
        f"cubature points: {rom.n_cubature_points} of {space.n_qp}; reduced points "
        f"{len(rom.points)}; reduced-force integration error (training sample 0): "
        f"{rom.info['force_error']:.2e}"
    )
    mass = train.mesh.mass_matrix()

    # -- reproduction ---------------------------------------------------------------
    ids0 = train.sample_ids()[:1]
    pred = model.predict(train.parameters(ids0))
    e_u, e_p = _errors(pred, train, ids0, mass)
    print(
        f"reproduction (training sample 0): u {e_u[0]:.2e} (target 1e-4), p {e_p[0]:.2e} "
        "(target 1e-3)"
    )

    # -- parametric -------------------------------------------------------------------
    ids = test.sample_ids()
    x = test.parameters(ids)
    solve_s, full_s, preds = [], [], []
    for row in x:
        mu = dict(zip(test.space.scalar_names, row, strict=True))
        t0 = time.perf_counter()
        rom.solve(mu)
        t1 = time.perf_counter()
        preds.append(model.predict(mu))
        t2 = time.perf_counter()
        solve_s.append(t1 - t0)
        full_s.append(t2 - t1)
    pred = {k: np.stack([p[k] for p in preds]) for k in preds[0]}
    e_u, e_p = _errors(pred, test, ids, mass)
    print(
        f"parametric ({len(ids)} test samples): u mean {e_u.mean():.2e} max {e_u.max():.2e} "
        f"(target 1e-3); p mean {e_p.mean():.2e} max {e_p.max():.2e} (target 1e-2)"
    )
    hf = test.solve_times(ids)
    mu0 = dict(zip(test.space.scalar_names, x[0], strict=True))
    start = time.perf_counter()
    case.solver(case.values(mu0)).run(case.times)
    hf_now = time.perf_counter() - start
    start = time.perf_counter()
    rom.solve(mu0)
    rom_now = time.perf_counter() - start
    print(
        f"speed-up, test sample 0 timed here: HF {hf_now:.2f} s, reduced solve "
        f"{rom_now * 1e3:.1f} ms -> {hf_now / rom_now:.0f}x (target 200x)"
    )
    print(
        f"speed-up over the test set (HF median {np.median(hf):.2f} s as recorded at "
        f"generation): reduced solve {np.median(solve_s) * 1e3:.1f} ms -> "
        f"{np.median(hf) / np.median(solve_s):.0f}x; with every field rebuilt "
        f"{np.median(full_s) * 1e3:.1f} ms -> {np.median(hf) / np.median(full_s):.0f}x"
    )
    indicator = pred["indicator"].max(axis=1)
    per_step_err = np.linalg.norm(
        (pred["u"] - test.field("u", ids)).reshape(len(ids), len(case.times), -1), axis=2
    ) / np.maximum(
        np.linalg.norm(test.field("u", ids).reshape(len(ids), len(case.times), -1), axis=2), 1e-300
    )
    c_sample = correlation(indicator, e_p)
    c_step = correlation(pred["indicator"], per_step_err)
    print(
        f"indicator vs error: per test sample (max indicator vs p error) Pearson(log) "
        f"{c_sample['pearson_log']:.2f}, Spearman {c_sample['spearman']:.2f}; per time step "
        f"(indicator vs u error) Pearson(log) {c_step['pearson_log']:.2f}, Spearman "
        f"{c_step['spearman']:.2f}"
    )

    if args.outside:
        _outside(args.outside, case, rom, indicator, e_p, args.adaptive)

    # -- offline time with Dask workers ---------------------------------------------------
    for workers in () if args.no_dask else (1, 2):
        timed = HROMSurrogate(**hyper, workers=workers).fit(train, case=case).model.info
        s = timed["seconds"]
        print(
            f"offline with {workers} Dask worker(s): {s['total']:.1f} s "
            f"(cluster start {s['cluster_start']:.1f} s, POD {s['pod']:.1f} s, "
            f"per-sample tasks {s['samples']:.1f} s)"
        )
    s = rom.info["seconds"]
    print(
        f"offline in process: {s['total']:.1f} s (POD {s['pod']:.1f} s, "
        f"per-sample {s['samples']:.1f} s)"
    )

    # -- pod-gp on the same data -------------------------------------------------------------
    if not args.no_pod_gp:
        _pod_gp(train, test, ids, x, mass)

    # -- extrapolation in time -----------------------------------------------------------------
    if args.extrapolate > args.cycles:
        _extrapolation(args, rom)
    print(f"data in {root}")


def _outside(
    loads: list[float], case, rom, indicator: np.ndarray, e_p: np.ndarray, adaptive: float | None
) -> None:
    """Nominal material, loads past the training bounds: error and indicator (and the
    adaptive mode's, with ``adaptive`` as its tolerance)."""
    ind, err = list(indicator), list(e_p)
    for load in loads:
        mu = case.values({"load": load})
        hf = case.solver(mu).run(case.times)
        out = rom.simulate(mu, history=rom.history({"load": load}))
        e_u = np.linalg.norm(out["u"].reshape(len(case.times), -1) - hf.u) / np.linalg.norm(hf.u)
        e = np.linalg.norm(out["p_qp"] - hf.p) / np.linalg.norm(hf.p)
        ind.append(out["indicator"].max())
        err.append(e)
        print(
            f"load {load:g} MPa (outside the training bounds): u {e_u:.2e}, p {e:.2e}, "
            f"indicator max {out['indicator'].max():.2e}"
        )
        if adaptive is not None:
            start = time.perf_counter()
            fields, _, at = adaptive_simulate(
                rom, case, mu, history=rom.history({"load": load}), tolerance=adaptive
            )
            seconds = time.perf_counter() - start
            a_u = np.linalg.norm(fields["u"].reshape(len(case.times), -1) - hf.u) / np.linalg.norm(
                hf.u
            )
            a_p = np.linalg.norm(fields["p_qp"] - hf.p) / np.linalg.norm(hf.p)
            print(
                f"  adaptive (tolerance {adaptive:g}): enriched at t = {at} s, u {a_u:.2e}, "
                f"p {a_p:.2e}, indicator max {fields['indicator'].max():.2e} ({seconds:.0f} s)"
            )
    c = correlation(np.array(ind), np.array(err))
    print(
        f"indicator vs p error, test set and outside loads ({c['n']} histories): "
        f"Pearson(log) {c['pearson_log']:.2f}, Spearman {c['spearman']:.2f}"
    )


def _pod_gp(train: Dataset, test: Dataset, ids: list[int], x: np.ndarray, mass) -> None:
    start = time.perf_counter()
    gp = PODSurrogate(regressor="gp", energy=1e-6, regressor_params={"n_restarts": 0}).fit(train)
    gp_fit = time.perf_counter() - start
    gp_pred = gp.predict(x)
    g_u, g_p = _errors(gp_pred, test, ids, mass)
    print(
        f"pod-gp on the same data (fit {gp_fit:.1f} s): u mean {g_u.mean():.2e} max "
        f"{g_u.max():.2e}; p mean {g_p.mean():.2e} max {g_p.max():.2e}"
    )


def _extrapolation(args: argparse.Namespace, rom) -> None:
    """Trained on args.cycles cycles, the nominal history over args.extrapolate cycles."""
    long_case = make_solver(
        "plate-hole",
        {
            "resolution": args.resolution,
            "cycles": args.extrapolate,
            "steps_per_cycle": args.steps,
        },
    )
    mu = long_case.values({})
    start = time.perf_counter()
    hf_result = long_case.solver(mu).run(long_case.times)
    hf_s = time.perf_counter() - start
    start = time.perf_counter()
    out = rom.simulate(mu, times=long_case.times)
    rom_s = time.perf_counter() - start
    print(
        f"extrapolation {args.cycles} -> {args.extrapolate} cycles (nominal parameters; HF "
        f"{hf_s:.1f} s, hrom {rom_s:.2f} s):"
    )
    u_rom = out["u"].reshape(len(long_case.times), -1)
    for c in range(args.extrapolate):
        sl = slice(c * args.steps + 1, (c + 1) * args.steps + 1)
        eu = np.linalg.norm(u_rom[sl] - hf_result.u[sl]) / np.linalg.norm(hf_result.u[sl])
        ep = np.linalg.norm(out["p_qp"][sl] - hf_result.p[sl]) / np.linalg.norm(hf_result.p[sl])
        print(
            f"  cycle {c + 1:2d}: u {eu:.2e}  p {ep:.2e}  indicator max "
            f"{out['indicator'][sl].max():.2e}"
        )


if __name__ == "__main__":
    main()
