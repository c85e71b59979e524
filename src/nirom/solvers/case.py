"""A mechanics case described by data (:class:`~nirom.cases.description.CaseDescription`)
as a :class:`~nirom.solvers.base.Solver`: ``nirom generate case.toml`` solves it, and
``nirom fit DS --model hrom --case case.toml`` builds the hyper-reduced model of a
dataset of its displacement series (imported from another code or generated).

The built-in cases (``plate-hole``, ``thick-cylinder``) are such cases: their options
build a description (:meth:`CaseSolver.description`), written as the case files
``nirom/cases/builtin/*.toml`` the package ships; a case file gives the same samples.

The solver builds on the case as data (:mod:`nirom.cases`, which imports no solver), so
importing :mod:`nirom.solvers` registers it (``mechanics``) with the built-in cases.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nirom.cases.description import BUILTIN, CaseDescription, SampledParameter
from nirom.cases.meshes import case_mesh, file_digest
from nirom.mechanics.laws import MaterialLaw, make_law
from nirom.mechanics.loads import LoadHistory
from nirom.mechanics.space import DisplacementSpace
from nirom.parameters import LogUniform, ParameterSpace, Uniform
from nirom.solvers.base import register
from nirom.solvers.mechanics_case import MechanicsCase, parameter_space


@register("mechanics")
class CaseSolver(MechanicsCase):
    """The mechanics case of a description (a :class:`CaseDescription`, its dict form, or
    through :meth:`from_toml` a case file). The recipe carries the whole description, with
    the mesh file's path and SHA-256, so workers and later fits rebuild the same case.

    Parameters
    ----------
    description : CaseDescription or mapping
        The case.
    """

    def __init__(self, description: CaseDescription | Mapping[str, Any]) -> None:
        if not isinstance(description, CaseDescription):
            description = CaseDescription.from_dict(description, "mechanics case")
        self._build(description)
        self.options = {"description": _recorded(description)}

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> CaseSolver:
        """The case of a TOML file (see :mod:`nirom.cases.description`)."""
        return cls(CaseDescription.from_toml(path))

    def _build(self, description: CaseDescription) -> None:
        self.case = description
        self.label = description.name
        self.law_name = description.law
        self.law_parameters = description.law_parameters
        self.fe_space = DisplacementSpace(
            case_mesh(description.mesh, description.name), description.mesh["degree"]
        )
        self.times = description.times
        self._setup_space(description)

    def _setup_space(self, description: CaseDescription) -> None:
        params = [
            (LogUniform if p.kind == "loguniform" else Uniform)(p.name, p.low, p.high, unit=p.unit)
            for p in description.parameters
        ]
        self._setup_common(ParameterSpace(params), description.solver.get("linear_solver", "auto"))

    @property
    def description(self) -> CaseDescription:
        """The case as data."""
        return self.case

    def values(self, mu: Mapping[str, float]) -> dict[str, float]:
        """Every law parameter and load scale: ``mu``'s sampled values, nominal otherwise."""
        return self.case.values(mu)

    def law(self, mu: Mapping[str, float]) -> MaterialLaw:
        values = self.values(mu)
        return make_law(self.law_name, {k: values[k] for k in self.law_parameters})

    def history(self, mu: Mapping[str, float]) -> LoadHistory:
        return self.case.history(mu)

    def term_scales(self) -> list[str | None]:
        """Per load term, the scale multiplying it (None: fixed): how a reduced model
        builds the history of a parameter set."""
        return self.case.term_scales()

    def solver_options(self) -> dict[str, Any]:
        """The case file's ``[solver]`` options (``rtol``, ``max_iterations``, ``max_cuts``)."""
        return {k: v for k, v in self.case.solver.items() if k != "linear_solver"}


def sampled_parameters(
    table: Mapping[str, tuple[float, float, float, str, bool]],
    sampled: Sequence[str],
    bounds: Mapping[str, Sequence[float]] | None,
    scales: Sequence[str] = (),
) -> list[SampledParameter]:
    """The sampled parameters of a built-in case: the ``sampled`` names of its ``table``
    (name -> nominal, low, high, unit, log-uniform), ``bounds`` replacing the table's;
    load scales keep their nominal value (checked as ``parameter_space`` checks)."""
    space = parameter_space(table, sampled, bounds)
    return [
        SampledParameter(
            p.name,
            float(p.low),
            float(p.high),
            "loguniform" if isinstance(p, LogUniform) else "uniform",
            p.unit or "",
            table[p.name][0] if p.name in scales else None,
        )
        for p in space.scalars
    ]


def _recorded(description: CaseDescription) -> dict[str, Any]:
    """The description's dict, its mesh file's SHA-256 recorded (a changed file is refused
    when the case is rebuilt)."""
    data = description.to_dict()
    mesh = data["mesh"]
    if "file" in mesh and "sha256" not in mesh:
        mesh["sha256"] = file_digest(Path(mesh["file"]))
    return data


def load_case(case: str | os.PathLike[str]) -> CaseSolver:
    """A case by file (``.toml``) or by the name of a built-in case file."""
    path = Path(case)
    if path.suffix != ".toml" and (BUILTIN / f"{case}.toml").is_file():
        path = BUILTIN / f"{case}.toml"
    return CaseSolver.from_toml(path)
