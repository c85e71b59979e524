"""Load histories: amplitude(t) x spatial load, described in JSON.

A :class:`LoadHistory` is a list of terms, each a spatial load times an
:mod:`amplitude <nirom.mechanics.amplitudes>`:

- :class:`Pressure` ``value`` (stress unit, MPa) on a named boundary, pushing
  along the inward normal (traction ``-value * n``);
- :class:`Traction` ``value`` (a vector, MPa) on a named boundary;
- :class:`BodyForce` ``value`` (a vector, force per volume, N/mm^3) in the whole body;
- :class:`Displacement` ``value`` (length, mm) imposed on the listed ``components``
  (0 = x, 1 = y, 2 = z) of every node of a named boundary: a Dirichlet condition.
  Symmetry planes and supports are displacements 0 with a constant amplitude.

``LoadHistory.to_dict()`` / ``LoadHistory.from_dict()`` round-trip through JSON,
so a dataset or a reduced model can record how it was loaded and take a new
history. :func:`assemble_loads` turns a history into vectors on a
:class:`~nirom.mechanics.space.DisplacementSpace`: the external force at time
``t`` (:meth:`AssembledLoads.external_force`) and the Dirichlet conditions
(:class:`~nirom.mechanics.dirichlet.DirichletConditions`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import skfem

from nirom.checks import check_integer, check_number
from nirom.errors import ParameterError
from nirom.mechanics.amplitudes import Amplitude, as_amplitude
from nirom.mechanics.dirichlet import DirichletConditions
from nirom.mechanics.space import DisplacementSpace


def _vector(what: str, value: Any) -> tuple[float, ...]:
    values = np.atleast_1d(np.asarray(value, dtype=object))
    if values.ndim != 1 or not 1 <= values.size <= 3:
        raise ParameterError(f"{what} must be a vector of 1 to 3 numbers, got {value!r}")
    return tuple(check_number(what, v) for v in values)


@dataclass(frozen=True)
class SpatialLoad:
    """Base of the spatial loads; ``kind`` is the JSON tag."""

    kind: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class Pressure(SpatialLoad):
    boundary: str
    value: float
    kind: ClassVar[str] = "pressure"

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "value", check_number(f"pressure on {self.boundary!r}", self.value)
        )

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "boundary": self.boundary, "value": self.value}


@dataclass(frozen=True)
class Traction(SpatialLoad):
    boundary: str
    value: tuple[float, ...]
    kind: ClassVar[str] = "traction"

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", _vector(f"traction on {self.boundary!r}", self.value))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "boundary": self.boundary, "value": list(self.value)}


@dataclass(frozen=True)
class BodyForce(SpatialLoad):
    value: tuple[float, ...]
    kind: ClassVar[str] = "body_force"

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", _vector("body force", self.value))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": list(self.value)}


@dataclass(frozen=True)
class Displacement(SpatialLoad):
    boundary: str
    components: tuple[int, ...]
    value: tuple[float, ...] = field(default=())
    kind: ClassVar[str] = "displacement"

    def __post_init__(self) -> None:
        comps = tuple(
            check_integer(f"displacement component on {self.boundary!r}", c, 0)
            for c in np.atleast_1d(self.components)
        )
        if not comps or len(set(comps)) != len(comps) or max(comps) > 2:
            raise ParameterError(
                f"displacement on {self.boundary!r}: components must be distinct among 0, 1, 2, "
                f"got {self.components!r}"
            )
        value = (
            (0.0,) * len(comps)
            if self.value == ()
            else _vector(f"displacement on {self.boundary!r}", self.value)
        )
        if len(value) != len(comps):
            raise ParameterError(
                f"displacement on {self.boundary!r}: {len(comps)} components but "
                f"{len(value)} values"
            )
        object.__setattr__(self, "components", comps)
        object.__setattr__(self, "value", value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "boundary": self.boundary,
            "components": list(self.components),
            "value": list(self.value),
        }


_KINDS: dict[str, type[SpatialLoad]] = {
    k.kind: k for k in (Pressure, Traction, BodyForce, Displacement)
}


def load_from_dict(data: Mapping[str, Any]) -> SpatialLoad:
    """A spatial load from its JSON form."""
    data = dict(data)
    kind = data.pop("kind", None)
    if kind not in _KINDS:
        raise ParameterError(f"load kind must be one of {', '.join(_KINDS)}, got {kind!r}")
    try:
        return _KINDS[kind](**data)
    except TypeError as exc:
        raise ParameterError(f"{kind} load: bad keys ({exc})") from None


@dataclass(frozen=True)
class LoadTerm:
    """One spatial load times its amplitude."""

    load: SpatialLoad
    amplitude: Amplitude

    def to_dict(self) -> dict[str, Any]:
        return {"load": self.load.to_dict(), "amplitude": self.amplitude.to_dict()}


class LoadHistory:
    """A sum of spatial loads, each times an amplitude of time.

    Parameters
    ----------
    terms : iterable of (SpatialLoad, amplitude) pairs or LoadTerm
        The amplitude may be an :class:`Amplitude`, its JSON form or a number.
    """

    def __init__(self, terms: Iterable[LoadTerm | tuple[SpatialLoad, Any]]) -> None:
        self.terms: list[LoadTerm] = []
        for term in terms:
            if not isinstance(term, LoadTerm):
                load, amplitude = term
                if isinstance(load, Mapping):
                    load = load_from_dict(load)
                term = LoadTerm(load, as_amplitude(amplitude))
            self.terms.append(term)

    def to_dict(self) -> dict[str, Any]:
        return {"terms": [t.to_dict() for t in self.terms]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LoadHistory:
        try:
            terms = data["terms"]
            return cls((load_from_dict(t["load"]), t["amplitude"]) for t in terms)
        except (KeyError, TypeError) as exc:
            raise ParameterError(f"load history: expected {{'terms': [...]}} ({exc})") from None

    def __repr__(self) -> str:
        return f"LoadHistory({self.to_dict()!r})"


class AssembledLoads:
    """A load history on a displacement space.

    Attributes
    ----------
    dirichlet : DirichletConditions
        Constrained dofs, free dofs and imposed values at any time.
    """

    def __init__(
        self,
        space: DisplacementSpace,
        history: LoadHistory,
        vectors: Sequence[tuple[np.ndarray, Amplitude]],
        dirichlet: DirichletConditions,
    ) -> None:
        self.space = space
        self.history = history
        self._vectors = list(vectors)
        self.dirichlet = dirichlet

    def external_force(self, t: float) -> np.ndarray:
        """External force vector at time ``t`` (N; N/mm of thickness in plane strain), all dofs."""
        out = np.zeros(self.space.n_dofs)
        for vector, amplitude in self._vectors:
            out += float(amplitude(t)) * vector
        return out


def _surface_vector(space: DisplacementSpace, load: Pressure | Traction) -> np.ndarray:
    facets = space.facets(load.boundary)
    element = space.basis.elem
    # Order 2 * degree integrates the shape functions times a constant exactly on straight facets.
    fb = skfem.FacetBasis(space.fem_mesh, element, facets=facets, intorder=2 * space.degree + 1)
    if isinstance(load, Pressure):
        p = load.value

        @skfem.LinearForm
        def form(v: Any, w: Any) -> Any:
            return -p * sum(v[i] * w.n[i] for i in range(space.dim))

    else:
        value = _pad(load.value, space.dim, f"traction on {load.boundary!r}")

        @skfem.LinearForm
        def form(v: Any, w: Any) -> Any:
            return sum(value[i] * v[i] for i in range(space.dim))

    return form.assemble(fb)


def _body_vector(space: DisplacementSpace, load: BodyForce) -> np.ndarray:
    value = _pad(load.value, space.dim, "body force")
    cb = skfem.Basis(space.fem_mesh, space.basis.elem, intorder=2 * space.degree)

    @skfem.LinearForm
    def form(v: Any, w: Any) -> Any:
        return sum(value[i] * v[i] for i in range(space.dim))

    return form.assemble(cb)


def _pad(value: tuple[float, ...], dim: int, what: str) -> tuple[float, ...]:
    if len(value) != dim:
        raise ParameterError(f"{what}: {len(value)} components on a {dim}-D mesh")
    return value


def assemble_loads(space: DisplacementSpace, history: LoadHistory) -> AssembledLoads:
    """Load vectors and Dirichlet conditions of ``history`` on ``space`` (assembled once)."""
    vectors: list[tuple[np.ndarray, Amplitude]] = []
    imposed = []
    for term in history.terms:
        load = term.load
        if isinstance(load, (Pressure, Traction)):
            vectors.append((_surface_vector(space, load), term.amplitude))
        elif isinstance(load, BodyForce):
            vectors.append((_body_vector(space, load), term.amplitude))
        else:
            if max(load.components) >= space.dim:
                raise ParameterError(
                    f"displacement on {load.boundary!r}: component {max(load.components)} "
                    f"on a {space.dim}-D mesh"
                )
            nodes = space.boundary_nodes(load.boundary)
            for comp, value in zip(load.components, load.value, strict=True):
                imposed.append((space.dim * nodes + comp, value, term.amplitude))
    return AssembledLoads(space, history, vectors, DirichletConditions(space.n_dofs, imposed))
