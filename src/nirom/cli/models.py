"""Verbs that make and use models: generate, fit, train-rb, predict, evaluate, refine, run, demo."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from nirom.cli.app import app, console
from nirom.cli.names import MODELS, SOLVERS
from nirom.cli.options import (
    JsonFlag,
    ModelArg,
    Scheduler,
    existing_model,
    parameter_value,
    parse_pairs,
)
from nirom.errors import ParameterError

if TYPE_CHECKING:
    from nirom.surrogates import Surrogate

# Heavy modules (the solvers, SciPy, zarr, scikit-learn, torch) are imported inside
# each verb, so that ``nirom --help`` and usage errors start at once.


# -- generate ---------------------------------------------------------------------------
@app.command()
def generate(
    case: Annotated[
        str,
        typer.Argument(
            help=f"Built-in solver ({', '.join(SOLVERS)}) or a command-solver TOML file.",
            metavar="CASE",
        ),
    ],
    samples: Annotated[int, typer.Option("--samples", "-n", help="Number of design points.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Dataset to create or resume.")],
    design: Annotated[str, typer.Option(help="sobol | lhs | random | grid.")] = "sobol",
    seed: Annotated[
        int, typer.Option(help="Seed of the design and of field inputs drawn from the prior.")
    ] = 0,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            "-w",
            help="Local Dask worker processes (0: in this process; default: this process "
            "when the run is small, else 2).",
        ),
    ] = None,
    scheduler: Scheduler = None,
    solver_option: Annotated[
        list[str] | None,
        typer.Option(
            "--solver-option", "-s", help="NAME=VALUE option of a built-in solver (repeatable)."
        ),
    ] = None,
    retry_failed: Annotated[bool, typer.Option(help="Rerun samples recorded as failed.")] = False,
    operators: Annotated[
        bool, typer.Option(help="Also store each sample's system matrix and right-hand side.")
    ] = False,
    repair: Annotated[
        bool, typer.Option(help="Read every done sample back; solve damaged ones again.")
    ] = False,
) -> None:
    """Run a solver on a design of samples, in parallel; rerun to resume."""
    from nirom.generation import generate as run_generation
    from nirom.report.terminal import print_generation_report

    report = run_generation(
        case,
        out,
        samples,
        design=design,
        seed=seed,
        workers=workers,
        scheduler=scheduler,
        retry_failed=retry_failed,
        solver_options=parse_pairs(solver_option, "solver option"),
        console=console,
        operators=operators,
        repair=repair,
    )
    if repair:
        ids = ", ".join(map(str, report.repaired)) or "none"
        console.print(f"Damaged samples solved again: {ids}", highlight=False)
    print_generation_report(report, console)


# -- fit / predict / evaluate --------------------------------------------------------------
@app.command()
def fit(
    dataset: Annotated[Path, typer.Argument(help="Training dataset.", metavar="DATASET")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Model directory to write.")],
    model: Annotated[str, typer.Option(help=f"Surrogate: {' | '.join(MODELS)}.")] = "pod-gp",
    modes: Annotated[int | None, typer.Option(help="POD modes kept per field.")] = None,
    discarded_energy: Annotated[
        float | None,
        typer.Option(
            "--discarded-energy",
            "--energy",
            help="Or the fraction of the snapshot energy the POD discards (default 1e-6).",
        ),
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--option",
            "-O",
            help="NAME=VALUE hyperparameter of the model (repeatable), e.g. -O epochs=100 "
            "-O width=32 for fno.",
        ),
    ] = None,
    case: Annotated[
        str | None,
        typer.Option(
            "--case",
            help="The mechanics case of the data (hrom): a case file (.toml) or a built-in "
            "case's name; default: the solver the dataset's generation recorded.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            "-w",
            help="Local Dask worker processes of the offline stage (hrom; 0: in this "
            "process, the default).",
        ),
    ] = None,
    scheduler: Scheduler = None,
) -> None:
    """Fit a surrogate on a dataset's done samples and save it."""
    from nirom.dataset import Dataset
    from nirom.report.card import recorded_warnings, write_fit_record
    from nirom.surrogates import make_surrogate
    from nirom.surrogates.factory import names_taking

    params = parse_pairs(option, "model option")
    truncation = {
        k: v
        for k, v in (("n_modes", modes), ("discarded_energy", discarded_energy))
        if v is not None
    }
    takes = names_taking(*truncation)
    if truncation and model not in takes:
        raise ParameterError(
            f"--modes/--energy set the number of modes of {', '.join(takes)}; "
            f"{model} has none (its -O options: nirom fit --help)"
        )
    if set(truncation) & set(params) or ("discarded_energy" in truncation and "energy" in params):
        raise ParameterError("give the POD truncation once: --modes/--energy or -O, not both")
    params.update(truncation)
    surrogate = make_surrogate(model, **params)  # checks every option before reading data
    _dask_options(surrogate, model, workers, scheduler, params)
    takes_case = "case" in surrogate.capabilities.fit_context
    if case is not None and not takes_case:
        raise ParameterError(
            f"--case applies to models built on a mechanics case (hrom), not {model}"
        )
    ds = Dataset(dataset)
    start = time.perf_counter()
    with recorded_warnings() as raised:
        surrogate.fit(ds, **({"case": case} if case is not None else {}))
    seconds = time.perf_counter() - start
    surrogate.save(out)
    write_fit_record(out, seconds, dataset, len(surrogate.training_ids_), raised)
    console.print(
        f"Fitted {model} on {len(surrogate.training_ids_)} samples ({surrogate.summary()}) "
        f"in {seconds:.1f} s; saved to [bold]{escape(str(out))}[/]"
    )


def _dask_options(
    surrogate: Surrogate,
    model: str,
    workers: int | None,
    scheduler: str | None,
    params: dict[str, Any],
) -> None:
    """Set ``fit``'s --workers/--scheduler on ``surrogate``; check them before any work.

    Only the kinds whose offline stage runs on Dask (a ``workers`` hyperparameter) take
    them; for another kind, or given also as -O options, they are refused in one line.
    The parallel settings however given (flags or -O) are checked here
    (:func:`nirom.distributed.check_workers`: an unreachable scheduler is one line).
    """
    from nirom.distributed import check_workers
    from nirom.surrogates.factory import names_taking

    given = {k: v for k, v in (("workers", workers), ("scheduler", scheduler)) if v is not None}
    if "workers" not in surrogate.get_params(deep=False):
        if given:
            on_dask = names_taking("workers")
            flags = "/".join(f"--{k}" for k in given)
            verb = "apply" if len(given) > 1 else "applies"
            raise ParameterError(
                f"{flags} {verb} to the kinds that run offline stages on Dask: "
                f"{', '.join(on_dask)}; {model} fits in this process"
            )
        return
    twice = sorted(set(given) & set(params))
    if twice:
        raise ParameterError(f"give {twice[0]} once: --{twice[0]} or -O, not both")
    chosen = {**surrogate.get_params(deep=False), **given}
    check_workers(chosen["workers"], chosen.get("scheduler"))
    surrogate.set_params(**given)


@app.command("train-rb")
def train_rb(
    case: Annotated[
        str,
        typer.Argument(
            help="Solver with an affine operator (thermal-block; elasticity -s parameters=lame; "
            "heat-transient: POD-greedy)."
        ),
    ],
    dataset: Annotated[Path, typer.Option("--dataset", "-d", help="Dataset the solves go to.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Model directory to write.")],
    basis: Annotated[int, typer.Option(help="Largest basis size (= solver runs).")] = 60,
    tolerance: Annotated[
        float | None, typer.Option(help="Stop when the largest relative bound is below it.")
    ] = None,
    candidates: Annotated[int, typer.Option(help="Random candidate parameters.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of the candidate set.")] = 0,
    workers: Annotated[
        int,
        typer.Option(
            "--workers", "-w", help="Local Dask worker processes for the solves (0: here)."
        ),
    ] = 0,
    scheduler: Scheduler = None,
    solver_option: Annotated[
        list[str] | None,
        typer.Option("--solver-option", "-s", help="NAME=VALUE solver option (repeatable)."),
    ] = None,
) -> None:
    """Train a certified reduced basis by the (POD-)greedy; rerun to resume."""
    from nirom.reduced_basis import weak_greedy
    from nirom.solvers import resolve_solver
    from nirom.surrogates.reduced_basis import RBSurrogate

    start = time.perf_counter()
    solver = resolve_solver(case, parse_pairs(solver_option, "solver option"))
    if solver.transient_decomposition() is not None:
        _train_transient(
            solver, dataset, out, basis, tolerance, candidates, seed, workers, scheduler
        )
        return
    result = weak_greedy(
        solver,
        dataset,
        max_basis=basis,
        tolerance=tolerance,
        n_candidates=candidates,
        seed=seed,
        workers=workers,
        scheduler=scheduler,
    )
    model = RBSurrogate.from_greedy(result)
    model.save(out)
    last = f"; largest relative bound {result.max_bounds[-1]:.3g}" if result.max_bounds else ""
    if result.converged:
        last += " (converged: the last solve added nothing to the basis)"
    console.print(
        f"Greedy: {result.solved} solves ({result.resumed} resumed), {model.summary()}{last}, "
        f"{time.perf_counter() - start:.1f} s; saved to [bold]{escape(str(out))}[/]"
    )


def _train_transient(
    solver: Any,
    dataset: Path,
    out: Path,
    basis: int,
    tolerance: float | None,
    candidates: int,
    seed: int,
    workers: int,
    scheduler: str | None,
) -> None:
    """``train-rb`` for a time-dependent solver: the POD-greedy, solved in this process."""
    from nirom.reduced_basis.pod_greedy import train_transient
    from nirom.surrogates.reduced_basis import RBSurrogate

    if workers or scheduler is not None:
        raise ParameterError(
            f"--workers/--scheduler: the POD-greedy of {solver.name} solves in this process"
        )
    start = time.perf_counter()
    result, ds, name, resumed = train_transient(
        solver, dataset, max_basis=basis, tolerance=tolerance, n_candidates=candidates, seed=seed
    )
    model = RBSurrogate.from_pod_greedy(result.model, ds, name)
    model.save(out)
    last = f"; largest relative L2 bound {result.max_bounds[-1]:.3g}" if result.max_bounds else ""
    if result.converged:
        last += " (converged: the last trajectory added nothing to the basis)"
    console.print(
        f"POD-greedy: {result.solved} solves ({resumed} resumed), {model.summary()}{last}, "
        f"{time.perf_counter() - start:.1f} s; saved to [bold]{escape(str(out))}[/]"
    )


@app.command()
def predict(
    model: ModelArg,
    param: Annotated[
        list[str],
        typer.Option(
            "--param",
            "-p",
            help="NAME=VALUE for every parameter; NAME=@FILE.npy for a field input.",
        ),
    ],
    out: Annotated[Path | None, typer.Option(help="Write the fields to this mesh file.")] = None,
    std: Annotated[bool, typer.Option("--std", help="Also predict standard deviations.")] = False,
    mesh: Annotated[
        Path | None,
        typer.Option(
            help="Predict on this mesh file: any mesh for models of varying geometry (mmgp), "
            "the training mesh's points and cells in any order for the others."
        ),
    ] = None,
) -> None:
    """Predict the fields for one parameter set."""
    existing_model(model)
    from nirom.evaluation.alignment import field_input_names
    from nirom.report.terminal import print_prediction
    from nirom.surrogates import Surrogate
    from nirom.surrogates.export import (
        match_geometry,
        read_geometry,
        takes_mesh,
        write_prediction,
        write_prediction_on,
    )

    surrogate = Surrogate.load(model)
    mu = {k: parameter_value(k, v) for k, v in parse_pairs(param).items()}
    geometry = None if mesh is None else read_geometry(surrogate, mesh)
    match = None
    if geometry is not None and not takes_mesh(surrogate):
        match = match_geometry(surrogate, geometry, what=str(mesh))
        mu = match.inputs([mu], field_input_names(surrogate))[0]
    start = time.perf_counter()
    if geometry is None or match is not None:
        result = surrogate.predict(mu, return_std=std)
    else:
        result = surrogate.predict(mu, return_std=std, mesh=geometry)
    seconds = time.perf_counter() - start
    mean, sd = result if std else (result, None)
    if match is not None:  # the training mesh's values in the file's point and cell order
        mean = match.to_target(mean, surrogate.fields_, batch=False)
        sd = None if sd is None else match.to_target(sd, surrogate.fields_, batch=False)
    print_prediction(mean, sd, seconds, console)
    if out is not None and geometry is not None:
        written = write_prediction_on(surrogate, geometry, out, mean, sd, scalars=mu)
        console.print(f"Wrote {', '.join(str(p) for p in written)}", highlight=False)
    elif out is not None:
        written = write_prediction(surrogate, out, mean, sd, scalars=mu, what="--out")
        console.print(f"Wrote {', '.join(str(p) for p in written)}", highlight=False)


@app.command()
def evaluate(
    model: ModelArg,
    dataset: Annotated[Path, typer.Argument(help="Test dataset.", metavar="DATASET")],
    as_json: JsonFlag = False,
    norm: Annotated[
        str,
        typer.Option(help="auto (FE L2 norm on the mesh) | euclidean (grid values, as papers)."),
    ] = "auto",
    field: Annotated[
        list[str] | None,
        typer.Option("--field", "-f", help="Evaluate this field only (repeatable)."),
    ] = None,
    time_solves: Annotated[
        int,
        typer.Option(
            "--time-solves",
            help="Solve this many test samples again with the dataset's recorded solver, so "
            "the speed-up compares times taken in this run (default: the recorded ones).",
        ),
    ] = 0,
) -> None:
    """Evaluate a model on a dataset's done samples (errors, coverage, speed-up)."""
    existing_model(model)
    from nirom.dataset import Dataset
    from nirom.evaluation.evaluate import evaluate as run_evaluation
    from nirom.report.terminal import print_evaluation
    from nirom.surrogates import Surrogate

    if time_solves < 0:
        raise ParameterError(f"--time-solves must be >= 0, got {time_solves}")
    report = run_evaluation(
        Surrogate.load(model),
        Dataset(dataset),
        norm=norm,
        fields=field or None,
        time_solves=time_solves,
    )
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        print_evaluation(report, str(model), console)


@app.command()
def refine(
    dataset: Annotated[
        Path, typer.Argument(help="Dataset made by nirom generate.", metavar="DATASET")
    ],
    model: Annotated[
        Path,
        typer.Argument(
            help="A model fitted on it, with error bars or an error indicator (pod-gp, "
            "mmgp, hrom).",
            metavar="MODEL",
        ),
    ],
    samples: Annotated[int, typer.Option("--samples", "-n", help="New solver runs.")],
    out: Annotated[
        Path | None, typer.Option(help="Where to save the refitted model (default: MODEL).")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            "-w",
            help="Local Dask worker processes (0: here; default: here when the run is small, "
            "else 2).",
        ),
    ] = None,
    candidates: Annotated[int, typer.Option(help="Candidate parameter sets scored.")] = 2048,
    seed: Annotated[int, typer.Option(help="Seed of the candidate set.")] = 0,
) -> None:
    """Solve new samples where the surrogate is least certain, then refit it."""
    existing_model(model)
    from nirom.dataset import Dataset
    from nirom.refinement import refine as run_refinement
    from nirom.surrogates import Surrogate

    surrogate = Surrogate.load(model)
    report = run_refinement(
        Dataset(dataset),
        surrogate,
        samples,
        n_candidates=candidates,
        seed=seed,
        workers=workers,
        console=console,
    )
    saved = report.model.save(out or model)
    console.print(
        f"Refined: solved {report.generation.solved}, failed {report.generation.failed} "
        f"(ids {report.ids[0]}..{report.ids[-1]}); refitted on "
        f"{len(report.model.training_ids_)} samples in {report.fit_s:.1f} s; saved to "
        f"[bold]{escape(str(saved))}[/]"
    )


@app.command()
def run(
    study: Annotated[Path, typer.Argument(help="Study TOML file.", metavar="STUDY")],
) -> None:
    """Run a whole study declared in a TOML file (see examples/thermal_block_study.toml)."""
    from nirom.study import load_study, run_study

    run_study(load_study(study), console=console)


# -- demo ------------------------------------------------------------------------
@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the demo's outputs.")] = Path(
        "nirom-demo"
    ),
    samples: Annotated[int, typer.Option("--samples", "-n", help="Training solver runs.")] = 64,
    test: Annotated[int, typer.Option(help="Held-out test solver runs.")] = 24,
    resolution: Annotated[int, typer.Option(help="Mesh cells per side of the unit square.")] = 48,
) -> None:
    """Run the demo study: solve a thermal block, fit and evaluate surrogates, plot."""
    from nirom.demo import run_demo

    run_demo(out, n_samples=samples, n_test=test, resolution=resolution, console=console)
