"""CommandSolver: run any external program once per parameter set, nonintrusively.

The solver is described by a TOML file; relative paths are relative to it::

    template = "template"        # folder copied into each sample's work folder;
                                 # files ending in .j2 are rendered with Jinja2
                                 # (placeholders {{ name }} per parameter, plus
                                 # {{ mu }}, the whole dict) and lose the suffix
    command = "python run.py"    # string (split like a shell) or list of strings,
                                 # run inside the work folder
    timeout = 600                # seconds before the run is killed
    output = "result.vtu"        # file the program writes: any format nirom reads
                                 # (VTU of any version, PVTU, XDMF, any meshio format),
                                 # or a time series: a ParaView collection
                                 # ("result.pvd"), an XDMF time series
                                 # ("result.xdmf", dolfinx's XDMFFile), or numbered
                                 # files ("result_*.vtu", ordered by their number);
                                 # a .pvd or XDMF file of one step is steady (as
                                 # dolfinx writes a steady solve, at t = 0)
    times = [0.5, 1.0]           # the time of each numbered file (a pattern only;
                                 # default: each file's VTK TimeValue field data)
    solve_time = "timing.json"   # optional: a JSON file where the program reports
                                 # its own solve time, {"solve_time_s": 0.12} (or
                                 # a bare number): stored as the sample's solve time
                                 # (speed-ups), the process's wall time beside it
    fields = ["u"]               # point/cell data to keep (default: all)
    mesh = "reference.vtu"       # optional reference mesh file; default: the
                                 # output of one probe run at the space's centre
    workdir = "runs"             # where work folders go (default: NAME-runs
                                 # beside this file)
    keep = "failed"              # keep work folders: "all" | "failed" | "none"

    [operators]                  # optional: the program also writes its system
    matrix = "A.mtx"             # A(mu): MatrixMarket or PETSc binary (told by
                                 # content, not by extension), square
    rhs = "b.mtx"                # f(mu): MatrixMarket (one column) or PETSc Vec
    free = "free.txt"            # mesh node of each row, one integer a line
                                 # (default: row i is node i)
    form = "auto"                # "free": the matrix is the free-free block, its
                                 # rows the unknowns; the output field's values on
                                 # the other nodes are the Dirichlet values.
                                 # "full": the whole matrix on every node value,
                                 # Dirichlet rows identity rows (diagonal only)
                                 # whose rhs holds the value (dolfinx's
                                 # assemble_matrix(a, bcs)); reduced to the free
                                 # block. "auto" (default): "full" when the matrix
                                 # has a row per node value, else "free"

    [[parameters]]               # the parameter space, as in nirom import
    name = "k"
    kind = "loguniform"
    low = 0.1
    high = 10.0

Each run gets a work folder named after a hash of its parameters. A non-zero
exit, a timeout, a missing or unreadable output, a mesh that is not the
reference, other output times than the reference's, a field with NaN or a
missing or malformed solve-time file raises :class:`SolverError` with the
reason and the tail of the program's output; generation records that sample
as failed and goes on.

A time-series output gives time-series fields (``FieldSpec.times``, arrays
of shape (n_times, n_points[, components])), the times the reference
output's. ``run_info`` records the process's wall time (``run_time_s``) and,
with ``solve_time``, the reported time (``reported_solve_time_s``), which
generation stores as the sample's solve time.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import shlex
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

from nirom.dataset.operators import LinearSystem
from nirom.dataset.schema import FieldSpec
from nirom.dataset.transfer import field_specs_from_data, fields_from_data, read_output
from nirom.documents import read_document
from nirom.errors import NiromError
from nirom.mesh import Mesh
from nirom.parameters import ParameterSpace
from nirom.readers import is_pattern
from nirom.solvers.base import REPORTED_SOLVE_TIME, Solver, SolverError, register
from nirom.solvers.matrix_market import FORMS, read_system

TAIL_CHARS = 2000
SOLVE_TIME_KEY = "solve_time_s"  # in the program's solve-time JSON file
KEEP = ("all", "failed", "none")


def _tail(path: Path) -> str:
    """The last TAIL_CHARS characters of a log file, stripped."""
    with open(path, "rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        fh.seek(max(0, size - TAIL_CHARS))
        text = fh.read().decode("utf-8", errors="replace").strip()
    return ("..." if size > TAIL_CHARS else "") + text


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill the program and every process it started, and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@register("command")
class CommandSolver(Solver):
    """An external program as a solver, configured by a TOML file (see the module doc).

    Parameters
    ----------
    config : path
        The solver's TOML configuration file.
    reference : path, optional
        A mesh file with the fields, overriding the config's ``mesh``; set in
        the recipe shipped to workers, so that they never run a probe.
    """

    def __init__(
        self, config: str | os.PathLike[str], reference: str | os.PathLike[str] | None = None
    ) -> None:
        self.config_path = Path(config).resolve()
        self.options: dict[str, Any] = {"config": str(self.config_path)}
        cfg = _read_config(self.config_path)
        base = self.config_path.parent
        where = str(self.config_path)
        self.label = str(cfg.get("name", self.config_path.stem))
        self.space = _space(cfg, where)
        self.template = base / _require(cfg, "template", str, where)
        if not self.template.is_dir():
            raise SolverError(f"{where}: template folder {self.template} not found")
        command = _require(cfg, "command", (str, list), where)
        self.command = (
            shlex.split(command) if isinstance(command, str) else [str(c) for c in command]
        )
        if not self.command:
            raise SolverError(f"{where}: command is empty")
        self.timeout = cfg.get("timeout", 3600.0)
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, (int, float)):
            raise SolverError(f"{where}: timeout must be a number of seconds")
        if not self.timeout > 0:
            raise SolverError(f"{where}: timeout must be > 0 seconds")
        self.output = _require(cfg, "output", str, where)
        self.times = _times(cfg, self.output, where)
        self.solve_time_file = (
            _require(cfg, "solve_time", str, where) if "solve_time" in cfg else None
        )
        self.wanted = cfg.get("fields")
        mesh = _require(cfg, "mesh", str, where) if "mesh" in cfg else None
        self.mesh_file = Path(reference) if reference else (base / mesh if mesh else None)
        self.workdir = base / _require(
            {"workdir": f"{self.label}-runs", **cfg}, "workdir", str, where
        )
        self.keep = cfg.get("keep", "failed")
        if self.keep not in KEEP:
            raise SolverError(f"{where}: keep must be one of {', '.join(KEEP)}")
        self.operator_files = _operator_files(cfg, where)
        self._system: tuple[str, LinearSystem] | None = None
        self.run_info: dict[str, Any] = {}
        self._reference: tuple[Mesh, list[FieldSpec]] | None = None

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> CommandSolver:
        """The program that the TOML file ``path`` describes (see the module doc)."""
        return cls(path)

    # -- mesh and fields, from the reference file or a probe run -------------------
    def _describe(self) -> tuple[Mesh, list[FieldSpec]]:
        if self._reference is None:
            if self.mesh_file is None:
                centre = self.space.as_dict(self.space.from_unit(np.full(self.space.dim, 0.5))[0])
                work = self._run(centre, self.workdir / "probe")
                self.mesh_file = work / self.output
            source = self.mesh_file
            try:
                mesh, point_data, cell_data, times = read_output(source, self._times_of(source))
                specs = field_specs_from_data(point_data, cell_data, self.wanted, source, times)
            except NiromError as exc:
                raise SolverError(f"{self.label}: reference output unusable: {exc}") from None
            if times is not None and self.operator_files:
                raise SolverError(
                    f"{self.config_path}: [operators] need a steady output, {source} is a "
                    f"time series of {len(times)} steps"
                )
            self._reference = (mesh, specs)
        return self._reference

    def recipe(self) -> dict[str, Any]:
        """Config plus the reference output, so workers rebuild it without a probe run."""
        self._describe()
        return {"name": self.name, "options": {**self.options, "reference": str(self.mesh_file)}}

    @property
    def mesh(self) -> Mesh:  # type: ignore[override]
        return self._describe()[0]

    @property
    def fields(self) -> list[FieldSpec]:  # type: ignore[override]
        return self._describe()[1]

    # -- one run -----------------------------------------------------------------------
    def solve(self, mu: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Run the program for ``mu`` and read its output fields."""
        mu = self.space.validate(mu)
        mesh, specs = self._describe()
        # Unique per run: another process may be solving the same mu right now.
        work = self.workdir / f"run-{_digest(mu)}-{uuid.uuid4().hex[:8]}"
        ok = False
        try:
            self._run(mu, work)
            path = work / self.output
            try:
                out_mesh, point_data, cell_data, times = read_output(path, self.times)
                mesh.check_matches(out_mesh, str(path))
                if times != specs[0].times:
                    raise SolverError(
                        f"{path}: output times {times} differ from the reference's {specs[0].times}"
                    )
                fields = fields_from_data(path, specs, point_data, cell_data)
                if self.solve_time_file is not None:
                    self.run_info[REPORTED_SOLVE_TIME] = _reported_time(work / self.solve_time_file)
            except NiromError as exc:
                raise SolverError(f"{exc}{self._output_tail()}") from None
            if self.operator_files:
                self._system = (_digest(mu), self._read_system(work, fields))
            ok = True
            return fields
        finally:
            if self.keep == "none" or (self.keep == "failed" and ok):
                shutil.rmtree(work, ignore_errors=True)

    def system(self, mu: Mapping[str, Any]) -> LinearSystem:
        """The system the program wrote for ``mu`` (from the last run, or a new run)."""
        if not self.operator_files:
            raise SolverError(f"{self.label}: no [operators] in its config; it writes no matrices")
        mu = self.space.validate(mu)
        if self._system is None or self._system[0] != _digest(mu):
            self.solve(mu)
        assert self._system is not None
        return self._system[1]

    def _read_system(self, work: Path, fields: Mapping[str, np.ndarray]) -> LinearSystem:
        files = self.operator_files
        values = next(iter(fields.values()))
        free = work / files["free"] if "free" in files else None
        return read_system(
            work / files["matrix"], work / files["rhs"], free, values.ravel(), files["form"]
        )

    def _run(self, mu: Mapping[str, Any], work: Path) -> Path:
        """Render the template into ``work`` and run the command there.

        The program's output goes to ``stdout.txt`` and ``stderr.txt`` in
        ``work``; its whole process group is killed on a timeout or on any
        interruption of this process (Ctrl-C, a cancelled task).
        """
        if work.exists():
            shutil.rmtree(work)
        _render(self.template, work, mu)
        start = time.perf_counter()
        with open(work / "stdout.txt", "wb") as out, open(work / "stderr.txt", "wb") as err:
            try:
                proc = subprocess.Popen(
                    self.command, cwd=work, stdout=out, stderr=err, start_new_session=True
                )
            except OSError as exc:  # missing program, no permission, not executable
                raise SolverError(f"{self.label}: cannot run {self.command[0]!r} ({exc})") from None
            try:
                proc.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                self._record(work, None, time.perf_counter() - start)
                raise SolverError(
                    f"{self.label}: timed out after {self.timeout:g} s in {work}"
                    f"{self._output_tail()}"
                ) from None
            except BaseException:
                _kill_group(proc)
                raise
        self._record(work, proc.returncode, time.perf_counter() - start)
        if proc.returncode != 0:
            raise SolverError(
                f"{self.label}: command exited with status {proc.returncode} in {work}"
                f"{self._output_tail()}"
            )
        if not _written(work / self.output):
            raise SolverError(
                f"{self.label}: output {self.output!r} missing in {work}{self._output_tail()}"
            )
        return work

    def _record(self, work: Path, code: int | None, seconds: float) -> None:
        self.run_info = {
            "workdir": str(work),
            "exit_code": code,
            "run_time_s": seconds,
            "stdout_tail": _tail(work / "stdout.txt"),
            "stderr_tail": _tail(work / "stderr.txt"),
        }

    def _output_tail(self) -> str:
        info = self.run_info
        parts = [
            f"{name}: {info[key]}"
            for name, key in (("stderr", "stderr_tail"), ("stdout", "stdout_tail"))
            if info.get(key)
        ]
        return ("; " + " | ".join(parts)) if parts else ""

    def _times_of(self, source: Path) -> list[float] | None:
        """The configured times for a pattern of numbered files (None otherwise)."""
        return self.times if is_pattern(source) else None


def _written(output: Path) -> bool:
    """Whether the program wrote its output (for a pattern: any matching file)."""
    if is_pattern(output):
        return any(output.parent.glob(output.name))
    return output.is_file()


def _times(cfg: Mapping[str, Any], output: str, where: str) -> list[float] | None:
    """The ``times`` of numbered output files: increasing numbers, with a pattern only."""
    if "times" not in cfg:
        return None
    times = cfg["times"]
    if not is_pattern(Path(output)):
        raise SolverError(
            f"{where}: 'times' is for numbered outputs (output = \"result_*.vtu\"); "
            f"{output!r} carries its own times or none"
        )
    if (
        not isinstance(times, list)
        or not times
        or any(isinstance(t, bool) or not isinstance(t, (int, float)) for t in times)
    ):
        raise SolverError(f"{where}: 'times' must be a list of numbers")
    if any(b <= a for a, b in itertools.pairwise(times)):
        raise SolverError(f"{where}: 'times' must increase")
    return [float(t) for t in times]


def _reported_time(path: Path) -> float:
    """Seconds the program reports in JSON file ``path``: a number, or under "solve_time_s"."""
    data = read_document(
        path,
        SolverError,
        toml=False,
        missing="the program did not write its solve time",
        unreadable="not a JSON file",
    )
    value = data.get(SOLVE_TIME_KEY) if isinstance(data, dict) else data
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not np.isfinite(value)
        or value < 0
    ):
        raise SolverError(
            f"{path}: needs a number of seconds >= 0 under {SOLVE_TIME_KEY!r} "
            f'(e.g. {{"{SOLVE_TIME_KEY}": 0.12}}), got {value!r}'
        )
    return float(value)


def _digest(mu: Mapping[str, Any]) -> str:
    text = json.dumps({k: float(v) for k, v in mu.items()}, sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def _render(template: Path, work: Path, mu: Mapping[str, Any]) -> None:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    for src in sorted(template.rglob("*")):
        rel = src.relative_to(template)
        if src.is_dir():
            (work / rel).mkdir(parents=True, exist_ok=True)
            continue
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        if src.suffix != ".j2":
            shutil.copy2(src, work / rel)
            continue
        try:
            text = env.from_string(src.read_text(encoding="utf-8")).render({**mu, "mu": dict(mu)})
        except jinja2.TemplateError as exc:
            raise SolverError(f"{src}: template error ({exc})") from None
        except UnicodeDecodeError:
            raise SolverError(f"{src}: a template must be UTF-8 text") from None
        (work / rel.with_suffix("")).write_text(text, encoding="utf-8")


def _read_config(path: Path) -> dict[str, Any]:
    return read_document(
        path,
        SolverError,
        toml=True,
        missing="solver config not found",
        unreadable="not a readable TOML file",
    )


def _require(cfg: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in cfg:
        raise SolverError(f"{where}: missing {key!r}")
    if not isinstance(cfg[key], kind):
        raise SolverError(f"{where}: {key!r} has the wrong type ({type(cfg[key]).__name__})")
    return cfg[key]


def _operator_files(cfg: Mapping[str, Any], where: str) -> dict[str, str]:
    """The ``[operators]`` table: matrix, rhs, optional free (file names in the work
    folder) and form ("auto", "free" or "full")."""
    table = cfg.get("operators")
    if table is None:
        return {}
    if not isinstance(table, dict):
        raise SolverError(f"{where}: [operators] must be a table")
    unknown = sorted(set(table) - {"matrix", "rhs", "free", "form"})
    if unknown:
        raise SolverError(f"{where}: unknown [operators] key(s) {unknown}")
    where = f"{where} [operators]"
    files = {key: _require(table, key, str, where) for key in ("matrix", "rhs")}
    if "free" in table:
        files["free"] = _require(table, "free", str, where)
    form = table.get("form", "auto")
    if form not in FORMS:
        raise SolverError(f"{where}: form must be one of {', '.join(FORMS)}, got {form!r}")
    files["form"] = form
    return files


def _space(cfg: Mapping[str, Any], where: str) -> ParameterSpace:
    try:
        space = ParameterSpace.from_dict(cfg)
    except NiromError as exc:
        raise SolverError(f"{where}: {exc}") from None
    if space.field_inputs:
        raise SolverError(f"{where}: a command solver takes scalar parameters only")
    if "mu" in space.names:
        raise SolverError(f"{where}: parameter name 'mu' is reserved (templates see all as mu)")
    return space
