"""Generation: sample a parameter space and run a solver for every sample, on Dask.

Each sample is solved and written to the dataset by whichever process ran it,
with its solve time in seconds. A sample id is its index in the design, so a
run killed at any moment is resumed by running the same command again: done
samples are skipped, missing ones run, failed ones rerun with
``retry_failed``. Solver failures are recorded per sample with their reason.
"""

from __future__ import annotations

import errno
import json
import os
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from rich import get_console
from rich.console import Console

from nirom.dataset import Dataset
from nirom.dataset.publish import clean_locks
from nirom.dataset.repair import damaged_samples, mark_damaged
from nirom.distributed import (
    CLUSTER_START_S,
    DEFAULT_WORKERS,
    check_workers,
    cluster_pays,
    dask_client,
    worker_failure,
)
from nirom.errors import DatasetError, NiromError, ParameterError, SampleExistsError
from nirom.parameters import DESIGNS, ParameterSpace
from nirom.progress import SolveProgress
from nirom.solvers import Solver, SolverError, make_solver, resolve_solver
from nirom.solvers.base import REPORTED_SOLVE_TIME

# Designs whose first m points do not depend on the total n: a run may grow them.
_PREFIX_STABLE = ("sobol", "random")


@dataclass
class Outcome:
    """What happened to one sample in a generation run."""

    id: int
    status: str  # "done" | "failed" | "skipped"
    seconds: float = 0.0
    error: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass
class GenerationReport:
    """Summary of a generation run; ``failures`` lists (sample id, reason)."""

    dataset: Dataset
    solved: int = 0
    failed: int = 0
    skipped: int = 0
    wall_time_s: float = 0.0
    solve_times_s: list[float] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)
    repaired: list[int] = field(default_factory=list)  # damaged samples solved again
    warnings: list[tuple[int, str]] = field(default_factory=list)  # (sample id, warning)
    ran_on: str = ""  # "process" (this one) or "dask" (workers or a scheduler); "" if nothing


def generate(
    solver: str | os.PathLike[str] | Solver,
    out: str | os.PathLike[str],
    n_samples: int,
    *,
    space: ParameterSpace | None = None,
    design: str = "sobol",
    seed: int = 0,
    workers: int | None = None,
    scheduler: str | None = None,
    retry_failed: bool = False,
    solver_options: Mapping[str, Any] | None = None,
    console: Console | None = None,
    operators: bool = False,
    repair: bool = False,
) -> GenerationReport:
    """Run ``solver`` on ``n_samples`` design points and store them in dataset ``out``.

    Parameters
    ----------
    solver : str, path or Solver
        A built-in solver name (``"thermal-block"``), a CommandSolver TOML
        file, or a solver object.
    out : path
        Dataset to create, or to resume if it was made by the same generation.
    n_samples : int
        Size of the design; sample ids are the design indices ``0..n-1``.
    space : ParameterSpace, optional
        A sub-space of the solver's (same names, bounds inside the solver's);
        default the solver's own.
    design, seed
        The design ("sobol", "lhs", "random", "grid") and its seed.
    workers : int, optional
        Worker processes of the local Dask cluster; 0 runs in this process; None
        (default) chooses by the work (:func:`solve_samples`).
    scheduler : str, optional
        Address of an existing Dask scheduler to run on instead.
    retry_failed : bool
        Rerun samples recorded as failed (default: leave them failed).
    solver_options : mapping, optional
        Keyword options of a built-in solver (e.g. ``{"resolution": 96}``).
    console : rich Console, optional
        Where the progress bar goes; ``Console(quiet=True)`` for none.
    operators : bool
        Also store each sample's system matrix and right-hand side
        (:mod:`nirom.dataset.operators`; linear solvers that give them).
    repair : bool
        First read every done sample back (:func:`nirom.dataset.repair.damaged_samples`)
        and solve again those damaged on disk (reported in ``report.repaired``).
    """
    start = time.perf_counter()
    check_workers(workers, scheduler)  # before anything is solved or created
    solver = resolve_solver(solver, solver_options)
    space = _check_space(solver, space)
    design_x = _design(space, n_samples, design, seed)
    provenance = _provenance(
        solver, design, seed, n_samples, in_process=workers == 0 and not scheduler
    )
    if operators:
        provenance["generation"]["operators"] = True
    ds = _open_or_create(Path(out), solver, space, provenance)
    repaired = _mark_damaged(ds) if repair else []
    statuses = ds.statuses()
    todo, skipped = [], 0
    for i, row in enumerate(design_x):
        status = statuses.get(i)
        rerun = retry_failed or i in repaired
        if status == "done" or (status == "failed" and not rerun):
            _check_design_point(ds, i, row, space)
            skipped += 1
        else:
            todo.append((i, space.as_dict(row)))
    report = solve_samples(
        solver, ds, todo, workers=workers, scheduler=scheduler, console=console, seed=seed
    )
    report.skipped += skipped
    report.repaired = repaired
    report.wall_time_s = time.perf_counter() - start
    return report


def _mark_damaged(ds: Dataset) -> list[int]:
    """Ids of the done samples found damaged, each turned into a failed record."""
    found = damaged_samples(ds)
    for sample_id, reason in found.items():
        mark_damaged(ds, sample_id, reason)
    return sorted(found)


def solve_samples(
    solver: Solver,
    ds: Dataset,
    todo: list[tuple[int, dict[str, Any]]],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    console: Console | None = None,
    seed: int | None = None,
) -> GenerationReport:
    """Solve the parameter sets ``todo`` (sample id, mu) into ``ds``.

    ``workers`` 0 solves here, N on a local Dask cluster of N processes, ``scheduler``
    on that cluster. None chooses, and prints one line saying what and why: the first
    sample is solved here and timed; the rest go to a local cluster of
    :data:`~nirom.distributed.DEFAULT_WORKERS` only when that saves more than its
    start-up (:func:`~nirom.distributed.cluster_pays`), else stay here.

    Field inputs missing from a ``mu`` are drawn by the solver's prior from
    ``(seed, sample id)``, on the worker that solves the sample.
    """
    start = time.perf_counter()
    report = GenerationReport(dataset=ds)
    if todo:
        with SolveProgress(console, len(todo)) as advance:
            tally = partial(_tally, report, advance)
            if workers is None and scheduler is None:
                todo, workers = _choose_by_timing(solver, ds, todo, seed, tally, console)
            here = workers == 0 and scheduler is None
            report.ran_on = "process" if here else "dask"
            if here:
                for sample_id, mu in todo:
                    tally(run_sample(solver, ds, sample_id, mu, seed))
            elif todo:
                _run_on_dask(solver, ds, todo, workers or 0, scheduler, seed, tally)
    report.wall_time_s = time.perf_counter() - start
    return report


def _choose_by_timing(
    solver: Solver,
    ds: Dataset,
    todo: Todo,
    seed: int | None,
    tally: Callable[[Outcome], None],
    console: Console | None,
) -> tuple[Todo, int]:
    """Solve here until a sample is timed, then choose where the rest go; say so in a line.

    Returns the samples left and the worker processes for them (0: this process).
    """
    total, rest = len(todo), list(todo)
    while rest:
        (sample_id, mu), rest = rest[0], rest[1:]
        begin = time.perf_counter()
        outcome = run_sample(solver, ds, sample_id, mu, seed)
        tally(outcome)
        if outcome.status != "skipped":
            break
    else:
        return [], 0  # every sample was done by another run meanwhile
    each = time.perf_counter() - begin
    size = f"{total} sample{'s' * (total != 1)} of about {_seconds(each)}"
    if not rest:
        line, workers = f"{size}: solved in this process", 0
    elif cluster_pays(each, len(rest), DEFAULT_WORKERS):
        workers = DEFAULT_WORKERS
        line = (
            f"{size}: starting a local cluster of {workers} worker processes for the other "
            f"{len(rest)} (it saves more than its start-up, about {CLUSTER_START_S:g} s)"
        )
    else:
        line, workers = (
            f"{size}: solving in this process (a cluster would cost more to start, about "
            f"{CLUSTER_START_S:g} s, than it saves)",
            0,
        )
    (console or get_console()).print(line, highlight=False, markup=False)
    return rest, workers


def _seconds(value: float) -> str:
    """A duration for people: two significant digits below 10 s, whole seconds above."""
    return f"{value:.2g} s" if value < 10 else f"{value:.0f} s"


def _check_design_point(ds: Dataset, sample_id: int, row: Any, space: ParameterSpace) -> None:
    """A sample kept as design point ``sample_id`` must hold that point's parameters."""
    stored = ds.read_meta(sample_id)["mu"]
    values = [stored.get(name) for name in space.scalar_names]
    if None in values or not np.allclose(values, row, rtol=1e-12, atol=0.0):
        raise DatasetError(
            f"{ds.path}: sample {sample_id} holds other parameters than design point "
            f"{sample_id} (added by refine or by hand?); generate into a new --out"
        )


# -- one sample ------------------------------------------------------------------------
def run_sample(
    solver: Solver, ds: Dataset, sample_id: int, mu: Mapping[str, Any], seed: int | None = None
) -> Outcome:
    """Solve one sample and write it (or its failure) to ``ds``; never raises for the sample.

    Field inputs absent from ``mu`` are drawn with ``solver.draw_field_inputs(sample_id, seed)``.
    """
    if ds.status(sample_id) == "done":
        return Outcome(sample_id, "skipped")
    start = time.perf_counter()
    try:
        with storage_errors(ds):
            mu = _with_field_inputs(solver, mu, sample_id, seed)
            fields = solver.solve(mu)
            seconds = time.perf_counter() - start
            info = dict(getattr(solver, "run_info", {}) or {})
            solve_time = _solve_time(info, seconds)
            system = solver.system(mu) if ds.operators is not None else None
            mesh = solver.sample_mesh if ds.per_sample_mesh else None
            ds.append(
                mu,
                fields,
                sample_id=sample_id,
                solve_time=solve_time,
                mesh=mesh,
                info=info,
                system=system,
            )
            # The sample's solve time (the solver's report, else the wall time): what the
            # run's summary shows beside nirom info.
            warnings = tuple(info.get("warnings", ()))
            return Outcome(sample_id, "done", solve_time, warnings=warnings)
    except SampleExistsError:  # another run finished it meanwhile
        return Outcome(sample_id, "skipped")
    except StorageError:
        raise  # the dataset cannot be written: every later sample would fail too
    except Exception as exc:  # any failure of the solve is recorded with the sample
        seconds = time.perf_counter() - start
        reason = _reason(exc)
        try:
            with storage_errors(ds):
                ds.record_failure(mu, reason, sample_id=sample_id, solve_time=seconds)
        except SampleExistsError:
            return Outcome(sample_id, "skipped")
        return Outcome(sample_id, "failed", seconds, reason)


def _solve_time(info: dict[str, Any], seconds: float) -> float:
    """The sample's solve time: the solver's own report (``run_info``), else ``seconds``.

    A reported time is used as is and ``info`` records the wall-clock
    ``seconds`` beside it (``wall_time_s``) and that the solve time was reported.
    """
    reported = info.get(REPORTED_SOLVE_TIME)
    if reported is None:
        return seconds
    info["wall_time_s"] = seconds
    info["solve_time_source"] = "reported"
    return float(reported)


# A full disk, a read-only file system, a quota or a permission: the store, not the sample.
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EACCES, errno.EPERM})


class StorageError(OSError):
    """The dataset's folder cannot be written (errno in :data:`STORAGE_ERRNOS`)."""


@contextmanager
def storage_errors(ds: Dataset) -> Iterator[None]:
    """Turn a write failure of the file system under ``ds`` into a :class:`StorageError`
    naming the dataset; a solver's own OSErrors (another path) stay sample failures."""
    try:
        yield
    except StorageError:
        raise
    except OSError as exc:
        inside = exc.filename is None or str(ds.path.resolve()) in str(Path(exc.filename).resolve())
        if exc.errno not in STORAGE_ERRNOS or not inside:
            raise
        cause = exc.strerror or os.strerror(exc.errno)
        raise StorageError(exc.errno, cause, str(ds.path)) from None


def _with_field_inputs(
    solver: Solver, mu: Mapping[str, Any], sample_id: int, seed: int | None
) -> Mapping[str, Any]:
    missing = [p.name for p in solver.space.field_inputs if p.name not in mu]
    if not missing:
        return mu
    if seed is None:
        raise SolverError(f"sample {sample_id}: field input(s) {missing} not given and no seed")
    drawn = solver.draw_field_inputs(sample_id, seed)
    return {**mu, **{name: drawn[name] for name in missing}}


def _design(space: ParameterSpace, n: int, design: str, seed: int) -> np.ndarray:
    """Scalar design (n, dim); a space of field inputs only has an empty one per sample."""
    if space.dim == 0:
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ParameterError(f"number of samples must be a positive integer, got {n!r}")
        return np.empty((int(n), 0))
    return space.sample(n, design=design, seed=seed)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, NiromError):
        return str(exc)
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" (at {Path(frame.filename).name}:{frame.lineno})" if frame else ""
    return f"{type(exc).__name__}: {exc}{where}"


# -- running many -----------------------------------------------------------------------
Todo = list[tuple[int, dict[str, Any]]]


def _run_on_dask(
    solver: Solver,
    ds: Dataset,
    todo: Todo,
    workers: int,
    scheduler: str | None,
    seed: int | None,
    report: Callable[[Outcome], None],
) -> None:
    from dask.distributed import as_completed  # heavy import

    recipe = solver.recipe()
    with dask_client(workers, scheduler) as client:
        futures = {
            client.submit(
                solve_on_worker, recipe, str(ds.path.resolve()), i, mu, seed, pure=False
            ): (i, mu)
            for i, mu in todo
        }
        for future in as_completed(futures):
            sample_id, mu = futures[future]
            try:
                outcome = future.result()
            except StorageError:
                raise
            except Exception as exc:  # the worker itself died or could not run the task
                reason = worker_failure(exc) or _reason(exc)
                outcome = Outcome(sample_id, "failed", 0.0, f"worker error: {reason}")
                try:
                    ds.record_failure(mu, outcome.error, sample_id=sample_id)
                except SampleExistsError:
                    outcome = Outcome(sample_id, "skipped")
            report(outcome)


_WORKER_SOLVERS: dict[str, Solver] = {}
_WORKER_DATASETS: dict[str, Dataset] = {}


def solve_on_worker(
    recipe: dict[str, Any], path: str, sample_id: int, mu: dict[str, Any], seed: int | None
) -> Outcome:
    """Runs on a Dask worker: build (once per process) the solver, solve, write."""
    # Keys carry file fingerprints: a long-lived cluster must notice an edited
    # solver config or a dataset deleted and made anew under the same path.
    key = json.dumps([recipe, _fingerprints(recipe["options"])], sort_keys=True)
    if key not in _WORKER_SOLVERS:
        _WORKER_SOLVERS[key] = make_solver(recipe["name"], recipe["options"])
    ds_key = json.dumps([path, _fingerprint(Path(path) / "zarr.json")])
    if ds_key not in _WORKER_DATASETS:
        _WORKER_DATASETS[ds_key] = Dataset(path)
    return run_sample(_WORKER_SOLVERS[key], _WORKER_DATASETS[ds_key], sample_id, mu, seed)


def _fingerprint(path: Path) -> list[int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return [stat.st_ino, stat.st_mtime_ns, stat.st_size]


def _fingerprints(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """Fingerprints of the files that solver options name."""
    return {
        name: _fingerprint(Path(value))
        for name, value in (options or {}).items()
        if isinstance(value, str) and Path(value).is_file()
    }


def _tally(report: GenerationReport, advance: Callable[[str], None], outcome: Outcome) -> None:
    if outcome.status == "done":
        report.solved += 1
        report.solve_times_s.append(outcome.seconds)
        report.warnings.extend((outcome.id, w) for w in outcome.warnings)
    elif outcome.status == "failed":
        report.failed += 1
        report.failures.append((outcome.id, outcome.error or ""))
    else:
        report.skipped += 1
    advance(outcome.status)


# -- the dataset and its provenance ---------------------------------------------------------
def _check_space(solver: Solver, space: ParameterSpace | None) -> ParameterSpace:
    if space is None:
        space = solver.space
    elif space.scalar_names != solver.space.scalar_names:
        raise ParameterError(
            f"space parameters {space.scalar_names} differ from the solver's "
            f"{solver.space.scalar_names}"
        )
    else:
        for mine, theirs in zip(space.scalars, solver.space.scalars, strict=True):
            if mine.low < theirs.low or mine.high > theirs.high:
                raise ParameterError(
                    f"parameter {mine.name!r}: bounds [{mine.low:g}, {mine.high:g}] leave the "
                    f"solver's [{theirs.low:g}, {theirs.high:g}]"
                )
    if space.field_inputs != solver.space.field_inputs:
        raise ParameterError(
            f"field inputs {[p.name for p in space.field_inputs]} differ from the solver's "
            f"{[p.name for p in solver.space.field_inputs]}: the solver's prior draws them"
        )
    return space


def _provenance(solver: Solver, design: str, seed: int, n: int, in_process: bool) -> dict:
    if design not in DESIGNS:
        raise ParameterError(f"unknown design {design!r}; choose one of {', '.join(DESIGNS)}")
    try:
        recipe = solver.recipe()
    except SolverError:
        if not in_process:
            raise
        recipe = {"name": solver.name, "options": None}  # runs here only; not reproducible by name
    generation = {"solver": recipe, "design": design, "seed": int(seed)}
    if design not in _PREFIX_STABLE:
        generation["n_samples"] = int(n)
    return {"generation": generation}


def _open_or_create(path: Path, solver: Solver, space: ParameterSpace, provenance: dict) -> Dataset:
    if not path.exists() or (path.is_dir() and not any(path.iterdir())):
        layout = None
        if provenance["generation"].get("operators"):  # any system gives the layout
            layout = solver.system(space.as_dict(space.sample(1, design="random", seed=0)[0]))
        try:
            return Dataset.create(
                path,
                space,
                solver.fields,
                solver.mesh,
                description=f"nirom generate {solver.name}",
                provenance=provenance,
                quadrature=solver.quadrature,
                operators=layout,
                per_sample_mesh=solver.per_sample_mesh,
            )
        except DatasetError:
            if not (path / "zarr.json").is_file():
                raise  # not a concurrent creation: report it
    ds = Dataset(path)
    clean_locks(path)  # lock files an earlier version or a killed run left in staging/
    before = ds.provenance.get("generation")
    if before is None:
        raise DatasetError(f"{path}: not made by nirom generate; choose a new --out")
    changes = _differences(before, provenance["generation"])
    if changes:
        raise DatasetError(
            f"{path}: was generated with {'; '.join(changes)}; choose a new --out to change it"
        )
    if ds.space != space:
        raise DatasetError(f"{path}: was generated over another parameter space")
    return ds


def _differences(before: Any, now: Any, prefix: str = "") -> list[str]:
    """``"key = old, this run asks for new"`` for each leaf that differs."""
    if isinstance(before, dict) and isinstance(now, dict):
        return [
            change
            for key in dict.fromkeys([*now, *before])
            for change in _differences(before.get(key), now.get(key), f"{prefix}{key}.")
        ]
    if before == now:
        return []
    return [f"{prefix[:-1]} = {json.dumps(before)}, this run asks for {json.dumps(now)}"]
