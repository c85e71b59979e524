"""A mechanics case as data: mesh, law, loads, sampled parameters and output times.

The one way nirom describes a nonlinear mechanics case, whether written by hand in
TOML (``nirom generate case.toml``, ``nirom fit DS --model hrom --case case.toml``)
or built by a built-in case (``plate-hole``, ``thick-cylinder``)::

    name = "my-plate"

    [mesh]
    file = "plate.msh"            # any format nirom reads (Gmsh .msh, Abaqus .inp, MED,
                                  # VTU, XDMF); relative to this file
    # generator = "plate-with-hole"   # or a built-in mapped mesh, with [mesh.options]
    degree = 2                    # 1 or 2 (a triangle6 / tetra10 file brings its P2 nodes)

    [mesh.boundaries]             # optional: name -> where (default: the file's sets)
    hole = "hole"                 # a set of the file: Gmsh physical group, Abaqus NSET or
                                  # ELSET, MED group, a VTU cell tag name
    left = { x = 0.0 }            # facets on the plane x = 0 (also y, z)
    rim = { circle = [0.0, 0.0, 10.0] }   # on the circle (cylinder along z in 3D)

    [law]                         # elastic | plasticity | viscoplasticity
    name = "plasticity"
    E = 200000.0                  # the nominal value of every parameter of the law
    nu = 0.3
    sigma_y = 250.0
    H = 1000.0
    C = 0.0
    D = 0.0

    [scales]                      # optional: nominal values of load scales
    load = 110.0

    [[loads]]                     # pressure | traction | body_force | displacement
    kind = "traction"
    boundary = "top"
    value = [0.0, 1.0]            # times its scale
    scale = "load"                # a scale name (or a number); default 1
    amplitude = { kind = "cyclic", period = 10.0 }   # a number, ramp, cyclic or table

    [[loads]]
    kind = "displacement"         # an imposed displacement (0: a support or symmetry)
    boundary = "left"
    components = [0]

    [times]                       # output times: start (0), stop, steps; or values = [...]
    stop = 20.0
    steps = 40

    [solver]                      # optional: linear_solver, rtol, max_iterations, max_cuts
    rtol = 1e-8

    [[parameters]]                # the sampled parameters: law parameters or load scales
    name = "load"
    low = 80.0
    high = 140.0
    kind = "uniform"              # or "loguniform"
    unit = "MPa"

Units are the user's, consistent (the built-in cases: N, mm, MPa, s). Every entry is
checked when the file is read, with a one-line :class:`~nirom.errors.ParameterError`
naming the file and the entry.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nirom.errors import ParameterError
from nirom.mechanics.amplitudes import as_amplitude
from nirom.mechanics.laws import law_names, make_law
from nirom.mechanics.laws.base import _LAWS
from nirom.mechanics.loads import LoadHistory, load_from_dict

#: Where the built-in case files live (``plate-hole.toml``, ``thick-cylinder.toml``).
BUILTIN = Path(__file__).parent / "builtin"
LOAD_KINDS = ("pressure", "traction", "body_force", "displacement")
SOLVER_KEYS = ("linear_solver", "rtol", "max_iterations", "max_cuts")
MESH_KEYS = ("file", "generator", "options", "degree", "boundaries", "sha256")
TOP_KEYS = (
    "name",
    "description",
    "mesh",
    "law",
    "scales",
    "loads",
    "times",
    "solver",
    "parameters",
)


@dataclass(frozen=True)
class SampledParameter:
    """A sampled parameter: a law parameter or a load scale, with bounds."""

    name: str
    low: float
    high: float
    kind: str = "uniform"
    unit: str = ""
    nominal: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "low": self.low, "high": self.high, "kind": self.kind}
        if self.unit:
            out["unit"] = self.unit
        if self.nominal is not None:
            out["nominal"] = self.nominal
        return out


@dataclass(frozen=True)
class LoadSpec:
    """One load of a case: a spatial load (its JSON form, value per unit scale), the scale
    (a name, or a number) and the amplitude (JSON form)."""

    load: dict[str, Any]
    scale: str | float = 1.0
    amplitude: Any = 1.0

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.load)
        if self.scale != 1.0:
            out["scale"] = self.scale
        if self.amplitude != 1.0:
            out["amplitude"] = self.amplitude
        return out


@dataclass
class CaseDescription:
    """A mechanics case (see the module docstring): checked data, JSON-compatible."""

    name: str
    mesh: dict[str, Any]
    law: str
    nominal: dict[str, float]
    loads: list[LoadSpec]
    times: np.ndarray
    parameters: list[SampledParameter] = field(default_factory=list)
    scales: dict[str, float] = field(default_factory=dict)
    solver: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    # -- what the case is --------------------------------------------------------
    @property
    def law_parameters(self) -> tuple[str, ...]:
        """The law's parameter names, in the law's order."""
        return tuple(p.name for p in _LAWS[self.law].parameters)

    @property
    def scale_names(self) -> tuple[str, ...]:
        """The load scales named by the loads, in order of appearance."""
        names: list[str] = []
        for spec in self.loads:
            if isinstance(spec.scale, str) and spec.scale not in names:
                names.append(spec.scale)
        return tuple(names)

    def values(self, mu: Mapping[str, float] | None = None) -> dict[str, float]:
        """Every law parameter and load scale: ``mu``'s values, nominal ones otherwise."""
        mu = dict(mu or {})
        out = dict(self.nominal)
        out.update(self.scale_nominals())
        out.update({k: float(v) for k, v in mu.items() if k in out})
        return out

    def scale_nominals(self) -> dict[str, float]:
        """The nominal value of each load scale: a sampled parameter's ``nominal`` (or its
        range's centre, geometric for log-uniform), else ``[scales]``."""
        out = {name: float(v) for name, v in self.scales.items()}
        for p in self.parameters:
            if p.name in self.scale_names:
                if p.nominal is not None:
                    out[p.name] = p.nominal
                elif p.name not in out:
                    centre = math.sqrt(p.low * p.high) if p.kind == "loguniform" else None
                    out[p.name] = centre if centre is not None else 0.5 * (p.low + p.high)
        return out

    def history(self, mu: Mapping[str, float] | None = None) -> LoadHistory:
        """The load history of parameter set ``mu`` (values times their scales)."""
        values = self.values(mu)
        terms = []
        for spec in self.loads:
            scale = values[spec.scale] if isinstance(spec.scale, str) else float(spec.scale)
            terms.append((load_from_dict(_scaled(spec.load, scale)), spec.amplitude))
        return LoadHistory(terms)

    def term_scales(self) -> list[str | None]:
        """Per load term, the name of the scale multiplying it (None: a fixed number)."""
        return [spec.scale if isinstance(spec.scale, str) else None for spec in self.loads]

    # -- JSON / TOML ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.description:
            out["description"] = self.description
        out["mesh"] = self.mesh
        out["law"] = {"name": self.law, **self.nominal}
        if self.scales:
            out["scales"] = dict(self.scales)
        out["loads"] = [spec.to_dict() for spec in self.loads]
        out["times"] = {"values": [float(t) for t in self.times]}
        if self.solver:
            out["solver"] = dict(self.solver)
        if self.parameters:
            out["parameters"] = [p.to_dict() for p in self.parameters]
        return out

    def to_toml(self) -> str:
        """The case as a case file (TOML; evenly spaced times as start, stop, steps)."""
        data = self.to_dict()
        t, steps = self.times, self.times.size - 1
        if np.array_equal(t[0] + (t[-1] - t[0]) * np.arange(steps + 1) / steps, t):
            data["times"] = {"start": float(t[0]), "stop": float(t[-1]), "steps": steps}
        return _toml(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "case") -> CaseDescription:
        """A checked description from its JSON/TOML form (ParameterError naming ``where``
        and the entry)."""
        return _parse(data, where)

    @classmethod
    def from_toml(cls, path: str | Path) -> CaseDescription:
        """The case of a TOML file; a relative mesh file is taken beside it."""
        path = Path(path)
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except OSError as exc:
            raise ParameterError(f"{path}: cannot read the case ({exc.strerror})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ParameterError(f"{path}: not valid TOML ({exc})") from None
        mesh = dict(data.get("mesh") or {})
        if isinstance(mesh.get("file"), str) and not Path(mesh["file"]).is_absolute():
            mesh["file"] = str((path.parent / mesh["file"]).resolve())
        return _parse({**data, "mesh": mesh}, str(path))


def _scaled(load: Mapping[str, Any], scale: float) -> dict[str, Any]:
    out = dict(load)
    if "value" in out:
        value = np.asarray(out["value"], dtype=float) * scale
        out["value"] = float(value) if value.ndim == 0 else value.tolist()
    return out


# -- writing ----------------------------------------------------------------------------
def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v) if isinstance(v, int) else repr(float(v))
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{k} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {v!r} to TOML")


def _toml(data: Mapping[str, Any]) -> str:
    """The case's dict as TOML: scalars first, then tables, then arrays of tables."""
    lines = [f"{k} = {_value(v)}" for k, v in data.items() if not isinstance(v, (Mapping, list))]
    for key, value in data.items():
        if isinstance(value, Mapping):
            lines += ["", f"[{key}]"]
            lines += [f"{k} = {_value(v)}" for k, v in value.items() if not isinstance(v, Mapping)]
            for k, v in value.items():
                if isinstance(v, Mapping):
                    lines += ["", f"[{key}.{k}]", *(f"{a} = {_value(b)}" for a, b in v.items())]
        elif isinstance(value, list):
            for entry in value:
                lines += ["", f"[[{key}]]", *(f"{a} = {_value(b)}" for a, b in entry.items())]
    return "\n".join(lines) + "\n"


# -- parsing --------------------------------------------------------------------------
def _fail(where: str, message: str) -> ParameterError:
    return ParameterError(f"{where}: {message}")


def _number(where: str, entry: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(where, f"{entry} must be a finite number, got {value!r}")
    return float(value)


def _table(where: str, entry: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(where, f"[{entry}] must be a table, got {value!r}")
    return dict(value)


def _unknown(where: str, entry: str, found: Mapping[str, Any], known: Sequence[str]) -> None:
    stray = sorted(set(found) - set(known))
    if stray:
        raise _fail(where, f"unknown key(s) {stray} in {entry}; known: {', '.join(known)}")


def _parse(data: Mapping[str, Any], where: str) -> CaseDescription:
    if not isinstance(data, Mapping):
        raise _fail(where, "a case is a table")
    _unknown(where, "the case", data, TOP_KEYS)
    name = data.get("name", Path(where).stem)
    if not isinstance(name, str) or not name:
        raise _fail(where, f"name must be a non-empty string, got {name!r}")
    mesh = _mesh(where, data.get("mesh"))
    law, nominal = _law(where, data.get("law"))
    scales = {
        k: _number(where, f"scales.{k}", v)
        for k, v in _table(where, "scales", data.get("scales", {})).items()
    }
    loads = _loads(where, data.get("loads"), mesh)
    times = _times(where, data.get("times"))
    solver = _table(where, "solver", data.get("solver", {}))
    _unknown(where, "[solver]", solver, SOLVER_KEYS)
    parameters = _parameters(where, data.get("parameters", []))
    description = CaseDescription(
        name=name,
        mesh=mesh,
        law=law,
        nominal=nominal,
        loads=loads,
        times=times,
        parameters=parameters,
        scales=scales,
        solver=solver,
        description=str(data.get("description", "")),
    )
    _check_names(where, description)
    return description


def _mesh(where: str, value: Any) -> dict[str, Any]:
    mesh = _table(where, "mesh", value if value is not None else None)
    _unknown(where, "[mesh]", mesh, MESH_KEYS)
    has_file, has_generator = "file" in mesh, "generator" in mesh
    if has_file == has_generator:
        raise _fail(where, '[mesh] needs either file = "..." or generator = "..."')
    degree = mesh.get("degree", 1)
    if degree not in (1, 2) or isinstance(degree, bool):
        raise _fail(where, f"mesh.degree must be 1 or 2, got {degree!r}")
    out: dict[str, Any] = {"degree": int(degree)}
    if has_file:
        if not isinstance(mesh["file"], str):
            raise _fail(where, f"mesh.file must be a path, got {mesh['file']!r}")
        out["file"] = mesh["file"]
        if "sha256" in mesh:
            out["sha256"] = str(mesh["sha256"])
    else:
        from nirom.cases.meshes import GENERATORS

        if mesh["generator"] not in GENERATORS:
            raise _fail(
                where,
                f"mesh.generator must be one of {', '.join(GENERATORS)}, got {mesh['generator']!r}",
            )
        out["generator"] = mesh["generator"]
        out["options"] = _table(where, "mesh.options", mesh.get("options", {}))
    boundaries = _table(where, "mesh.boundaries", mesh.get("boundaries", {}))
    for bname, spec in boundaries.items():
        _boundary(where, bname, spec)
    if boundaries:
        out["boundaries"] = boundaries
    return out


def _boundary(where: str, name: str, spec: Any) -> None:
    if isinstance(spec, str):
        return
    if not isinstance(spec, Mapping) or len(spec) != 1:
        raise _fail(
            where,
            f"mesh.boundaries.{name} must be a set name of the file, {{x = ...}}, {{y = ...}}, "
            f"{{z = ...}} or {{circle = [cx, cy, r]}}, got {spec!r}",
        )
    ((key, value),) = spec.items()
    if key in ("x", "y", "z"):
        _number(where, f"mesh.boundaries.{name}.{key}", value)
    elif key == "circle":
        if not (isinstance(value, (list, tuple)) and len(value) == 3):
            raise _fail(where, f"mesh.boundaries.{name}.circle must be [cx, cy, r], got {value!r}")
        for v in value:
            _number(where, f"mesh.boundaries.{name}.circle", v)
    else:
        raise _fail(where, f"mesh.boundaries.{name}: unknown selector {key!r} (x, y, z, circle)")


def _law(where: str, value: Any) -> tuple[str, dict[str, float]]:
    law = _table(where, "law", value)
    name = law.pop("name", None)
    if name not in law_names():
        raise _fail(where, f"law.name must be one of {', '.join(law_names())}, got {name!r}")
    expected = [p.name for p in _LAWS[name].parameters]
    missing = [p for p in expected if p not in law]
    if missing:
        raise _fail(
            where,
            f"[law] {name} needs the nominal value of {', '.join(missing)} "
            f"(its parameters: {', '.join(expected)})",
        )
    _unknown(where, f"[law] ({name})", law, expected)
    nominal = {p: _number(where, f"law.{p}", law[p]) for p in expected}
    try:
        make_law(name, nominal)
    except ParameterError as exc:
        raise _fail(where, f"[law] {exc}") from None
    return name, nominal


def _loads(where: str, value: Any, mesh: Mapping[str, Any]) -> list[LoadSpec]:
    if not isinstance(value, list) or not value:
        raise _fail(where, "a case needs [[loads]] (loads and imposed displacements)")
    out = []
    for i, entry in enumerate(value):
        entry = _table(where, f"loads[{i}]", entry)
        kind = entry.get("kind")
        if kind not in LOAD_KINDS:
            raise _fail(
                where, f"loads[{i}].kind must be one of {', '.join(LOAD_KINDS)}, got {kind!r}"
            )
        scale = entry.pop("scale", 1.0)
        if not isinstance(scale, str):
            scale = _number(where, f"loads[{i}].scale", scale)
        amplitude = entry.pop("amplitude", 1.0)
        try:
            as_amplitude(amplitude)
            load_from_dict(entry)
        except ParameterError as exc:
            raise _fail(where, f"loads[{i}]: {exc}") from None
        if kind != "body_force" and not isinstance(entry.get("boundary"), str):
            raise _fail(where, f'loads[{i}] ({kind}) needs boundary = "a named set"')
        out.append(LoadSpec(entry, scale, amplitude))
    return out


def _times(where: str, value: Any) -> np.ndarray:
    spec = _table(where, "times", value)
    if "values" in spec:
        _unknown(where, "[times]", spec, ("values",))
        values = spec["values"]
        times = np.array([_number(where, "times.values", t) for t in values], dtype=float)
    else:
        _unknown(where, "[times]", spec, ("start", "stop", "steps"))
        if "stop" not in spec or "steps" not in spec:
            raise _fail(where, "[times] needs stop and steps (and start, 0 by default) or values")
        start = _number(where, "times.start", spec.get("start", 0.0))
        stop = _number(where, "times.stop", spec["stop"])
        steps = spec["steps"]
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise _fail(where, f"times.steps must be an integer >= 1, got {steps!r}")
        times = start + (stop - start) * np.arange(steps + 1) / steps
    if times.size < 2 or np.any(np.diff(times) <= 0):
        raise _fail(where, "[times] must give at least 2 increasing output times (s)")
    return times


def _parameters(where: str, value: Any) -> list[SampledParameter]:
    if not isinstance(value, list):
        raise _fail(where, "[[parameters]] must be an array of tables")
    out: list[SampledParameter] = []
    for i, entry in enumerate(value):
        entry = _table(where, f"parameters[{i}]", entry)
        _unknown(
            where, f"parameters[{i}]", entry, ("name", "low", "high", "kind", "unit", "nominal")
        )
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            raise _fail(where, f"parameters[{i}] needs a name")
        low = _number(where, f"parameters[{i}].low", entry.get("low"))
        high = _number(where, f"parameters[{i}].high", entry.get("high"))
        kind = entry.get("kind", "uniform")
        if kind not in ("uniform", "loguniform"):
            raise _fail(where, f"parameters[{i}].kind must be uniform or loguniform, got {kind!r}")
        if not low < high or (kind == "loguniform" and low <= 0):
            raise _fail(where, f"parameter {name!r}: bounds [{low:g}, {high:g}] are not a range")
        nominal = entry.get("nominal")
        if nominal is not None:
            nominal = _number(where, f"parameters[{i}].nominal", nominal)
        if any(p.name == name for p in out):
            raise _fail(where, f"parameter {name!r} is sampled twice")
        out.append(SampledParameter(name, low, high, kind, str(entry.get("unit", "")), nominal))
    return out


def _check_names(where: str, case: CaseDescription) -> None:
    """Sampled parameters act on the law or a load; every scale has a nominal value."""
    law_params, scales = case.law_parameters, case.scale_names
    for p in case.parameters:
        if p.name not in law_params and p.name not in scales:
            raise _fail(
                where,
                f"parameter {p.name!r} is neither a parameter of the {case.law} law "
                f"({', '.join(law_params)}) nor a load scale ({', '.join(scales) or 'none'})",
            )
        if p.name in law_params:
            try:
                make_law(case.law, {**case.nominal, p.name: p.low})
                make_law(case.law, {**case.nominal, p.name: p.high})
            except ParameterError as exc:
                raise _fail(where, f"parameter {p.name!r}: {exc}") from None
    nominals = case.scale_nominals()
    missing = [s for s in scales if s not in nominals]
    if missing:
        raise _fail(
            where,
            f"load scale(s) {missing} have no value: sample them in [[parameters]] or give "
            "them in [scales]",
        )
    clash = [s for s in scales if s in law_params]
    if clash:
        raise _fail(where, f"load scale(s) {clash} are named like parameters of the law")
