"""The study sections of the uses: [uq], [sensitivity], [optimize], [calibrate] and [report].

Each section runs on one of the study's surrogates (``model = "pod-gp"``;
default the first) and writes its results into ``OUT/<section>/``::

    [uq]                                   # nirom.apps.uq.propagate
    samples = 4096                         # method = "qmc" | "mc", seed = 0
    distributions = { k_0 = "normal(1, 0.2)" }
    quantities = ["max(u)", "mean(u, 0:0.5, 0:0.5)"]   # default: each field's mean and max
    quantiles = [0.05, 0.5, 0.95]          # surrogate_error = true, n_draws = 8

    [sensitivity]                          # nirom.apps.sensitivity.sobol_indices
    n_base = 1024                          # quantities, distributions, maps = true,
                                           # resamples = 100, seed = 0
    [optimize]                             # nirom.apps.optimization
    minimize = "max(u)"                    # or maximize = "..."; or objectives =
                                           # { "max(u)" = "min", "mean(u)" = "max" } (Pareto)
    constraints = ["mean(u) >= 0.03"]      # fixed = { k_0 = 1.0 }, starts = 8, trials = 300
    verify = true                          # solve the optimum, refit until they agree (tol,
                                           # max_iterations), on a copy of the training set
    [calibrate]                            # nirom.apps.calibration.calibrate
    observations = "observations.json"     # relative to the study file; or:
    synthetic = { mu = { k_0 = 0.5, ... }, quantities = ["at(u, 0.25, 0.25)", ...],
                  noise_std = 0.001, seed = 1 }   # the solver's fields at mu, plus noise
    steps = 1500                           # walkers, burn, prior, surrogate_error, seed

    [report]                               # OUT/report.html (needs a [test] set),
    model = "pod-gp"                       # written by nirom.study after the others

``verify`` appends its solves to ``OUT/optimize/train.nirom``, a copy of the
training set made anew each run, so the study's own training set stays its
design and a rerun gives the same results.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from nirom.apps.quantities import QuantityError, parse_quantities
from nirom.dataset import Dataset
from nirom.errors import StudyError

SECTIONS = ("uq", "sensitivity", "optimize", "calibrate", "report")
_KEYS = {
    "uq": {
        "model",
        "samples",
        "method",
        "seed",
        "distributions",
        "quantities",
        "quantiles",
        "surrogate_error",
        "n_draws",
    },
    "sensitivity": {"model", "n_base", "quantities", "distributions", "maps", "resamples", "seed"},
    "optimize": {
        "model",
        "minimize",
        "maximize",
        "objectives",
        "constraints",
        "fixed",
        "starts",
        "trials",
        "seed",
        "verify",
        "tol",
        "max_iterations",
    },
    "calibrate": {
        "model",
        "observations",
        "synthetic",
        "prior",
        "walkers",
        "steps",
        "burn",
        "surrogate_error",
        "seed",
    },
    "report": {"model"},
}


def _error(where: str, message: str) -> StudyError:
    """The one-line error of a wrong study entry, ``where`` naming the file."""
    return StudyError(f"{where}: {message}")


def check_sections(config: Mapping[str, Any], where: str) -> None:
    """Check the use sections' keys and model names (before anything is solved)."""
    labels = [entry.get("model") for entry in config.get("surrogates", [])]
    for name in SECTIONS:
        if name not in config:
            continue
        section = config[name]
        if not isinstance(section, Mapping):
            raise _error(where, f"[{name}] must be a table")
        unknown = sorted(set(section) - _KEYS[name])
        if unknown:
            raise _error(where, f"[{name}] unknown key(s) {unknown}; known: {sorted(_KEYS[name])}")
        if "model" in section and section["model"] not in labels:
            raise _error(
                where, f"[{name}] model {section['model']!r} is not one of the study's {labels}"
            )
    opt = config.get("optimize", {})
    given = [k for k in ("minimize", "maximize", "objectives") if k in opt]
    if len(given) > 1:
        raise _error(where, f"[optimize] give one of minimize, maximize or objectives, not {given}")
    cal = config.get("calibrate")
    if cal is not None and ("observations" in cal) == ("synthetic" in cal):
        raise _error(where, "[calibrate] needs exactly one of 'observations' or 'synthetic'")
    if "report" in config and "test" not in config:
        raise _error(where, "[report] needs a [test] set to evaluate the model on")


def check_quantities(
    config: Mapping[str, Any], fields: Mapping[str, Any], mesh: Any, where: str
) -> None:
    """Parse every quantity the sections name against the solver's fields (before solving)."""
    texts: list[str] = []
    for name in ("uq", "sensitivity"):
        texts += list(config.get(name, {}).get("quantities", []))
    opt = config.get("optimize", {})
    texts += [opt[k] for k in ("minimize", "maximize") if k in opt]
    texts += list(opt.get("objectives", {}))
    texts += [c.split("<=")[0].split(">=")[0] for c in opt.get("constraints", [])]
    texts += list(config.get("calibrate", {}).get("synthetic", {}).get("quantities", []))
    try:
        for text in texts:
            parse_quantities([text], fields, mesh)
    except QuantityError as exc:
        raise _error(where, str(exc)) from None


def run_sections(
    config: Mapping[str, Any],
    models: Mapping[str, Any],
    train: Dataset,
    solver: Any,
    out: Path,
    console: Console,
) -> tuple[dict[str, Any], list[Path]]:
    """Run the use sections present in ``config``: their results by section, and the
    folders they were written to (which the study's ``[report]`` shows)."""
    results: dict[str, Any] = {}
    folders: list[Path] = []
    for name, run in (
        ("uq", _uq),
        ("sensitivity", _sensitivity),
        ("optimize", _optimize),
        ("calibrate", _calibrate),
    ):
        if name in config:
            section = config[name]
            model = models[section.get("model", next(iter(models)))]
            result, save_options = run(section, model, train, solver, out, config, console)
            # a study's folder is its output: a rerun replaces its sections' results
            paths = result.save(out / name, replace=True, **save_options)
            folders.append(paths[0].parent)
            console.print(escape(f"[{name}] wrote {len(paths)} file(s) to {folders[-1]}"))
            results[name] = result
    return results, folders


def _uq(section, model, train, solver, out, config, console):  # type: ignore[no-untyped-def]
    from nirom.apps.uq import propagate

    result = propagate(
        model,
        section.get("distributions"),
        n_samples=section.get("samples", 4096),
        method=section.get("method", "qmc"),
        seed=section.get("seed", 0),
        quantities=section.get("quantities"),
        quantiles=section.get("quantiles", (0.05, 0.5, 0.95)),
        surrogate_error=section.get("surrogate_error"),
        n_draws=section.get("n_draws", 8),
    )
    return result, {"mesh": model.mesh_}


def _sensitivity(section, model, train, solver, out, config, console):  # type: ignore[no-untyped-def]
    from nirom.apps.sensitivity import sobol_indices

    result = sobol_indices(
        model,
        section.get("distributions"),
        quantities=section.get("quantities"),
        maps=section.get("maps", True),
        n_base=section.get("n_base", 1024),
        n_resamples=section.get("resamples", 100),
        seed=section.get("seed", 0),
    )
    return result, {"mesh": model.mesh_}


def _optimize(section, model, train, solver, out, config, console):  # type: ignore[no-untyped-def]
    from nirom.apps.optimization import optimize, optimize_verified, pareto_front

    common = {
        "constraints": section.get("constraints", []),
        "fixed": section.get("fixed"),
        "seed": section.get("seed", 0),
    }
    if "objectives" in section:
        trials = section.get("trials", 300)
        return pareto_front(model, section["objectives"], n_trials=trials, **common), {}
    sense = "max" if "maximize" in section else "min"
    objective = section.get("maximize", section.get("minimize"))
    if not section.get("verify", False):
        starts = section.get("starts", 8)
        return optimize(model, objective, sense=sense, n_starts=starts, **common), {}
    copy = out / "optimize" / "train.nirom"
    shutil.rmtree(copy, ignore_errors=True)
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(train.path, copy)
    result, refitted = optimize_verified(
        Dataset(copy),
        model,
        objective,
        sense=sense,
        tol=section.get("tol", 0.01),
        max_iterations=section.get("max_iterations", 5),
        n_starts=section.get("starts", 8),
        console=console,
        **common,
    )
    refitted.save(out / "optimize" / "refitted.model")
    return result, {}


def _calibrate(section, model, train, solver, out, config, console):  # type: ignore[no-untyped-def]
    from nirom.apps.calibration import calibrate, observations_from_dict, synthetic_observations

    truths = None
    if "observations" in section:
        observations: Any = Path(config.get("_base", ".")) / section["observations"]
    else:
        syn = dict(section["synthetic"])
        unknown = sorted(set(syn) - {"mu", "quantities", "noise_std", "seed"})
        if unknown or "mu" not in syn or "quantities" not in syn or "noise_std" not in syn:
            raise _error(
                "study", "[calibrate] synthetic needs mu, quantities, noise_std (and seed)"
            )
        quantities = parse_quantities(syn["quantities"], model.fields_, model.mesh_)
        truth = solver.solve(solver.space.validate(syn["mu"]))
        observations = synthetic_observations(
            truth, quantities, syn["noise_std"], syn.get("seed", 0)
        )
        observations = observations_from_dict(observations.to_dict())
        truths = solver.space.validate(syn["mu"])
    result = calibrate(
        model,
        observations,
        prior=section.get("prior"),
        n_walkers=section.get("walkers"),
        n_steps=section.get("steps", 1500),
        n_burn=section.get("burn"),
        surrogate_error=section.get("surrogate_error"),
        seed=section.get("seed", 0),
    )
    return result, {"truths": truths}
