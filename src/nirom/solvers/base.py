"""The `Solver` interface every high-fidelity solver implements, and the registry.

The registry: :func:`register` (a class decorator), :func:`make_solver` (a
name and options to a solver), :func:`solver_names`, and :func:`resolve_solver`
(a name, a command-solver TOML file or a solver object to a solver), which
generation, studies and refinement use.

A solver declares its parameter space, its mesh and the fields it returns;
``solve(mu)`` returns the fields for one parameter set. Generation ships a
solver to Dask workers as a *recipe* (its registered name and JSON options),
so each worker builds (and assembles) it once and no heavy object travels.
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp

from nirom.dataset.quadrature import QuadratureRule
from nirom.dataset.schema import FieldSpec
from nirom.errors import NiromError
from nirom.mesh import Mesh
from nirom.parameters import ParameterSpace
from nirom.solvers.operators import AffineDecomposition, LinearSystem, TransientDecomposition


class SolverError(NiromError, RuntimeError):
    """A solve failed for a parameter set (singular system, NaN, external failure)."""


#: Key of a solver's ``run_info`` holding the solve time the solver itself measured
#: (an external program's own report); generation stores it as the sample's solve time.
REPORTED_SOLVE_TIME = "reported_solve_time_s"


class Solver(ABC):
    """A parametrized high-fidelity model: ``solve(mu) -> {field name: array}``.

    Subclasses set ``name`` (the registry key) and, in their constructor,
    ``space``, ``mesh``, ``fields`` and ``options`` (the JSON-compatible
    keyword arguments that rebuild the same solver); solvers with fields at
    quadrature points also set ``quadrature`` (the rule datasets record).

    A solver may keep, after each ``solve``, a JSON-compatible dict
    ``run_info`` that generation stores as the sample's ``info``. Its entry
    :data:`REPORTED_SOLVE_TIME`, when present, is the sample's solve time (the
    solver's own measure, used for speed-ups); generation then records its
    own wall-clock measure beside it as ``info["wall_time_s"]`` and
    ``info["solve_time_source"] = "reported"``. Without it the solve time is
    the wall-clock time of ``solve``.
    """

    name: str = ""
    space: ParameterSpace
    mesh: Mesh | None
    fields: list[FieldSpec]
    options: dict[str, Any]
    quadrature: QuadratureRule | None = None
    #: True for a shape family: ``mesh`` is None and each ``solve`` sets ``sample_mesh``,
    #: the mesh its fields live on, which generation stores with the sample.
    per_sample_mesh: bool = False
    sample_mesh: Mesh | None = None

    @abstractmethod
    def solve(self, mu: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Fields for parameter set ``mu``, shapes as :class:`FieldSpec` gives.

        Raises :class:`SolverError` when the solve cannot succeed for ``mu``.
        """

    def draw_field_inputs(self, sample_id: int, seed: int) -> dict[str, np.ndarray]:
        """Field inputs of design sample ``sample_id``, drawn from the solver's prior.

        Solvers whose space has field inputs (a permeability map, an initial
        condition) override this; the draw must depend only on
        ``(seed, sample_id)`` (e.g. ``np.random.default_rng([seed, sample_id])``)
        so that any worker, in any order, draws the same field and a resumed
        run reproduces it.
        """
        if self.space.field_inputs:
            names = [p.name for p in self.space.field_inputs]
            raise SolverError(
                f"solver {self.name!r} has field inputs {names} but no prior to draw them from"
            )
        return {}

    def mass_matrix(self) -> sp.spmatrix | None:
        """Mass matrix of the nodal L2 inner product, if the solver knows it."""
        return None

    def affine_decomposition(self) -> AffineDecomposition | None:
        """The exact ``A(mu) = sum theta_q A_q``, ``f(mu) = sum phi_p f_p`` of a linear
        stationary solver that knows it (:mod:`nirom.solvers.operators`); None otherwise."""
        return None

    def system(self, mu: Mapping[str, Any]) -> LinearSystem:
        """The algebraic system ``A(mu) x = f(mu)`` the solver solves at ``mu``.

        Linear stationary solvers implement it (``nirom generate --operators``
        stores it per sample); the default derives it from the affine decomposition.
        """
        affine = self.affine_decomposition()
        if affine is None:
            raise SolverError(f"solver {self.name!r} does not give its system matrices")
        return affine.system(self.space.validate(mu))

    def transient_decomposition(self) -> TransientDecomposition | None:
        """The affine decomposition, mass matrix, initial state and time-scheme substeps of a
        linear time-dependent solver that knows them (:mod:`nirom.solvers.operators`), for
        the POD-greedy; None otherwise."""
        return None

    def trajectory(self, mu: Mapping[str, Any]) -> np.ndarray:
        """The unknowns after every substep of :meth:`transient_decomposition`'s scheme
        (J + 1, N), initial state first; time-dependent linear solvers implement it."""
        raise SolverError(f"solver {self.name!r} does not give its trajectory")

    def product_matrix(self) -> sp.spmatrix | None:
        """SPD inner-product matrix on the unknowns for reduced-basis error bounds
        (the energy product at a reference parameter), if the solver knows one."""
        return None

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> Solver:
        """The solver a TOML file describes (the kinds :func:`resolve_solver` reads
        from a file override this)."""
        raise SolverError(f"{path}: solver {cls.name!r} is not described by a TOML file")

    def recipe(self) -> dict[str, Any]:
        """JSON-compatible ``{"name", "options"}`` that :func:`make_solver` rebuilds."""
        try:
            json.dumps(self.options)
        except TypeError:
            raise SolverError(
                f"solver {self.name!r} has options that are not JSON ({self.options!r}); "
                "it can run in this process but not be shipped to workers"
            ) from None
        return {"name": self.name, "options": dict(self.options)}


def check_finite(solver_name: str, fields: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Raise :class:`SolverError` naming the field if a solution has NaN or inf."""
    for name, value in fields.items():
        n_bad = int(np.count_nonzero(~np.isfinite(value)))
        if n_bad:
            raise SolverError(f"{solver_name}: field {name!r} has {n_bad} NaN or infinite values")
    return dict(fields)


_REGISTRY: dict[str, type[Solver]] = {}


def register(name: str) -> Callable[[type[Solver]], type[Solver]]:
    """Class decorator adding a solver to the registry under ``name``."""

    def add(cls: type[Solver]) -> type[Solver]:
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return add


def solver_names() -> list[str]:
    """Names of the registered solvers."""
    return sorted(_REGISTRY)


def resolve_solver(
    case: str | os.PathLike[str] | Solver, options: Mapping[str, Any] | None = None
) -> Solver:
    """A solver from a registered name (with ``options``), a TOML file (a mechanics case,
    :mod:`nirom.cases`, when it has a ``[law]``; a CommandSolver when it has a
    ``command``), or a Solver itself (returned as is)."""
    if isinstance(case, Solver):
        if options:
            raise SolverError("solver options apply to a solver name, not a solver object")
        return case
    text = str(case)
    if text.endswith(".toml"):
        if options:
            raise SolverError(f"{text}: a TOML solver takes its options from its file")
        return _toml_solver(text)
    return make_solver(text, options)


def _toml_solver(path: str) -> Solver:
    """The solver a TOML file describes: a mechanics case or an external command."""
    import tomllib

    try:
        with open(path, "rb") as fh:
            keys = set(tomllib.load(fh))
    except FileNotFoundError:
        raise SolverError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise SolverError(f"{path}: not valid TOML ({exc})") from None
    # found by their registered names (importing nirom.solvers registers them), since
    # both build on this module: nirom.solvers.case and nirom.solvers.command
    if "law" in keys and "command" not in keys:
        return _REGISTRY["mechanics"].from_toml(path)
    if "command" in keys:
        return _REGISTRY["command"].from_toml(path)
    raise SolverError(
        f"{path}: neither a mechanics case ([law], [mesh], [[loads]]) nor an external "
        "program (command = ...)"
    )


def recorded_solver(dataset: Any, needed_for: str = "") -> Solver:
    """The solver that generated ``dataset``, rebuilt from the recipe its provenance
    records (``generation``, or ``greedy`` for reduced-basis training); a one-line
    ``DatasetError`` naming the dataset (and ``needed_for``) when it records none (an
    imported dataset)."""
    from nirom.errors import DatasetError

    record = dataset.provenance.get("generation") or dataset.provenance.get("greedy") or {}
    recipe = record.get("solver") or {}
    if not recipe.get("name") or recipe.get("options") is None:
        why = f"; {needed_for} needs one" if needed_for else ""
        raise DatasetError(f"{dataset.path}: no reproducible solver recorded{why}")
    return resolve_solver(recipe["name"], recipe["options"])


def make_solver(name: str, options: Mapping[str, Any] | None = None) -> Solver:
    """Build the registered solver ``name`` with keyword ``options``."""
    if name not in _REGISTRY:
        raise SolverError(f"unknown solver {name!r}; built-in solvers: {', '.join(solver_names())}")
    try:
        return _REGISTRY[name](**dict(options or {}))
    except TypeError as exc:
        raise SolverError(f"solver {name!r}: bad options ({exc})") from None
