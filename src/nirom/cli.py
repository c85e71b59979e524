"""The ``nirom`` command. Every verb is a thin layer over a Python function.

User mistakes (a bad path, a malformed file, a parameter out of bounds) print
one line naming the culprit and exit with status 1, without a traceback.
"""

from __future__ import annotations

import json
import sys
import time
import tomllib
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape

from nirom import __version__
from nirom.dataset import Dataset, export_sample, import_folder
from nirom.errors import ModelError, NiromError, ParameterError
from nirom.generation import generate as run_generation
from nirom.parameters import ParameterSpace
from nirom.report.terminal import (
    print_dataset_summary,
    print_evaluation,
    print_generation_report,
    print_prediction,
)
from nirom.solvers import solver_names
from nirom.surrogates.factory import MODELS

app = typer.Typer(
    name="nirom",
    help="Nonintrusive reduced-order and surrogate modelling for parametrized simulations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        console.print(f"nirom {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Sample a solver, reduce its snapshots, learn surrogates, evaluate them."""


# -- info ----------------------------------------------------------------------
@app.command()
def info(
    dataset: Annotated[Path, typer.Argument(help="Dataset directory.", metavar="DATASET")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Read every chunk; name damaged samples (exit 1).")
    ] = False,
) -> None:
    """Describe a dataset: parameters, fields, sample counts, mesh, solve times, size."""
    ds = Dataset(dataset)
    summary = ds.summary()
    if check:
        from nirom.dataset.repair import damaged_samples

        summary["damaged"] = {str(k): v for k, v in damaged_samples(ds).items()}
    if as_json:
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
    else:
        print_dataset_summary(summary, console)
    if check and not as_json:
        for sample_id, reason in summary["damaged"].items():
            console.print(f"  sample {sample_id}: {reason}", highlight=False, markup=False)
        n = len(summary["damaged"])
        verdict = (
            "every done sample reads back whole"
            if n == 0
            else (
                f"{n} damaged sample(s): `nirom generate ... --repair` (same command as "
                "before) solves them again"
            )
        )
        console.print(f"Check: {verdict}", highlight=False, markup=False)
    if check and summary["damaged"]:
        raise typer.Exit(1)


# -- import / export ---------------------------------------------------------------
def read_space_file(path: Path) -> ParameterSpace:
    """Parameter space from a TOML or JSON file with a ``parameters`` list.

    Each entry has ``name``, ``kind`` ("uniform" | "loguniform" | "field"),
    ``low``, ``high`` and optionally ``unit`` (and ``shape`` for fields).
    """
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except FileNotFoundError:
        raise ParameterError(f"{path}: parameter-space file not found") from None
    except (json.JSONDecodeError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ParameterError(f"{path}: not a readable parameter-space file ({exc})") from None
    try:
        return ParameterSpace.from_dict(data)
    except ParameterError as exc:
        raise ParameterError(f"{path}: {exc}") from None


@app.command("import")
def import_(
    folder: Annotated[
        Path,
        typer.Argument(help="Folder of solver output files (any meshio format).", metavar="FOLDER"),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Dataset to create.")],
    params: Annotated[
        Path | None,
        typer.Option(
            "--params", help="Parameter CSV with a 'file' column (default: FOLDER/parameters.csv)."
        ),
    ] = None,
    field: Annotated[
        list[str] | None,
        typer.Option("--field", "-f", help="Field to import (repeatable) (default: all)."),
    ] = None,
    space: Annotated[
        Path | None,
        typer.Option(
            "--space", help="Parameter-space file (TOML/JSON) with bounds (default: CSV min/max)."
        ),
    ] = None,
) -> None:
    """Import solver outputs plus a parameter CSV as a new dataset."""
    ps = read_space_file(space) if space is not None else None
    ds = import_folder(folder, out, parameters_csv=params, fields=field, space=ps)
    console.print(
        f"Imported {len(ds)} samples with fields {', '.join(ds.fields)} into "
        f"[bold]{escape(str(ds.path))}[/]"
    )


@app.command()
def export(
    dataset: Annotated[Path, typer.Argument(help="Dataset directory.", metavar="DATASET")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the files into.")],
    sample: Annotated[
        list[int] | None,
        typer.Option("--sample", "-s", help="Sample id (repeatable) (default: all done)."),
    ] = None,
    field: Annotated[
        list[str] | None,
        typer.Option("--field", "-f", help="Field to export (repeatable) (default: all)."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="File extension meshio writes.")] = "vtu",
) -> None:
    """Export samples as mesh files (VTU by default) for ParaView."""
    ds = Dataset(dataset)
    ids = sample if sample else ds.sample_ids("done")
    written = []
    for i in ids:
        written += export_sample(ds, i, out / f"sample_{i:06d}.{fmt.lstrip('.')}", fields=field)
    console.print(f"Wrote {len(written)} file(s) to [bold]{escape(str(out))}[/]")


@app.command("plaid-export")
def plaid_export(
    dataset: Annotated[Path, typer.Argument(help="Dataset directory.", metavar="DATASET")],
    out: Annotated[Path, typer.Option("--out", "-o", help="PLAID folder to create.")],
) -> None:
    """Export a dataset's done samples as a PLAID dataset (needs pyplaid: extra plaid)."""
    from nirom.dataset.plaid import export_plaid

    ds = Dataset(dataset)
    export_plaid(ds, out)
    console.print(f"Wrote {len(ds.sample_ids())} PLAID samples to [bold]{escape(str(out))}[/]")


@app.command("plaid-import")
def plaid_import(
    folder: Annotated[Path, typer.Argument(help="PLAID folder (samples/sample_*).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Dataset to create.")],
    inputs: Annotated[
        list[str],
        typer.Option("--input", "-i", help="Global that is an input parameter (repeatable)."),
    ],
) -> None:
    """Import a PLAID dataset (triangle meshes) as a dataset with a mesh per sample."""
    from nirom.dataset.plaid import import_plaid

    ds = import_plaid(folder, out, inputs)
    console.print(f"Imported {len(ds.sample_ids())} samples into [bold]{escape(str(out))}[/]")


# -- generate ---------------------------------------------------------------------------
def _parse_pairs(items: list[str] | None, what: str = "parameter") -> dict[str, Any]:
    """NAME=VALUE pairs; values are read as JSON (numbers, lists, booleans), else text."""
    options: dict[str, Any] = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"{what} {item!r}: expected NAME=VALUE")
        if name.strip() in options:
            raise ParameterError(f"{what} {name.strip()!r} given twice")
        try:
            options[name.strip()] = json.loads(text)
        except json.JSONDecodeError:
            options[name.strip()] = text
    return options


@app.command()
def generate(
    case: Annotated[
        str,
        typer.Argument(
            help=f"Built-in solver ({', '.join(solver_names())}) or a command-solver TOML file.",
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
        int,
        typer.Option("--workers", "-w", help="Local Dask worker processes (0: in this process)."),
    ] = 2,
    scheduler: Annotated[
        str | None, typer.Option(help="Address of a running Dask scheduler to use instead.")
    ] = None,
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
    report = run_generation(
        case,
        out,
        samples,
        design=design,
        seed=seed,
        workers=workers,
        scheduler=scheduler,
        retry_failed=retry_failed,
        solver_options=_parse_pairs(solver_option, "solver option"),
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
) -> None:
    """Fit a surrogate on a dataset's done samples and save it."""
    from nirom.report.card import write_fit_record
    from nirom.surrogates import make_surrogate

    params = _parse_pairs(option, "model option")
    truncation = {
        k: v
        for k, v in (("n_modes", modes), ("discarded_energy", discarded_energy))
        if v is not None
    }
    if truncation and not model.startswith("pod-"):
        raise ParameterError(f"--modes/--energy set POD truncation; {model} takes -O options")
    if set(truncation) & set(params) or ("discarded_energy" in truncation and "energy" in params):
        raise ParameterError("give the POD truncation once: --modes/--energy or -O, not both")
    params.update(truncation)
    surrogate = make_surrogate(model, **params)  # checks every option before reading data
    ds = Dataset(dataset)
    start = time.perf_counter()
    surrogate.fit(ds)
    seconds = time.perf_counter() - start
    surrogate.save(out)
    write_fit_record(out, seconds, dataset, len(surrogate.training_ids_))
    console.print(
        f"Fitted {model} on {len(surrogate.training_ids_)} samples ({surrogate.summary()}) "
        f"in {seconds:.1f} s; saved to [bold]{escape(str(out))}[/]"
    )


@app.command("train-rb")
def train_rb(
    case: Annotated[str, typer.Argument(help="Solver with an affine operator (thermal-block).")],
    dataset: Annotated[Path, typer.Option("--dataset", "-d", help="Dataset the solves go to.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Model directory to write.")],
    basis: Annotated[int, typer.Option(help="Largest basis size (= solver runs).")] = 60,
    tolerance: Annotated[
        float | None, typer.Option(help="Stop when the largest relative bound is below it.")
    ] = None,
    candidates: Annotated[int, typer.Option(help="Random candidate parameters.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of the candidate set.")] = 0,
    workers: Annotated[int, typer.Option(help="Dask workers for the solves (0: here).")] = 0,
    solver_option: Annotated[
        list[str] | None,
        typer.Option("--solver-option", "-s", help="NAME=VALUE solver option (repeatable)."),
    ] = None,
) -> None:
    """Train a certified reduced basis by the weak greedy; rerun to resume."""
    from nirom.reduced_basis import weak_greedy
    from nirom.surrogates.reduced_basis import RBSurrogate

    start = time.perf_counter()
    result = weak_greedy(
        case,
        dataset,
        max_basis=basis,
        tolerance=tolerance,
        n_candidates=candidates,
        seed=seed,
        solver_options=_parse_pairs(solver_option, "solver option"),
        workers=workers,
    )
    model = RBSurrogate.from_greedy(result)
    model.save(out)
    last = f"; largest relative bound {result.max_bounds[-1]:.3g}" if result.max_bounds else ""
    console.print(
        f"Greedy: {result.solved} solves ({result.resumed} resumed), {model.summary()}{last}, "
        f"{time.perf_counter() - start:.1f} s; saved to [bold]{escape(str(out))}[/]"
    )


@app.command()
def predict(
    model: Annotated[Path, typer.Argument(help="Model directory.", metavar="MODEL")],
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
        typer.Option(help="Predict on this mesh file (models of varying geometry: mmgp)."),
    ] = None,
) -> None:
    """Predict the fields for one parameter set."""
    from nirom.surrogates import Surrogate
    from nirom.surrogates.export import read_geometry, write_prediction, write_prediction_on

    surrogate = Surrogate.load(model)
    mu = {k: _parameter_value(k, v) for k, v in _parse_pairs(param).items()}
    geometry = None if mesh is None else read_geometry(surrogate, mesh)
    start = time.perf_counter()
    if geometry is None:
        result = surrogate.predict(mu, return_std=std)
    else:
        result = surrogate.predict(mu, return_std=std, mesh=geometry)
    seconds = time.perf_counter() - start
    mean, sd = result if std else (result, None)
    print_prediction(mean, sd, seconds, console)
    if out is not None and geometry is not None:
        written = write_prediction_on(surrogate, geometry, out, mean, sd, scalars=mu)
        console.print(f"Wrote {', '.join(str(p) for p in written)}", highlight=False)
    elif out is not None:
        written = write_prediction(surrogate, out, mean, sd, scalars=mu, what="--out")
        console.print(f"Wrote {', '.join(str(p) for p in written)}", highlight=False)


def _parameter_value(name: str, value: Any) -> Any:
    """A number, or a field input read from ``@FILE.npy`` (no pickle)."""
    if isinstance(value, str) and value.startswith("@"):
        path = Path(value[1:])
        try:
            value = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ParameterError(f"parameter {name!r}: cannot read {path} ({exc})") from None
        if not isinstance(value, np.ndarray):
            value.close()
            raise ParameterError(f"parameter {name!r}: {path} holds several arrays; give a .npy")
        return value
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    return float(value) if numeric else value  # true/false/text: refused by the model's space


@app.command()
def evaluate(
    model: Annotated[Path, typer.Argument(help="Model directory.", metavar="MODEL")],
    dataset: Annotated[Path, typer.Argument(help="Test dataset.", metavar="DATASET")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    norm: Annotated[
        str,
        typer.Option(help="auto (FE L2 norm on the mesh) | euclidean (grid values, as papers)."),
    ] = "auto",
) -> None:
    """Evaluate a model on a dataset's done samples (errors, coverage, speed-up)."""
    from nirom.evaluation.evaluate import evaluate as run_evaluation
    from nirom.surrogates import Surrogate

    report = run_evaluation(Surrogate.load(model), Dataset(dataset), norm=norm)
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        print_evaluation(report, str(model), console)


@app.command()
def refine(
    dataset: Annotated[
        Path, typer.Argument(help="Dataset made by nirom generate.", metavar="DATASET")
    ],
    model: Annotated[Path, typer.Argument(help="A pod-gp model fitted on it.", metavar="MODEL")],
    samples: Annotated[int, typer.Option("--samples", "-n", help="New solver runs.")],
    out: Annotated[
        Path | None, typer.Option(help="Where to save the refitted model (default: MODEL).")
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", "-w", help="Local Dask worker processes (0: here).")
    ] = 2,
    candidates: Annotated[int, typer.Option(help="Candidate parameter sets scored.")] = 2048,
    seed: Annotated[int, typer.Option(help="Seed of the candidate set.")] = 0,
) -> None:
    """Solve new samples where the surrogate is least certain, then refit it."""
    from nirom.refinement import refine as run_refinement
    from nirom.surrogates import Surrogate

    surrogate = Surrogate.load(model)
    if not surrogate.provides_std:
        raise ModelError(
            f"{model}: refine needs a pod-gp model (it uses the error bars); "
            f"this {surrogate.kind} model has none"
        )
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


_DIST_HELP = "NAME=KIND(ARGS) input distribution (repeatable), e.g. -d 'k_0=normal(1, 0.1)'."
_QUANTITY_HELP = (
    "Quantity of interest (repeatable): max(u), mean(u), mean(u, 0:0.5, 0:1), u[17], at(u, x, y)."
)


@app.command()
def uq(
    model: Annotated[Path, typer.Argument(help="Model directory.", metavar="MODEL")],
    dist: Annotated[list[str] | None, typer.Option("--dist", "-d", help=_DIST_HELP)] = None,
    samples: Annotated[int, typer.Option("--samples", "-n", help="Input samples.")] = 4096,
    method: Annotated[str, typer.Option(help="qmc (scrambled Sobol) | mc.")] = "qmc",
    quantity: Annotated[
        list[str] | None, typer.Option("--quantity", "-q", help=_QUANTITY_HELP)
    ] = None,
    quantile: Annotated[
        list[float] | None,
        typer.Option(help="Quantile level (repeatable) (default 0.05 0.5 0.95)."),
    ] = None,
    surrogate_error: Annotated[
        bool, typer.Option(help="Also sample the model's error bars (when it has them).")
    ] = True,
    seed: Annotated[int, typer.Option(help="Seed of the samples.")] = 0,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Results folder.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Propagate input distributions through a model: field and quantity statistics."""
    from nirom.apps.results import jsonable
    from nirom.apps.uq import propagate
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
        surrogate_error=surrogate.provides_std and surrogate_error,
    )
    paths = result.save(_results_dir(out, model, "uq"), surrogate.mesh_)
    _show(result.summary(), print_uq, as_json, jsonable, paths)


def _show(summary: dict, printer: Any, as_json: bool, jsonable: Any, paths: list[Path]) -> None:
    if as_json:
        sys.stdout.write(json.dumps(jsonable(summary), indent=2) + "\n")
        return
    printer(jsonable(summary), console)
    console.print(f"Wrote {len(paths)} file(s) to [bold]{escape(str(paths[0].parent))}[/]")


@app.command()
def sensitivity(
    model: Annotated[Path, typer.Argument(help="Model directory.", metavar="MODEL")],
    dist: Annotated[list[str] | None, typer.Option("--dist", "-d", help=_DIST_HELP)] = None,
    quantity: Annotated[
        list[str] | None, typer.Option("--quantity", "-q", help=_QUANTITY_HELP)
    ] = None,
    n_base: Annotated[
        int, typer.Option(help="Base samples N (a power of 2); N (dim + 2) evaluations.")
    ] = 1024,
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples of the intervals.")] = 100,
    maps: Annotated[bool, typer.Option(help="Index maps of every field value.")] = True,
    seed: Annotated[int, typer.Option(help="Seed of the design and the bootstrap.")] = 0,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Results folder.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Sobol indices (first order, total, bootstrap intervals) of quantities and per node."""
    from nirom.apps.results import jsonable
    from nirom.apps.sensitivity import sobol_indices
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
    model: Annotated[Path, typer.Argument(help="Model directory.", metavar="MODEL")],
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
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Results folder.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Optimise quantities of a model (default: minimise the max of its first field)."""
    from nirom.apps.optimization import optimize as run_optimize
    from nirom.apps.optimization import optimize_verified, pareto_front
    from nirom.apps.results import jsonable
    from nirom.report.uses import print_optimization
    from nirom.surrogates import Surrogate

    surrogate = Surrogate.load(model)
    objectives = {q: "min" for q in minimize or []} | {q: "max" for q in maximize or []}
    fixed = _parse_pairs(fix, "fixed parameter")
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
    paths = result.save(_results_dir(out, model, "optimize"))
    _show(result.summary(), print_optimization, as_json, jsonable, paths)


@app.command()
def calibrate(
    model: Annotated[Path, typer.Argument(help="Model directory.", metavar="MODEL")],
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
    seed: Annotated[int, typer.Option(help="Seed of the sampler.")] = 0,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Results folder.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Bayesian calibration of a model's parameters to observations (emcee)."""
    from nirom.apps.calibration import calibrate as run_calibration
    from nirom.apps.results import jsonable
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
        surrogate_error=surrogate.provides_std and surrogate_error,
        seed=seed,
    )
    paths = result.save(_results_dir(out, model, "calibrate"))
    _show(result.summary(), print_calibration, as_json, jsonable, paths)


@app.command()
def report(
    model: Annotated[Path, typer.Argument(help="Model directory.", metavar="MODEL")],
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
            help="Folder of uq / sensitivity / optimize / calibrate "
            "results to include (repeatable).",
        ),
    ] = None,
    study: Annotated[Path | None, typer.Option(help="Study TOML file to show.")] = None,
) -> None:
    """Write a self-contained HTML report of a model on a test dataset."""
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
    model: Annotated[Path, typer.Argument(help="Model directory.", metavar="MODEL")],
    host: Annotated[
        str, typer.Option(help="Address to bind (localhost by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    max_batch: Annotated[int, typer.Option(help="Parameter sets per request at most.")] = 1000,
    max_body: Annotated[int, typer.Option(help="Request body size at most, in bytes.")] = 1_000_000,
    batching: Annotated[
        bool, typer.Option(help="Predict together the requests that arrive together.")
    ] = True,
) -> None:
    """Serve a model over HTTP: POST /predict, GET /model, GET /health."""
    from nirom.serve import serve as run_server

    if host not in ("127.0.0.1", "localhost", "::1"):
        err_console.print(f"[yellow]warning:[/] serving on {host}: reachable beyond this machine")
    console.print(f"Serving {escape(str(model))} on http://{host}:{port} (Ctrl-C stops)")
    run_server(model, host, port, max_body_bytes=max_body, max_batch=max_batch, batching=batching)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``nirom`` command; returns the exit status.

    Click's standalone mode handles usage errors (status 2) and ``--help``;
    a :class:`NiromError` becomes one line on stderr and status 1.
    """
    try:
        app(args=argv, prog_name="nirom")
    except NiromError as exc:
        _error_line(str(exc))
        return 1
    except OSError as exc:  # a full disk, a read-only folder, no permission, ...
        _error_line(os_error_line(exc))
        return 1
    except KeyboardInterrupt:  # raised outside Typer's own handling (e.g. at teardown)
        _error_line(INTERRUPTED)
        return 130
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if code == 130:  # Typer's answer to Ctrl-C: it prints nothing
            _error_line(INTERRUPTED)
        return code
    return 0


INTERRUPTED = "interrupted (Ctrl-C); what was written before is kept: run the command again"


def os_error_line(exc: OSError) -> str:
    """One line naming the path and the cause: ``/data/tb.nirom: No space left on device``."""
    cause = exc.strerror or str(exc) or type(exc).__name__
    path = exc.filename if exc.filename is not None else None
    return f"{path}: {cause}" if path is not None else cause


def _error_line(text: str) -> None:
    err_console.print(f"[bold red]error:[/] {escape(text)}", highlight=False, soft_wrap=True)


if __name__ == "__main__":
    sys.exit(main())
