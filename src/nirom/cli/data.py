"""Verbs on datasets: info, import, export, PLAID import and export."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from nirom.cli.app import app, console
from nirom.cli.options import DatasetArg, JsonFlag, read_space_file

# zarr, SciPy and meshio are imported inside each verb, so that ``nirom --help``
# and usage errors start at once.


# -- info ----------------------------------------------------------------------
@app.command()
def info(
    dataset: DatasetArg,
    as_json: JsonFlag = False,
    check: Annotated[
        bool, typer.Option("--check", help="Read every chunk; name damaged samples (exit 1).")
    ] = False,
) -> None:
    """Describe a dataset: parameters, fields, sample counts, mesh, solve times, size."""
    from nirom.dataset.store import Dataset
    from nirom.report.terminal import print_dataset_summary

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


@app.command("import")
def import_(
    folder: Annotated[
        Path,
        typer.Argument(
            help="Folder of solver output files (VTU of any version, PVTU, any meshio format; "
            ".pvd or XDMF time series).",
            metavar="FOLDER",
        ),
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
    from nirom.dataset import import_folder

    ps = read_space_file(space) if space is not None else None
    ds = import_folder(folder, out, parameters_csv=params, fields=field, space=ps)
    console.print(
        f"Imported {len(ds)} samples with fields {', '.join(ds.fields)} into "
        f"[bold]{escape(str(ds.path))}[/]"
    )


@app.command()
def export(
    dataset: DatasetArg,
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
    from nirom.dataset import Dataset, export_sample

    ds = Dataset(dataset)
    ids = sample if sample else ds.sample_ids("done")
    written = []
    for i in ids:
        written += export_sample(ds, i, out / f"sample_{i:06d}.{fmt.lstrip('.')}", fields=field)
    console.print(f"Wrote {len(written)} file(s) to [bold]{escape(str(out))}[/]")


@app.command("plaid-export")
def plaid_export(
    dataset: DatasetArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="PLAID folder to create.")],
) -> None:
    """Export a dataset's done samples as a PLAID dataset (needs pyplaid: extra plaid)."""
    from nirom.dataset import Dataset
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
