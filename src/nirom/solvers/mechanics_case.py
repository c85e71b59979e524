"""Shared machinery of the built-in nonlinear mechanics cases (plate-hole, thick-cylinder).

A case fixes a mesh, a material law, a load history and output times; its
parameters are a chosen subset of the law's parameters and the load amplitude
(option ``parameters``), each with bounds (the table's, or the option
``bounds``: name -> [low, high]), the others held at nominal values.
``solve(mu)`` runs :class:`~nirom.mechanics.solver.QuasiStaticSolver` and
returns the fields of :mod:`nirom.mechanics.output` (displacement, nodal and
quadrature-point stresses, plastic strain, von Mises). A solve that fails even
after step cutting raises :class:`SolverError` with the time and reason, so
generation records the sample as failed and goes on; ``run_info`` keeps the
Newton statistics, the law and the load history of the last solve (generation
stores them with the sample).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from nirom.errors import NiromError, ParameterError
from nirom.mechanics.assembly import Assembler
from nirom.mechanics.laws import MaterialLaw, make_law
from nirom.mechanics.loads import LoadHistory
from nirom.mechanics.output import NodalProjection, dataset_fields, field_specs
from nirom.mechanics.solver import ConvergenceError, QuasiStaticSolver
from nirom.mechanics.space import DisplacementSpace
from nirom.mechanics.strain import StrainOperator
from nirom.parameters import LogUniform, ParameterSpace, Uniform
from nirom.solvers.base import Solver, SolverError, check_finite

# name -> (nominal, low, high, unit, log-uniform)
Table = Mapping[str, tuple[float, float, float, str, bool]]


def parameter_space(
    table: Table, sampled: Sequence[str], bounds: Mapping[str, Sequence[float]] | None = None
) -> ParameterSpace:
    """The space of the ``sampled`` names of ``table``, with ``bounds`` overriding the table's
    (name -> [low, high]); ParameterError names an unknown or unsampled one."""
    sampled = list(sampled)
    bounds = dict(bounds or {})
    stray = [name for name in bounds if name not in sampled]
    if stray:
        raise ParameterError(f"bounds given for {stray}, which are not sampled ({sampled})")
    unknown = [name for name in sampled if name not in table]
    if unknown or not sampled or len(set(sampled)) != len(sampled):
        raise ParameterError(
            f"parameters must be distinct names among {', '.join(table)}, got {sampled}"
        )
    params = []
    for name in sampled:
        _, low, high, unit, log = table[name]
        if name in bounds:
            try:
                low, high = (float(v) for v in bounds[name])
            except (TypeError, ValueError):
                raise ParameterError(
                    f"bounds of {name!r} must be [low, high], got {bounds[name]!r}"
                ) from None
        params.append((LogUniform if log else Uniform)(name, low, high, unit=unit))
    return ParameterSpace(params)


class MechanicsCase(Solver):
    """Base of the mechanics cases: subclasses build ``fe_space``, ``times`` and implement
    :meth:`law` and :meth:`history`, then call :meth:`_setup`."""

    table: ClassVar[Table] = {}
    law_name: str = "elastic"
    law_parameters: tuple[str, ...] = ()
    fe_space: DisplacementSpace
    times: np.ndarray

    def _setup(
        self,
        sampled: Sequence[str],
        linear_solver: str,
        bounds: Mapping[str, Sequence[float]] | None = None,
    ) -> None:
        self._setup_common(parameter_space(self.table, sampled, bounds), linear_solver)

    def _setup_common(self, space: ParameterSpace, linear_solver: str) -> None:
        """What every case sets once ``fe_space`` and ``times`` are built."""
        self.space = space
        self.mesh = self.fe_space.mesh
        self.quadrature = self.fe_space.quadrature
        self.fields = field_specs(self.fe_space.dim, self.times)
        self.linear_solver = linear_solver
        self._assembler = Assembler(StrainOperator(self.fe_space))
        self._projection = NodalProjection(self.fe_space)
        self.run_info: dict[str, Any] = {}

    def values(self, mu: Mapping[str, float]) -> dict[str, float]:
        """Every parameter of the table: ``mu``'s sampled values, nominal values otherwise."""
        return {name: float(mu.get(name, row[0])) for name, row in self.table.items()}

    def law(self, mu: Mapping[str, float]) -> MaterialLaw:
        """The material law for parameter set ``mu``."""
        values = self.values(mu)
        return make_law(self.law_name, {k: values[k] for k in self.law_parameters})

    def history(self, mu: Mapping[str, float]) -> LoadHistory:
        """The load history for parameter set ``mu``."""
        raise NotImplementedError

    def solver(self, mu: Mapping[str, float]) -> QuasiStaticSolver:
        """The quasi-static solver of ``mu`` (sharing this case's assembly pattern)."""
        return QuasiStaticSolver(
            self.fe_space,
            self.law(mu),
            self.history(mu),
            linear_solver=self.linear_solver,
            assembler=self._assembler,
            **self.solver_options(),
        )

    def solver_options(self) -> dict[str, Any]:
        """Keyword options of :class:`QuasiStaticSolver` (rtol, max_iterations, max_cuts)
        beyond the linear solver; none by default."""
        return {}

    def solve(self, mu: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Fields of :func:`~nirom.mechanics.output.field_specs` at the output times."""
        mu = self.space.validate(mu)
        try:
            solver = self.solver(mu)
            result = solver.run(self.times)
        except ConvergenceError as exc:
            raise SolverError(f"{self.name}: {exc}") from None
        except NiromError as exc:  # an impossible law parameter, a bad load
            raise SolverError(f"{self.name}: {exc}") from None
        self.run_info = {
            **result.summary(),
            "law": solver.law.to_dict(),
            "load_history": solver.history.to_dict(),
            "linear_solver": solver.linear_solver.name,
        }
        return check_finite(self.name, dataset_fields(self.fe_space, result, self._projection))
