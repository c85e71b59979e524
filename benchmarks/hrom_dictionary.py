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
- the online time per history (median over the test histories) of both (target: the
  dictionary >= 2x faster);
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


def _timed(models: list, mus: list[dict], repeats: int = 3) -> tuple[list[dict], np.ndarray]:
    """Each model's predictions of each parameter set (stacked), and the seconds (models,
    sets): per set the models in turn (a changing machine load falls on all alike), the
    least of ``repeats`` runs."""
    for model in models:
        model.predict(mus[0])  # warm-up
    runs: list[list[dict]] = [[] for _ in models]
    seconds = np.full((len(models), len(mus)), np.inf)
    for j, mu in enumerate(mus):
        for r in range(repeats):
            for m, model in enumerate(models):
                start = time.perf_counter()
                out = model.predict(mu)
                seconds[m, j] = min(seconds[m, j], time.perf_counter() - start)
                if r == 0:
                    runs[m].append(out)
    return [{k: np.stack([o[k] for o in rs]) for k in rs[0]} for rs in runs], seconds


def _u_only(glob, dic, mus: list[dict], routes: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Seconds per history (least of 3, the two in turn) of the reduced solve to the
    displacement alone: the global model, and the dictionary's classifier plus the local
    model its route used."""

    def dictionary(mu: dict, route: dict) -> None:
        dic.probabilities(mu)
        dic.locals_[route["used"]].model.simulate(mu, fields=("u",))

    runs = (lambda mu, route: glob.model.simulate(mu, fields=("u",)), dictionary)
    seconds = np.full((2, len(mus)), np.inf)
    for run in runs:
        run(mus[0], routes[0])  # warm-up
    for j, (mu, route) in enumerate(zip(mus, routes, strict=True)):
        for _ in range(3):
            for m, run in enumerate(runs):
                start = time.perf_counter()
                run(mu, route)
                seconds[m, j] = min(seconds[m, j], time.perf_counter() - start)
    return seconds[0], seconds[1]


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

    (pred_g, pred_d), (t_g, t_d) = _timed([glob, dic], mus)
    e_g, e_d = _errors(pred_g, test, test_ids), _errors(pred_d, test, test_ids)
    routes = dic.routes(mus)
    fallbacks = {r: sum(x["fallback"] == r for x in routes) for r in ("unsure", "indicator")}
    print(
        f"\ntest u error, global: mean {e_g.mean():.2e}, max {e_g.max():.2e}; dictionary: mean "
        f"{e_d.mean():.2e}, max {e_d.max():.2e} (target mean <= 1e-3); fallbacks {fallbacks}, "
        f"answered by another cluster {sum(x['used'] != x['cluster'] for x in routes)}"
    )
    hf = test.solve_times(test_ids)
    u_g, u_d = _u_only(glob, dic, mus, routes)
    print(
        f"to u only (the reduced solve and u, no stress fields; the dictionary's classifier "
        f"included), median: global {1e3 * np.median(u_g):.1f} ms, dictionary "
        f"{1e3 * np.median(u_d):.1f} ms: {np.median(u_g) / np.median(u_d):.2f}x"
    )
    print(
        f"online per history (median of the least of 3 runs, the two models in turn): "
        f"global {1e3 * np.median(t_g):.1f} ms, dictionary "
        f"{1e3 * np.median(t_d):.1f} ms: {np.median(t_g) / np.median(t_d):.2f}x "
        f"(target >= 2x); means {1e3 * t_g.mean():.1f} / {1e3 * t_d.mean():.1f} ms; "
        f"HF solve mean {hf.mean():.2f} s (recorded at generation)"
    )

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
