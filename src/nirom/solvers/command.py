"""CommandSolver: run any external program once per parameter set, nonintrusively.

The solver is described by a TOML file; relative paths are relative to it::

    template = "template"        # folder copied into each sample's work folder;
                                 # files ending in .j2 are rendered with Jinja2
                                 # (placeholders {{ name }} per parameter, plus
                                 # {{ mu }}, the whole dict) and lose the suffix
    command = "python run.py"    # string (split like a shell) or list of strings,
                                 # run inside the work folder
    timeout = 600                # seconds before the run is killed
    output = "result.vtu"        # file the program writes, any meshio format
    fields = ["u"]               # point/cell data to keep (default: all)
    mesh = "reference.vtu"       # optional reference mesh file; default: the
                                 # output of one probe run at the space's centre
    workdir = "runs"             # where work folders go (default: NAME-runs
                                 # beside this file)
    keep = "failed"              # keep work folders: "all" | "failed" | "none"

    [operators]                  # optional: the program also writes its system
    matrix = "A.mtx"             # A(mu), MatrixMarket (square, unknowns x unknowns)
    rhs = "b.mtx"                # f(mu), MatrixMarket, one column
    free = "free.txt"            # mesh node of each unknown, one integer a line
                                 # (default: unknown i is node i); the output
                                 # field's values on the other nodes are the
                                 # Dirichlet values

    [[parameters]]               # the parameter space, as in nirom import
    name = "k"
    kind = "loguniform"
    low = 0.1
    high = 10.0

Each run gets a work folder named after a hash of its parameters. A non-zero
exit, a timeout, a missing or unreadable output, a mesh that is not the
reference or a field with NaN raises :class:`SolverError` with the reason and
the tail of the program's output; generation records that sample as failed
and goes on.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import time
import tomllib
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

from nirom import mesh as mesh_io
from nirom.dataset.operators import LinearSystem
from nirom.dataset.schema import FieldSpec
from nirom.dataset.transfer import field_specs_from_data, fields_from_data
from nirom.errors import NiromError
from nirom.mesh import Mesh
from nirom.parameters import ParameterSpace
from nirom.solvers.base import Solver, SolverError, register
from nirom.solvers.matrix_market import read_system

TAIL_CHARS = 2000
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

    # -- mesh and fields, from the reference file or a probe run -------------------
    def _describe(self) -> tuple[Mesh, list[FieldSpec]]:
        if self._reference is None:
            if self.mesh_file is None:
                centre = self.space.as_dict(self.space.from_unit(np.full(self.space.dim, 0.5))[0])
                work = self._run(centre, self.workdir / "probe")
                self.mesh_file = work / self.output
            source = self.mesh_file
            try:
                mesh, point_data, cell_data = mesh_io.read(source)
                specs = field_specs_from_data(point_data, cell_data, self.wanted, source)
            except NiromError as exc:
                raise SolverError(f"{self.label}: reference output unusable: {exc}") from None
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
                out_mesh, point_data, cell_data = mesh_io.read(path)
                mesh.check_matches(out_mesh, str(path))
                fields = fields_from_data(path, specs, point_data, cell_data)
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
        return read_system(work / files["matrix"], work / files["rhs"], free, values.ravel())

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
        if not (work / self.output).is_file():
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
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SolverError(f"{path}: solver config not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SolverError(f"{path}: not a readable TOML file ({exc})") from None


def _require(cfg: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in cfg:
        raise SolverError(f"{where}: missing {key!r}")
    if not isinstance(cfg[key], kind):
        raise SolverError(f"{where}: {key!r} has the wrong type ({type(cfg[key]).__name__})")
    return cfg[key]


def _operator_files(cfg: Mapping[str, Any], where: str) -> dict[str, str]:
    """The ``[operators]`` table: matrix, rhs, optional free (file names in the work folder)."""
    table = cfg.get("operators")
    if table is None:
        return {}
    if not isinstance(table, dict):
        raise SolverError(f"{where}: [operators] must be a table")
    unknown = sorted(set(table) - {"matrix", "rhs", "free"})
    if unknown:
        raise SolverError(f"{where}: unknown [operators] key(s) {unknown}")
    where = f"{where} [operators]"
    files = {key: _require(table, key, str, where) for key in ("matrix", "rhs")}
    if "free" in table:
        files["free"] = _require(table, "free", str, where)
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
