"""A dictionary of local hyper-reduced models (hrom-dictionary, ROM-net) against one global hrom.

plate-hole P2 (``--resolution``, default 9: 2,090 unknowns), Norton + Armstrong-Frederick,
parameters ``load`` in [40, 220] MPa (from nearly elastic to strongly plastic) and
``R0`` in [100, 180] MPa; ``--cycles`` cycles of ``--steps`` steps. Generates (or reuses,
with ``--out DIR``) ``--train`` training histories (Sobol) and ``--test`` held-out ones
(random), fits one global ``hrom`` and an ``hrom-dictionary`` at the same ``--accuracy``,
and prints:

- the clustering: number of clusters and silhouettes, sizes, each local model's modes and
  cubature points against the global model's;
- the classifier: cross-validated accuracy on the training histories and accuracy on the
  held-out ones (target >= 95 %);
- test errors (relative L2 over space and time of u, finite-element norm; mean / max) of
  both, target mean <= 1e-3, and how often the dictionary's fallback ran;
- the online time per history (median over the test histories of the median of
  ``--repeats`` rounds, the two models in turn, the order reversed every other round) of
  both (target: the dictionary >= 2x faster), and where it goes per cluster: the reduced
  Newton (its law + kernel loop, its iterations) and the fields' reconstruction, the
  global model's and the local model's on the same histories;
- Monte Carlo: ``--mc`` random draws (default 1,000) answered by the dictionary (and by
  the global model with ``--mc-global``), timed against the estimated high-fidelity cost
  (the mean recorded solve time of the test histories x the draws).

Run: ``python benchmarks/hrom_dictionary.py --out DIR`` (``--train 12 --test 8 --mc 50``
for a quick run).
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
from nirom.surrogates.hrom import HROMSurrogate
from nirom.surrogates.hrom_dictionary import HROMDictionarySurrogate
from nirom.threads import one_blas_thread

BOUNDS = {"load": [40.0, 220.0], "R0": [100.0, 180.0]}


def _datasets(args: argparse.Namespace, root: Path) -> tuple[Dataset, Dataset]:
    options = {
        "resolution": args.resolution,
        "cycles": args.cycles,
        "steps_per_cycle": args.steps,
        "parameters": ["load", "R0"],
        "bounds": BOUNDS,
    }
    out = []
    for name, n, design, seed in (
        ("train", args.train, "sobol", 0),
        ("test", args.test, "random", 1),
    ):
        start = time.perf_counter()
        report = generate(
            "plate-hole",
            root / f"{name}.nirom",
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


def _duals(model: HROMSurrogate) -> str:
    reduced = model.model
    return f"{reduced.sigma.modes.shape[0]} / {reduced.p.modes.shape[0]}"


def _load() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _interleaved(runs: list, mus: list[dict], repeats: int) -> np.ndarray:
    """Seconds (runs, sets) of each callable ``run(j)`` on each parameter set ``j``: per set
    ``repeats`` rounds of the runs in turn, the order reversed every other round (a changing
    machine load falls on all alike), the median of the rounds."""
    for run in runs:
        run(0)  # warm-up
    seconds = np.empty((len(runs), len(mus), repeats))
    for j in range(len(mus)):
        for r in range(repeats):
            order = range(len(runs)) if r % 2 == 0 else reversed(range(len(runs)))
            for m in order:
                start = time.perf_counter()
                runs[m](j)
                seconds[m, j, r] = time.perf_counter() - start
    return np.median(seconds, axis=2)


def _timed(models: list, mus: list[dict], repeats: int) -> tuple[list[dict], np.ndarray]:
    """Each model's predictions of each parameter set (stacked), and the seconds (models,
    sets) of a full prediction (:func:`_interleaved`)."""
    preds = [[model.predict(mu) for mu in mus] for model in models]
    runs = [lambda j, model=model: model.predict(mus[j]) for model in models]
    seconds = _interleaved(runs, mus, repeats)
    return [{k: np.stack([o[k] for o in rs]) for k in rs[0]} for rs in preds], seconds


def _u_only(
    glob, dic, mus: list[dict], routes: list[dict], repeats: int
) -> tuple[np.ndarray, np.ndarray]:
    """Seconds per history (:func:`_interleaved`) of the reduced solve to the displacement
    alone: the global model, and the dictionary's classifier plus the local model its route
    used."""

    def dictionary(j: int) -> None:
        dic.probabilities(mus[j])
        dic.locals_[routes[j]["used"]].model.simulate(mus[j], fields=("u",))

    runs = (lambda j: glob.model.simulate(mus[j], fields=("u",)), dictionary)
    seconds = _interleaved(list(runs), mus, repeats)
    return seconds[0], seconds[1]


def _phases(model: HROMSurrogate, mu: dict) -> tuple[float, float, float, int]:
    """Seconds of one history's reduced Newton, of its law and kernel loop (part of the
    Newton) and of the fields' reconstruction with the indicator (each the least of 3, one
    BLAS thread as ``simulate`` runs them); the Newton iterations."""
    best = np.full(3, np.inf)
    reduced = model.model
    with one_blas_thread():
        for _ in range(3):
            parts: dict[str, float] = {}
            start = time.perf_counter()
            result, loads, times = reduced.solve(mu, timings=parts)
            newton = time.perf_counter() - start
            start = time.perf_counter()
            reduced.reconstruct(result, loads, times)
            fields = time.perf_counter() - start
            loop = parts.get("law", 0.0) + parts.get("kernel", 0.0)
            best = np.minimum(best, (newton, loop, fields))
    return (*map(float, best), sum(result.iterations))


def _profile(glob, dic, mus: list[dict], routes: list[dict]) -> None:
    """Per cluster answering: the histories, then global / local medians of the Newton
    (and its law + kernel loop), the Newton iterations and the fields' reconstruction with
    the indicator (:func:`_phases`), on the same histories."""
    used = np.array([r["used"] for r in routes])
    print("where the online time goes (ms, median over the histories each cluster answers):")
    for c in np.unique(used):
        local = dic.locals_[c]
        rows = np.array(
            [_phases(glob, mus[j]) + _phases(local, mus[j]) for j in np.flatnonzero(used == c)]
        )
        med = np.median(rows, axis=0)
        whole = np.median(rows[:, 0] + rows[:, 2]), np.median(rows[:, 4] + rows[:, 6])
        print(
            f"  cluster {c} ({len(rows)} histories; {local.model.n_modes} modes, "
            f"{local.model.n_cubature_points} points): Newton {1e3 * med[0]:.1f} / "
            f"{1e3 * med[4]:.1f} (law + kernel {1e3 * med[1]:.1f} / {1e3 * med[5]:.1f}, "
            f"iterations {med[3]:.0f} / {med[7]:.0f}), fields {1e3 * med[2]:.1f} / "
            f"{1e3 * med[6]:.1f}, in all {1e3 * whole[0]:.1f} / {1e3 * whole[1]:.1f}: "
            f"{whole[0] / whole[1]:.2f}x"
        )


def _errors(pred: dict, ds: Dataset, ids: list[int]) -> np.ndarray:
    mass = ds.mesh.mass_matrix()
    return relative_l2(pred["u"], ds.field("u", ids), mass=mass, time_series=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="where the datasets are made or reused")
    parser.add_argument("--train", type=int, default=40)
    parser.add_argument("--test", type=int, default=40)
    parser.add_argument("--mc", type=int, default=1000, help="Monte Carlo draws")
    parser.add_argument("--mc-global", action="store_true", help="Monte Carlo with hrom too")
    parser.add_argument("--resolution", type=int, default=9)
    parser.add_argument("--cycles", type=int, default=2)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--accuracy", type=float, default=1e-3)
    parser.add_argument("--clusters", default="auto", help="n_clusters of the dictionary")
    parser.add_argument("--overlap", type=float, default=0.1)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=5, help="timing rounds per history")
    args = parser.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="hrom-dictionary-"))
    root.mkdir(parents=True, exist_ok=True)
    print(f"load average {_load()}")
    train, test = _datasets(args, root)
    train_ids, test_ids = train.sample_ids(), test.sample_ids()
    mus = test.parameter_sets(test_ids)
    clusters = args.clusters if args.clusters == "auto" else int(args.clusters)

    start = time.perf_counter()
    glob = HROMSurrogate(accuracy=args.accuracy).fit(train)
    fit_global = time.perf_counter() - start
    start = time.perf_counter()
    dic = HROMDictionarySurrogate(
        accuracy=args.accuracy, n_clusters=clusters, overlap=args.overlap
    ).fit(train)
    fit_dic = time.perf_counter() - start
    print(f"\nglobal hrom ({fit_global:.1f} s): {glob.summary()}")
    print(f"dictionary ({fit_dic:.1f} s): {dic.summary()}")
    card = dic.card_details()
    for c, local in enumerate(card["local_models"]):
        print(
            f"  cluster {c}: {card['cluster_sizes'][c]} simulations (medoid "
            f"{card['medoid_samples'][c]}), {local['modes']} modes, "
            f"{local['cubature_points']} cubature points, {local['reduced_points']} reduced, "
            f"{_duals(dic.locals_[c])} stress / plastic-strain modes"
        )
    g = glob.card_details()
    sizes = np.array(card["cluster_sizes"])
    modes = np.array([m["modes"] for m in card["local_models"]])
    points = np.array([m["cubature_points"] for m in card["local_models"]])
    print(
        f"  global: {g['modes']} modes, {g['cubature_points']} cubature points, "
        f"{_duals(glob)} stress / plastic-strain modes; local mean "
        f"(by members) {np.average(modes, weights=sizes):.1f} modes, "
        f"{np.average(points, weights=sizes):.0f} points, max {modes.max()} / {points.max()}"
    )

    details = dic.evaluation_details(test, test_ids)
    print(
        f"\nclassifier: CV accuracy {dic.classifier_.cv.get('accuracy', 1.0):.1%} on "
        f"{len(train_ids)} training histories, held-out accuracy "
        f"{details['classification_accuracy']:.1%} on {len(test_ids)} (target >= 95 %)"
    )

    (pred_g, pred_d), (t_g, t_d) = _timed([glob, dic], mus, args.repeats)
    e_g, e_d = _errors(pred_g, test, test_ids), _errors(pred_d, test, test_ids)
    routes = dic.routes(mus)
    fallbacks = {r: sum(x["fallback"] == r for x in routes) for r in ("unsure", "indicator")}
    print(
        f"\ntest u error, global: mean {e_g.mean():.2e}, max {e_g.max():.2e}; dictionary: mean "
        f"{e_d.mean():.2e}, max {e_d.max():.2e} (target mean <= 1e-3); fallbacks {fallbacks}, "
        f"answered by another cluster {sum(x['used'] != x['cluster'] for x in routes)}"
    )
    hf = test.solve_times(test_ids)
    u_g, u_d = _u_only(glob, dic, mus, routes, args.repeats)
    print(
        f"to u only (the reduced solve and u, no stress fields; the dictionary's classifier "
        f"included), median: global {1e3 * np.median(u_g):.1f} ms, dictionary "
        f"{1e3 * np.median(u_d):.1f} ms: {np.median(u_g) / np.median(u_d):.2f}x"
    )
    print(
        f"online per history (median over the histories of the median of "
        f"{args.repeats} rounds, the two models in turn): global {1e3 * np.median(t_g):.1f} "
        f"ms, dictionary {1e3 * np.median(t_d):.1f} ms: "
        f"{np.median(t_g) / np.median(t_d):.2f}x (target >= 2x; per history, median ratio "
        f"{np.median(t_g / t_d):.2f}x); means {1e3 * t_g.mean():.1f} / {1e3 * t_d.mean():.1f} "
        f"ms; HF solve mean {hf.mean():.2f} s (recorded at generation)"
    )
    _profile(glob, dic, mus, routes)

    rng = np.random.default_rng(2)
    lows = np.array([BOUNDS[n][0] for n in test.space.scalar_names])
    highs = np.array([BOUNDS[n][1] for n in test.space.scalar_names])
    draws = lows + (highs - lows) * rng.random((args.mc, len(lows)))
    names = test.space.scalar_names
    mc = [dict(zip(names, map(float, row), strict=True)) for row in draws]
    for label, model in (
        ("dictionary", dic),
        *((("global hrom", glob),) if args.mc_global else ()),
    ):
        start = time.perf_counter()
        for mu in mc:
            model.predict(mu)
        seconds = time.perf_counter() - start
        estimate = hf.mean() * args.mc
        print(
            f"Monte Carlo, {args.mc} draws, {label}: {seconds:.1f} s against an estimated "
            f"{estimate:.0f} s of HF solves: {estimate / seconds:.0f}x"
        )
    print(f"load average {_load()}")


if __name__ == "__main__":
    main()
