"""Verbs that put a model to work: uq, sensitivity, optimize, calibrate, report, serve."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from nirom.cli.app import app, console, err_console
from nirom.cli.options import (
    Distributions,
    JsonFlag,
    ModelArg,
    Quantities,
    ResultsOut,
    existing_model,
    parse_pairs,
)
from nirom.errors import ParameterError

# Heavy modules (SciPy, zarr, the surrogates, FastAPI, matplotlib) are imported inside
# each verb, so that ``nirom --help`` and usage errors start at once.


# -- uses of a model: uq, sensitivity, optimize, calibrate, report, serve ----------------
def _named_specs(items: list[str] | None, what: str) -> dict[str, str]:
    """NAME=SPEC pairs (the spec may hold '=' itself, as in normal(mean=1, std=0.1))."""
    out: dict[str, str] = {}
    for item in items or []:
        name, sep, spec = item.partition("=")
        if not sep or not name.strip() or not spec.strip():
            raise ParameterError(f"{what} {item!r}: expected NAME=SPEC, e.g. k_0='normal(1, 0.1)'")
        out[name.strip()] = spec.strip()
    return out


def _results_dir(out: Path | None, model: Path, kind: str) -> Path:
    return out if out is not None else Path(f"{model.name.removesuffix('.model')}-{kind}")


@app.command()
def uq(
    model: ModelArg,
    dist: Distributions = None,
    samples: Annotated[int, typer.Option("--samples", "-n", help="Input samples.")] = 4096,
    method: Annotated[str, typer.Option(help="qmc (scrambled Sobol) | mc.")] = "qmc",
    quantity: Quantities = None,
    quantile: Annotated[
        list[float] | None,
        typer.Option(help="Quantile level (repeatable) (default 0.05 0.5 0.95)."),
    ] = None,
    surrogate_error: Annotated[
        bool, typer.Option(help="Also sample the model's error bars (when it has them).")
    ] = True,
    seed: Annotated[int, typer.Option(help="Seed of the samples.")] = 0,
    out: ResultsOut = None,
    as_json: JsonFlag = False,
) -> None:
    """Propagate input distributions through a model: field and quantity statistics."""
    existing_model(model)
    from nirom.apps.uq import propagate
    from nirom.estimator import jsonable
    from nirom.report.uses import print_uq
    from nirom.surrogates import Surrogate

    surrogate = Surrogate.load(model)
    result = propagate(
        surrogate,
        _named_specs(dist, "distribution"),
        n_samples=samples,
        method=method,
        seed=seed,
        quantities=quantity,
        quantiles=quantile or (0.05, 0.5, 0.95),
        surrogate_error=surrogate.capabilities.std and surrogate_error,
    )
    paths = result.save(_results_dir(out, model, "uq"), surrogate.mesh_)
    _show(result.summary(), print_uq, as_json, jsonable, paths)


def _show(summary: dict, printer: Any, as_json: bool, jsonable: Any, paths: list[Path]) -> None:
    if as_json:
        sys.stdout.write(json.dumps(jsonable(summary, finite=True), indent=2) + "\n")
        return
    printer(jsonable(summary, finite=True), console)
    console.print(f"Wrote {len(paths)} file(s) to [bold]{escape(str(paths[0].parent))}[/]")


@app.command()
def sensitivity(
    model: ModelArg,
    dist: Distributions = None,
    quantity: Quantities = None,
    n_base: Annotated[
        int, typer.Option(help="Base samples N (a power of 2); N (dim + 2) evaluations.")
    ] = 1024,
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples of the intervals.")] = 100,
    maps: Annotated[bool, typer.Option(help="Index maps of every field value.")] = True,
    seed: Annotated[int, typer.Option(help="Seed of the design and the bootstrap.")] = 0,
    out: ResultsOut = None,
    as_json: JsonFlag = False,
) -> None:
    """Sobol indices (first order, total, bootstrap intervals) of quantities and per node."""
    existing_model(model)
    from nirom.apps.sensitivity import sobol_indices
    from nirom.estimator import jsonable
    from nirom.report.uses import print_sensitivity
    from nirom.surrogates import Surrogate

    surrogate = Surrogate.load(model)
    result = sobol_indices(
        surrogate,
        _named_specs(dist, "distribution"),
        quantities=quantity,
        maps=maps,
        n_base=n_base,
        n_resamples=resamples,
        seed=seed,
    )
    paths = result.save(_results_dir(out, model, "sensitivity"), surrogate.mesh_)
    _show(result.summary(), print_sensitivity, as_json, jsonable, paths)


@app.command()
def optimize(
    model: ModelArg,
    minimize: Annotated[
        list[str] | None,
        typer.Option("--minimize", help="Quantity to minimise (repeatable: a Pareto front)."),
    ] = None,
    maximize: Annotated[
        list[str] | None,
        typer.Option("--maximize", help="Quantity to maximise (repeatable: a Pareto front)."),
    ] = None,
    constraint: Annotated[
        list[str] | None,
        typer.Option("--constraint", "-c", help="'QUANTITY <= NUMBER' or '>=' (repeatable)."),
    ] = None,
    fix: Annotated[
        list[str] | None, typer.Option("--fix", help="NAME=VALUE parameter held fixed.")
    ] = None,
    starts: Annotated[int, typer.Option(help="SLSQP starts (one objective).")] = 8,
    trials: Annotated[int, typer.Option(help="Optuna trials (several objectives).")] = 300,
    seed: Annotated[int, typer.Option(help="Seed of the starts or trials.")] = 0,
    verify: Annotated[
        Path | None,
        typer.Option(
            help="Dataset (made by nirom generate) to verify the optimum in: solve, "
            "append, refit until surrogate and solver agree."
        ),
    ] = None,
    tol: Annotated[float, typer.Option(help="Relative agreement asked of --verify.")] = 0.01,
    max_iterations: Annotated[int, typer.Option(help="Solver runs at most (--verify).")] = 5,
    model_out: Annotated[
        Path | None, typer.Option(help="Where --verify saves the refitted model (default MODEL).")
    ] = None,
    out: ResultsOut = None,
    as_json: JsonFlag = False,
) -> None:
    """Optimise quantities of a model (default: minimise the max of its first field)."""
    existing_model(model)
    from nirom.apps.optimization import optimize as run_optimize
    from nirom.apps.optimization import optimize_verified, pareto_front
    from nirom.dataset import Dataset
    from nirom.estimator import jsonable
    from nirom.report.card import write_fit_record
    from nirom.report.uses import print_optimization
    from nirom.surrogates import Surrogate

    surrogate = Surrogate.load(model)
    objectives = {q: "min" for q in minimize or []} | {q: "max" for q in maximize or []}
    fixed = parse_pairs(fix, "fixed parameter")
    for name, value in fixed.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParameterError(f"fixed parameter {name!r}: {value!r} is not a number")
    common = {"constraints": constraint or [], "fixed": fixed, "seed": seed}
    if len(objectives) > 1:
        if verify is not None:
            raise ParameterError("--verify checks one optimum: give one objective")
        result = pareto_front(surrogate, objectives, n_trials=trials, **common)
    else:
        objective, sense = next(iter(objectives.items()), (None, "min"))
        if verify is None:
            result = run_optimize(surrogate, objective, sense=sense, n_starts=starts, **common)
        else:
            result, refitted = optimize_verified(
                Dataset(verify),
                surrogate,
                objective,
                sense=sense,
                tol=tol,
                max_iterations=max_iterations,
                n_starts=starts,
                console=console,
                **common,
            )
            refitted.save(model_out or model)
            refit_s = result.verification[-1]["refit_s"]
            n_fitted = len(refitted.training_ids_)
            write_fit_record(model_out or model, refit_s, verify, n_fitted)
    paths = result.save(_results_dir(out, model, "optimize"))
    _show(result.summary(), print_optimization, as_json, jsonable, paths)


@app.command()
def calibrate(
    model: ModelArg,
    observations: Annotated[
        Path,
        typer.Argument(
            help="Observations file (JSON/TOML: quantities or field + nodes, values, noise_std).",
            metavar="OBSERVATIONS",
        ),
    ],
    prior: Annotated[
        list[str] | None, typer.Option("--prior", "-d", help="NAME=KIND(ARGS) prior (repeatable).")
    ] = None,
    walkers: Annotated[
        int | None, typer.Option(help="Ensemble size (default max(64, 8 dim)).")
    ] = None,
    steps: Annotated[int, typer.Option(help="Steps per walker.")] = 1500,
    burn: Annotated[int | None, typer.Option(help="Burn-in steps (default a third).")] = None,
    surrogate_error: Annotated[
        bool, typer.Option(help="Add the model's predictive variance to the noise.")
    ] = True,
    correlated: Annotated[
        bool | None,
        typer.Option(
            "--correlated/--independent",
            help="The surrogate's error at the sensors: its covariance (default when the "
            "model gives one) or independent variances.",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the sampler.")] = 0,
    out: ResultsOut = None,
    as_json: JsonFlag = False,
) -> None:
    """Bayesian calibration of a model's parameters to observations (emcee)."""
    existing_model(model)
    from nirom.apps.calibration import calibrate as run_calibration
    from nirom.estimator import jsonable
    from nirom.report.uses import print_calibration
    from nirom.surrogates import Surrogate

    surrogate = Surrogate.load(model)
    result = run_calibration(
        surrogate,
        observations,
        prior=_named_specs(prior, "prior"),
        n_walkers=walkers,
        n_steps=steps,
        n_burn=burn,
        surrogate_error=surrogate.capabilities.std and surrogate_error,
        correlated=correlated,
        seed=seed,
    )
    paths = result.save(_results_dir(out, model, "calibrate"))
    _show(result.summary(), print_calibration, as_json, jsonable, paths)


@app.command()
def report(
    model: ModelArg,
    dataset: Annotated[Path, typer.Argument(help="Test dataset.", metavar="TEST_DATASET")],
    out: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write.")] = Path(
        "report.html"
    ),
    train: Annotated[
        Path | None, typer.Option(help="Training dataset (default: the one the fit recorded).")
    ] = None,
    results: Annotated[
        list[Path] | None,
        typer.Option(
            "--results",
            help="Folder of uq / sensitivity / optimize / calibrate results to include "
            "(repeatable); the later runs kept beside it (FOLDER-2, FOLDER-3, ...) too.",
        ),
    ] = None,
    study: Annotated[Path | None, typer.Option(help="Study TOML file to show.")] = None,
) -> None:
    """Write a self-contained HTML report of a model on a test dataset."""
    existing_model(model)
    from nirom.dataset import Dataset
    from nirom.report.html import write_report
    from nirom.surrogates import Surrogate

    path = write_report(
        Surrogate.load(model),
        Dataset(dataset),
        out,
        model_path=model,
        train=None if train is None else Dataset(train),
        results=results or [],
        study=study,
    )
    console.print(f"Wrote [bold]{escape(str(path))}[/] ({path.stat().st_size / 1e6:.1f} MB)")


@app.command()
def serve(
    model: ModelArg,
    host: Annotated[
        str, typer.Option(help="Address to bind (localhost by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    max_batch: Annotated[int, typer.Option(help="Parameter sets per request at most.")] = 1000,
    max_body: Annotated[int, typer.Option(help="Request body size at most, in bytes.")] = 1_000_000,
    max_response_mb: Annotated[
        float, typer.Option(help="JSON answer size at most, in MB (estimated before predicting).")
    ] = 64.0,
    batching: Annotated[
        bool, typer.Option(help="Predict together the requests that arrive together.")
    ] = True,
) -> None:
    """Serve a model over HTTP: POST /predict, GET /model, GET /health."""
    existing_model(model)
    from nirom.serve import serve as run_server

    if host not in ("127.0.0.1", "localhost", "::1"):
        err_console.print(f"[yellow]warning:[/] serving on {host}: reachable beyond this machine")
    console.print(f"Serving {escape(str(model))} on http://{host}:{port} (Ctrl-C stops)")
    run_server(
        model,
        host,
        port,
        max_body_bytes=max_body,
        max_batch=max_batch,
        max_response_bytes=int(max_response_mb * 1e6),
        batching=batching,
    )
