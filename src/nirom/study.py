"""A whole study in one TOML file: solver, designs, surrogates, evaluation.

::

    out = "study"                       # folder for datasets, models, report
                                        # (relative to this file)
    [solver]
    name = "thermal-block"              # a built-in solver, or
    # config = "solver.toml"            # a command-solver file
    options = { resolution = 96 }

    [train]                             # the training design
    samples = 200
    design = "sobol"
    seed = 0

    [test]                              # held-out samples (optional)
    samples = 50
    design = "random"
    seed = 1

    [generation]                        # also hrom's offline stage (on Dask),
    workers = 2                         # 0: in this process; left out: nirom chooses
    # scheduler = "tcp://host:8786"     # unless its options give workers/scheduler

    [[surrogates]]
    model = "pod-gp"                    # pod-gp | pod-rbf | pod-mlp
    discarded_energy = 1e-6             # or modes = 20 ("energy": the old name)
    # input_modes = 64                  # PCA coefficients per field input
    # options = { n_restarts = 2 }      # the regressor's options

    [[surrogates]]
    model = "fno"                       # fno | deeponet: options are hyperparameters
    options = { modes = 16, width = 32, epochs = 100 }

    [evaluation]
    level = 0.95
    norm = "auto"                       # or "euclidean" (grid values)

    [uq]                                # uses of a surrogate, each optional; see
    [sensitivity]                       # nirom.apps.sections for their keys
    [optimize]
    [calibrate]
    [report]                            # OUT/report.html

:func:`run_study` generates (resuming) the datasets, fits and saves every
surrogate, evaluates each on the test set (or the training set when there is
none, which the report says), prints the comparison, and writes
``report.json`` and the plots into ``out``, then runs the use sections
present (results in ``out/<section>/``). ``nirom run STUDY.toml`` is the
same from the shell; the demo is a study too.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.markup import escape

from nirom.apps.sections import check_quantities, check_sections, run_sections
from nirom.dataset import Dataset
from nirom.documents import read_document
from nirom.errors import NiromError, StudyError
from nirom.evaluation.evaluate import evaluate
from nirom.generation import generate
from nirom.parameters import DESIGNS
from nirom.report.card import write_fit_record
from nirom.report.html import write_report
from nirom.report.plots import (
    error_vs_modes,
    plot_error_vs_modes,
    plot_field_comparison,
    plot_singular_values,
)
from nirom.report.terminal import print_model_comparison
from nirom.solvers import Solver, resolve_solver
from nirom.surrogates import MODELS, Surrogate, make_surrogate

#: Keys of a [[surrogates]] entry that set a POD model's hyperparameters.
_POD_KEYS = ("modes", "discarded_energy", "energy", "input_modes")


def load_study(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check a study TOML file; relative paths become relative to it."""
    path = Path(path)
    config = read_document(
        path,
        StudyError,
        toml=True,
        missing="study file not found",
        unreadable="not a readable TOML file",
    )
    config["_base"] = str(path.resolve().parent)
    config["_path"] = str(path.resolve())
    check_study(config, str(path))
    return config


def check_study(config: Mapping[str, Any], where: str = "study") -> None:
    """Raise :class:`StudyError` naming the first wrong or missing entry."""
    solver = _table(config, "solver", where)
    if ("name" in solver) == ("config" in solver):
        raise StudyError(f"{where}: [solver] needs exactly one of 'name' or 'config'")
    for part in ("train", "test"):
        if part == "test" and part not in config:
            continue
        design = _table(config, part, where)
        if not isinstance(design.get("samples"), int) or design["samples"] < 1:
            raise StudyError(f"{where}: [{part}] samples must be a positive integer")
        if design.get("design", "sobol") not in DESIGNS:
            raise StudyError(f"{where}: [{part}] design must be one of {', '.join(DESIGNS)}")
    surrogates = config.get("surrogates")
    if not isinstance(surrogates, list) or not surrogates:
        raise StudyError(f"{where}: needs at least one [[surrogates]] entry")
    for entry in surrogates:
        if entry.get("model") not in MODELS:
            raise StudyError(
                f"{where}: surrogate model {entry.get('model')!r}; choose {', '.join(MODELS)}"
            )
        extra = set(entry) - {"model", *_POD_KEYS, "options"}
        if extra:
            raise StudyError(f"{where}: unknown surrogate entry key(s) {sorted(extra)}")
        try:
            _surrogate(entry, config.get("generation"))  # unfitted: checked before any solve
        except NiromError as exc:
            raise StudyError(f"{where}: {exc}") from None
    if "test" in config:
        train, test = config["train"], config["test"]
        same = [train.get(k, d) == test.get(k, d) for k, d in (("design", "sobol"), ("seed", 0))]
        if all(same):
            raise StudyError(
                f"{where}: [test] has the design and seed of [train], so its samples would "
                "repeat the training ones; give [test] another seed"
            )
    norm = config.get("evaluation", {}).get("norm", "auto")
    if norm not in ("auto", "euclidean"):
        raise StudyError(f"{where}: [evaluation] norm must be 'auto' or 'euclidean', got {norm!r}")
    check_sections(config, where)


def _table(config: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = config.get(key)
    if not isinstance(value, Mapping):
        raise StudyError(f"{where}: missing [{key}] table")
    return value


def run_study(
    config: Mapping[str, Any], solver: Solver | None = None, console: Console | None = None
) -> dict[str, Any]:
    """Run a checked study; return its datasets, models and evaluation reports."""
    console = console or Console()
    base = Path(config.get("_base", "."))
    out = base / config.get("out", "study")
    solver = solver or _solver(config, base)
    check_quantities(config, {f.name: f for f in solver.fields}, solver.mesh, "study")
    gen = dict(config.get("generation", {}))
    train = _generate(solver, out / "train.nirom", config["train"], gen, console)
    test = (
        _generate(solver, out / "test.nirom", config["test"], gen, console)
        if "test" in config
        else None
    )
    evaluated_on = test if test is not None else train
    if test is None:
        console.print("[yellow]No [test] samples: errors are on the training set[/]")
    level = float(config.get("evaluation", {}).get("level", 0.95))
    norm = str(config.get("evaluation", {}).get("norm", "auto"))
    models, reports = {}, {}
    unfitted = [_surrogate(entry, gen) for entry in config["surrogates"]]
    for model in unfitted:  # every model's data needs, before the first fit
        model.check_data(train)
    for entry, model in zip(config["surrogates"], unfitted, strict=True):
        label = entry["model"]
        start = time.perf_counter()
        model.fit(train)
        fit_s = time.perf_counter() - start
        model.save(out / f"{label}.model")
        write_fit_record(out / f"{label}.model", fit_s, train.path, len(model.training_ids_))
        models[label] = model
        report = evaluate(model, evaluated_on, level=level, norm=norm)
        reports[label] = {**report, "fit_s": fit_s}
    print_model_comparison(reports, console)
    (out / "report.json").write_text(json.dumps(reports, indent=2), encoding="utf-8")
    plots = write_plots(models, evaluated_on, out)
    for path in [out / "report.json", *plots]:
        console.print(f"Wrote {path}")
    uses, folders = run_sections(config, models, train, solver, out, console)
    if "report" in config and test is not None:
        uses["report"] = _write_report(config, models, train, test, out, folders, console)
    return {"train": train, "test": test, "models": models, "reports": reports, "uses": uses}


def _write_report(
    config: Mapping[str, Any],
    models: Mapping[str, Surrogate],
    train: Dataset,
    test: Dataset,
    out: Path,
    folders: list[Path],
    console: Console,
) -> Path:
    """The ``[report]`` section: ``OUT/report.html`` on the test set, with the results
    of the use sections written to ``folders``; its path."""
    label = config["report"].get("model", next(iter(models)))
    path = write_report(
        models[label],
        test,
        out / "report.html",
        model_path=out / f"{label}.model",
        train=train,
        results=folders,
        study=config.get("_path"),
    )
    console.print(escape(f"[report] wrote {path}"))
    return path


def _surrogate(entry: Mapping[str, Any], generation: Mapping[str, Any] | None = None) -> Surrogate:
    """POD models: modes, discarded energy and regressor options; the others: options.

    Kinds whose offline stage runs on Dask (a ``workers`` hyperparameter: hrom) take the
    study's ``[generation]`` workers and scheduler, unless their options give them.
    """
    options = dict(entry.get("options") or {})
    if entry["model"].startswith("pod-"):
        keys = {"modes": "n_modes", "discarded_energy": "discarded_energy", "energy": "energy"}
        keys["input_modes"] = "input_modes"
        given = {param: entry[key] for key, param in keys.items() if key in entry}
        return make_surrogate(entry["model"], regressor_params=options, **given)
    if set(_POD_KEYS) & set(entry):
        raise StudyError(
            f"surrogate {entry['model']}: {'/'.join(_POD_KEYS)} are POD keys; use options"
        )
    model = make_surrogate(entry["model"], **options)
    if "workers" in model.get_params(deep=False):
        keys = {"workers", "scheduler"} - set(options)
        model.set_params(**{k: v for k, v in (generation or {}).items() if k in keys})
        model.check_params()
    return model


def _solver(config: Mapping[str, Any], base: Path) -> Solver:
    spec = config["solver"]
    if "config" in spec:
        return resolve_solver(base / spec["config"])
    return resolve_solver(spec["name"], spec.get("options"))


def _generate(
    solver: Solver, path: Path, design: Mapping[str, Any], gen: Mapping[str, Any], console: Console
) -> Dataset:
    report = generate(
        solver,
        path,
        design["samples"],
        design=design.get("design", "sobol"),
        seed=design.get("seed", 0),
        workers=gen.get("workers"),
        scheduler=gen.get("scheduler"),
        console=console,
    )
    console.print(
        f"{path.name}: solved {report.solved} sample(s), {report.skipped} already on disk, "
        f"{report.failed} failed ({report.wall_time_s:.1f} s)"
    )
    return report.dataset


def write_plots(models: dict[str, Surrogate], data: Dataset, out: Path) -> list[Path]:
    """Field comparison of the worst sample, singular values, error against modes.

    For the models with a reduced basis (POD) of scalar-parameter studies; uses
    the first point field; the field plot needs a 2-D triangle or quad mesh.
    """
    name = next((n for n, s in data.fields.items() if s.location == "point"), None)
    if name is None or data.mesh is None or data.space.field_inputs:
        return []
    models = {k: m for k, m in models.items() if m.capabilities.coordinates}
    if not models:
        return []
    ids, x, reference = data.sample_ids(), data.parameters(), data.field(name)
    flat = reference.reshape(len(ids), -1)
    first = next(iter(models.values()))
    paths = [
        plot_singular_values(
            {f"{name} (training snapshots)": first.reduced_basis(name).singular_values_},
            out / f"{name}_singular_values.png",
        )
    ]
    mass = data.mesh.mass_matrix() if data.fields[name].components == 1 else None
    if data.fields[name].components == 1 and data.fields[name].times is None:
        curves = {
            label: error_vs_modes(m.reduced_basis(name), m.predict_coordinates(name, x), flat, mass)
            for label, m in models.items()
        }
        paths.append(plot_error_vs_modes(curves, out / f"{name}_error_vs_modes.png"))
        label, model = next(
            ((k, m) for k, m in models.items() if m.capabilities.std), (None, first)
        )
        worst = int(np.argmax(np.linalg.norm(model.predict(x)[name] - reference, axis=1)))
        mean, std = (
            model.predict(x[worst : worst + 1], return_std=True)
            if label
            else (model.predict(x[worst : worst + 1]), None)
        )
        with contextlib.suppress(ValueError):  # not a 2-D triangle/quad mesh
            paths.append(
                plot_field_comparison(
                    data.mesh,
                    reference[worst],
                    mean[name][0],
                    None if std is None else std[name][0],
                    out / f"{name}_worst_sample.png",
                    title=f"{label or 'model'} on sample {ids[worst]} (its worst)",
                    field=name,
                    unit=data.fields[name].unit,
                )
            )
    return paths
