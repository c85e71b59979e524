"""Hyper-reduced model (hrom) of plate-hole: accuracy, speed-up at scale, cost per iteration.

Cases (``--case``; plate-hole P2, elastoviscoplastic Norton + Armstrong-Frederick,
parameters load, R0, C; ``--cycles`` cycles of ``--steps`` steps, fully reversed):

=========  =========================  ===================
case       options                    unknowns
=========  =========================  ===================
default    resolution 9 (the default)  2,090
10k        resolution 20              9,922
100k       resolution 65              102,442
3d         resolution 9, 5 layers     34,485 (tetrahedra)
=========  =========================  ===================

Generates (or reuses, with ``--out DIR``) a training set (Sobol, ``--train``) and a
test set (random, ``--test``), fits ``hrom`` with its DEFAULT settings (or ``-O
name=value``) and prints:

- the fit: time by stage, modes, points kept of the rule, the cubature sizing
  (every candidate tolerance's points and training-history errors), the
  reduced-force integration error on a training history;
- accuracy over the test histories: mean / max relative L2 error over space and
  time of u (finite-element L2 norm) and of p at the integration points;
- speed-up: the high-fidelity solve of the same histories timed in this run
  (``--hf`` histories) against the reduced model's prediction of the solver's
  outputs (u, sigma_qp, p_qp) and of every field (nodal projections included);
- one reduced Newton iteration: iterations per step, seconds per iteration split
  into law / assembly / tangent product / solve (profiled), its dense
  linear-algebra flop count at the kept points and that count's time at the
  machine's measured BLAS rate (single thread, the same product shape);
- the consistent tangent against the modified one (the step's first LU kept);
- the offline stage with 1 and 2 Dask workers (``--no-dask`` skips);
- pod-gp on the same data (``--no-pod-gp`` skips); optionally extrapolation in
  time (``--extrapolate``), loads past the bounds (``--outside``) and the adaptive
  mode (``--adaptive``).

Run: ``python benchmarks/hyper_reduction.py --case 10k --out DIR`` (see ``--help``).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console

from nirom.cli.options import parse_pairs
from nirom.dataset import Dataset
from nirom.evaluation.metrics import relative_l2
from nirom.generation import generate
from nirom.hyperreduction.adaptive import adaptive_simulate
from nirom.hyperreduction.indicator import correlation
from nirom.hyperreduction.snapshots import mechanics_case
from nirom.solvers import make_solver
from nirom.surrogates.hrom import HROMSurrogate
from nirom.surrogates.pod import PODSurrogate
from nirom.threads import one_blas_thread

PRESETS = {
    "default": {"resolution": 9},
    "10k": {"resolution": 20},
    "100k": {"resolution": 65},
    "3d": {"resolution": 9, "layers": 5},
}
TARGETS = {"default": 20, "10k": 100, "100k": 300, "3d": 100}
SOLVER_FIELDS = ("u", "sigma_qp", "p_qp")  # what the high-fidelity solve returns


def _datasets(args: argparse.Namespace, root: Path) -> tuple[Dataset, Dataset]:
    options = {**PRESETS[args.case], "cycles": args.cycles, "steps_per_cycle": args.steps}
    out = []
    for name, n, design, seed in (
        ("train", args.train, "sobol", 0),
        ("test", args.test, "random", 1),
    ):
        path = root / f"{name}.nirom"
        start = time.perf_counter()
        report = generate(
            "plate-hole",
            path,
            n,
            design=design,
            seed=seed,
            workers=args.workers,
            solver_options=options,
            console=Console(quiet=True),
        )
        if report.solved:
            print(
                f"generated {name}: {report.solved} samples in {time.perf_counter() - start:.0f} s"
            )
        out.append(report.dataset)
    return out[0], out[1]


def _errors(pred: dict, ds: Dataset, ids: list[int], mass) -> tuple[np.ndarray, np.ndarray]:
    u_ref, p_ref = ds.field("u", ids), ds.field("p_qp", ids)
    e_u = relative_l2(pred["u"], u_ref, mass=mass, time_series=True)
    e_p = relative_l2(pred["p_qp"].reshape(len(ids), -1), p_ref.reshape(len(ids), -1))
    return e_u, e_p


def _mu(ds: Dataset, row: np.ndarray) -> dict[str, float]:
    return dict(zip(ds.space.scalar_names, row, strict=True))


def _best(fn, repeats: int) -> float:
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(PRESETS), default="default")
    parser.add_argument("--train", type=int, default=10)
    parser.add_argument("--test", type=int, default=12)
    parser.add_argument("--cycles", type=int, default=2)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="Dask workers for generation")
    parser.add_argument("--hf", type=int, default=None, help="test histories the HF solves again")
    parser.add_argument("-O", "--option", action="append", help="hrom NAME=VALUE option")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask offline timings")
    parser.add_argument("--no-pod-gp", action="store_true", help="skip the pod-gp comparison")
    parser.add_argument("--extrapolate", type=int, default=0, help="cycles to extrapolate to")
    parser.add_argument("--outside", type=float, nargs="*", default=[], help="loads past bounds")
    parser.add_argument("--adaptive", type=float, default=None, help="adaptive mode tolerance")
    args = parser.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="hrom-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    train, test = _datasets(args, root)
    case = mechanics_case(train)
    space = case.fe_space
    print(
        f"plate-hole P2 ({args.case}): {space.n_dofs:,} unknowns, {space.n_qp:,} integration "
        f"points, {len(case.times)} output times; train {len(train)}, test {len(test)}"
    )
    hyper = parse_pairs(args.option, "hrom option")
    model, fit_s = _fit(train, case, hyper)
    rom = model.model
    mass = train.mesh.mass_matrix()
    ids = test.sample_ids()
    x = test.parameters(ids)
    preds = _accuracy(model, train, test, ids, x, mass)
    _speed(args, model, case, test, ids, x)
    _iteration(rom, _mu(test, x[0]))
    _tangents(rom, case, test, ids, x, mass)
    _offline(args, train, case, hyper, rom, fit_s)
    if not args.no_pod_gp:
        _pod_gp(train, test, ids, x, mass, preds)
    if args.outside:
        _outside(args.outside, case, rom, preds, args.adaptive)
    if args.extrapolate > args.cycles:
        _extrapolation(args, rom)
    print(f"data in {root}")


def _fit(train: Dataset, case, hyper: dict) -> tuple[HROMSurrogate, float]:
    start = time.perf_counter()
    model = HROMSurrogate(**hyper).fit(train, case=case)
    fit_s = time.perf_counter() - start
    rom = model.model
    info = rom.info
    print(f"fit (in process, defaults{' + ' + json.dumps(hyper) if hyper else ''}): {fit_s:.1f} s")
    print(f"  {model.summary()}")
    print(
        f"  cubature points: {rom.n_cubature_points:,} of {case.fe_space.n_qp:,} "
        f"({len(rom.points):,} reduced points with Gappy's); reduced-force integration error "
        f"(a training history): {info['force_error']:.2e}"
    )
    sizing = info.get("cubature_sizing")
    if sizing:
        every = sizing["every_point"]
        print(
            f"  cubature sizing (accuracy {sizing['accuracy']:g}); every point: u "
            f"{every['u_error']:.2e}, p {every['p_error']:.2e}"
        )
        for c in sizing["candidates"]:
            mark = "accepted" if c["accepted"] else ""
            print(
                f"    tolerance {c['tolerance']:7.0e}: {c['points']:6d} points, u "
                f"{c['u_error']:.2e}, p {c['p_error']:.2e} {mark}"
            )
    s = info["seconds"]
    print(
        f"  offline stages: POD {s['pod']:.1f} s, per-sample blocks {s['samples']:.1f} s, "
        f"cubature {s.get('cubature', 0.0):.1f} s, total {s['total']:.1f} s"
    )
    return model, fit_s


def _accuracy(model, train, test, ids, x, mass) -> dict:
    ids0 = train.sample_ids()[:1]
    e_u, e_p = _errors(model.predict(train.parameters(ids0)), train, ids0, mass)
    print(f"reproduction (training sample 0): u {e_u[0]:.2e}, p {e_p[0]:.2e}")
    pred = model.predict(x)
    e_u, e_p = _errors(pred, test, ids, mass)
    print(
        f"test ({len(ids)} histories): u mean {e_u.mean():.2e} max {e_u.max():.2e} "
        f"(target mean <= 1e-4); p mean {e_p.mean():.2e} max {e_p.max():.2e} "
        f"(target mean <= 1e-2)"
    )
    indicator = pred["indicator"].max(axis=1)
    c = correlation(indicator, e_p)
    print(
        f"  indicator vs p error: Spearman {c['spearman']:.2f}, Pearson(log) {c['pearson_log']:.2f}"
    )
    return {"indicator": indicator, "e_u": e_u, "e_p": e_p}


def _speed(args, model, case, test, ids, x) -> None:
    rom = model.model
    n_hf = args.hf if args.hf is not None else (2 if args.case in ("100k", "3d") else len(ids))
    solves, fields, every = [], [], []
    for row in x:
        mu = _mu(test, row)
        rom.simulate(mu, fields=SOLVER_FIELDS)  # warm
        solves.append(_best(lambda mu=mu: rom.solve(mu), 3))
        fields.append(_best(lambda mu=mu: rom.simulate(mu, fields=SOLVER_FIELDS), 3))
        every.append(_best(lambda row=row: model.predict(row[None]), 1))
    print(
        f"online (median over {len(ids)} test histories): reduced solve "
        f"{np.median(solves) * 1e3:.1f} ms; with the solver's outputs rebuilt (u, sigma_qp, p_qp) "
        f"{np.median(fields) * 1e3:.1f} ms; every field {np.median(every) * 1e3:.1f} ms"
    )
    ratios = []
    for j in range(min(n_hf, len(ids))):
        mu = case.values(_mu(test, x[j]))
        hf = _best(lambda mu=mu: case.solver(mu).run(case.times), 1)
        ratios.append((hf, solves[j], fields[j], every[j]))
        print(
            f"  test history {j}: HF {hf:.2f} s (timed now) -> {hf / solves[j]:.0f}x (reduced "
            f"solve), {hf / fields[j]:.0f}x (solver's outputs), {hf / every[j]:.0f}x (every field)"
        )
    hf, r, f, e = np.array(ratios).T
    print(
        f"speed-up, HF timed in this run on {len(hf)} histories, median: "
        f"{np.median(hf / f):.0f}x with the solver's outputs (target {TARGETS[args.case]}x); "
        f"{np.median(hf / r):.0f}x the reduced solve alone; {np.median(hf / e):.0f}x every field"
    )


def _iteration(rom, mu: dict) -> None:
    """One reduced Newton iteration: time by part and the flop count of its dense algebra."""
    timings: dict[str, float] = {}
    result, _, _ = rom.solve(mu, timings=timings)
    total = _best(lambda: rom.solve(mu), 3)
    its = sum(result.iterations)
    pts = rom.operators.compiled_points()
    n, a, k = pts.E_active.shape
    per = total / its
    evaluations = timings["iterations"]  # law evaluations: iterations plus one per step
    law = timings["law"] / its
    kernel = timings["kernel"] / its
    tangent = timings.get("tangent", 0.0) / its
    solve = timings.get("solve", 0.0) / its
    flops = timings["flops"] / its
    W = np.random.default_rng(0).normal(size=(n * a, k))
    with one_blas_thread():
        gemm = _best(lambda: pts.E_flat.T @ W, 200)
    rate = 2 * n * a * k * k / gemm
    print(
        f"  {evaluations / len(result.iterations):.2f} law evaluations per step, "
        f"{timings['flowing'] / (evaluations * n):.0%} of the cubature points flowing on average"
    )
    print(
        f"reduced Newton: {its} iterations over {len(result.iterations)} steps "
        f"({its / len(result.iterations):.2f} per step, {result.cuts} cuts); {per * 1e6:.0f} us "
        f"per iteration ({n} cubature points, {a} strain components, {k} modes)"
    )
    print(
        f"  profiled split per iteration (law evaluations included): law {law * 1e6:.0f} us, "
        f"assembly "
        f"{(kernel - law) * 1e6:.0f} us, tangent product {tangent * 1e6:.0f} us, LU and solve "
        f"{solve * 1e6:.0f} us; the rest (Python, loads, Gappy-only points) "
        f"{(per - kernel - tangent - solve) * 1e6:.0f} us"
    )
    print(
        f"  dense algebra at the kept points (strains, residual, the flowing points' tangent "
        f"product, per solve): {flops / 1e6:.2f} Mflop per iteration, "
        f"{flops / rate * 1e6:.0f} us at the measured BLAS rate ({rate / 1e9:.1f} Gflop/s, one "
        f"thread): the iteration takes {per / (flops / rate):.1f}x that (target <= 3x)"
    )


def _tangents(rom, case, test, ids, x, mass) -> None:
    """The consistent tangent against the modified one on the first test histories."""
    n = min(3, len(ids))
    for tangent in ("consistent", "modified"):
        seconds, iterations, cuts, errors = [], [], [], []
        for j in range(n):
            mu = _mu(test, x[j])
            try:
                result, loads, times = rom.solve(mu, tangent=tangent)
            except Exception as exc:
                print(f"  {tangent} tangent, test history {j}: failed ({exc})")
                continue
            seconds.append(_best(lambda mu=mu, t=tangent: rom.solve(mu, tangent=t), 2))
            iterations.append(sum(result.iterations))
            cuts.append(result.cuts)
            u = rom.reconstruct(result, loads, times, fields=("u",))["u"]
            errors.append(
                relative_l2(u[None], test.field("u", [ids[j]]), mass=mass, time_series=True)[0]
            )
        if seconds:
            print(
                f"  {tangent:10s} tangent: {np.median(seconds) * 1e3:.1f} ms, "
                f"{np.mean(iterations):.0f} iterations, {np.mean(cuts):.1f} cuts, u error "
                f"{np.mean(errors):.2e} (first {len(seconds)} test histories)"
            )


def _offline(args, train, case, hyper, rom, fit_s) -> None:
    s = rom.info["seconds"]
    print(
        f"offline in process: {fit_s:.1f} s (POD {s['pod']:.1f} s, per-sample {s['samples']:.1f} s)"
    )
    for workers in () if args.no_dask else (1, 2):
        timed = HROMSurrogate(**hyper, workers=workers).fit(train, case=case).model.info
        s = timed["seconds"]
        print(
            f"offline with {workers} Dask worker(s): {s['total']:.1f} s (cluster start "
            f"{s['cluster_start']:.1f} s, POD {s['pod']:.1f} s, per-sample tasks "
            f"{s['samples']:.1f} s, cubature {s.get('cubature', 0.0):.1f} s)"
        )


def _outside(loads, case, rom, preds, adaptive) -> None:
    """Nominal material, loads past the training bounds: error and indicator (and the
    adaptive mode's, with ``adaptive`` as its tolerance)."""
    ind, err = list(preds["indicator"]), list(preds["e_p"])
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
            u = fields["u"].reshape(len(case.times), -1)
            a_u = np.linalg.norm(u - hf.u) / np.linalg.norm(hf.u)
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


def _pod_gp(train, test, ids, x, mass, preds) -> None:
    start = time.perf_counter()
    gp = PODSurrogate(regressor="gp").fit(train)
    gp_fit = time.perf_counter() - start
    g_u, g_p = _errors(gp.predict(x), test, ids, mass)
    print(
        f"pod-gp (defaults) on the same data (fit {gp_fit:.1f} s): u mean {g_u.mean():.2e} max "
        f"{g_u.max():.2e}; p mean {g_p.mean():.2e} max {g_p.max():.2e} (hrom: u "
        f"{preds['e_u'].mean():.2e}, p {preds['e_p'].mean():.2e})"
    )


def _extrapolation(args: argparse.Namespace, rom) -> None:
    """Trained on args.cycles cycles, the nominal history over args.extrapolate cycles."""
    options = {**PRESETS[args.case], "cycles": args.extrapolate, "steps_per_cycle": args.steps}
    long_case = make_solver("plate-hole", options)
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
