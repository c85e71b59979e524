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
) -> None:
    """Describe a dataset: parameters, fields, sample counts, mesh, solve times, size."""
    summary = Dataset(dataset).summary()
    if as_json:
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
    else:
        print_dataset_summary(summary, console)


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


# -- generate ---------------------------------------------------------------------------
def _parse_pairs(items: list[str] | None, what: str = "parameter") -> dict[str, Any]:
    """NAME=VALUE pairs; values are read as JSON (numbers, lists, booleans), else text."""
    options: dict[str, Any] = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"{what} {item!r}: expected NAME=VALUE")
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
    )
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
    console.print(
        f"Fitted {model} on {len(surrogate.training_ids_)} samples ({surrogate.summary()}) "
        f"in {seconds:.1f} s; saved to [bold]{escape(str(out))}[/]"
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
) -> None:
    """Predict the fields for one parameter set."""
    from nirom.surrogates import Surrogate
    from nirom.surrogates.export import write_prediction

    surrogate = Surrogate.load(model)
    mu = {k: _parameter_value(k, v) for k, v in _parse_pairs(param).items()}
    start = time.perf_counter()
    result = surrogate.predict(mu, return_std=std)
    seconds = time.perf_counter() - start
    mean, sd = result if std else (result, None)
    print_prediction(mean, sd, seconds, console)
    if out is not None:
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
    return float(value) if isinstance(value, (int, float)) else value


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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``nirom`` command; returns the exit status.

    Click's standalone mode handles usage errors (status 2) and ``--help``;
    a :class:`NiromError` becomes one line on stderr and status 1.
    """
    try:
        app(args=argv, prog_name="nirom")
    except NiromError as exc:
        err_console.print(
            f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        return 1
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
