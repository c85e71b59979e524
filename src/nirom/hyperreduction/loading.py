"""Loads of a reduced model: projected unit loads, liftings, and histories per parameter set.

A load history is a sum of spatial loads times amplitudes
(:class:`~nirom.mechanics.loads.LoadHistory`). Every spatial load is linear in
its value, so a reduced model keeps, per loaded boundary, the projection
``V^T f(e_i)`` of the load with unit value ``e_i`` (one column per value
component), and per imposed displacement component the strain of its unit
lifting at the reduced points and the dofs it moves. Any history made of the
same spatial loads (other values, other amplitudes, other times) is then
assembled online without the mesh: ``f_r(t) = sum amp(t) F_key @ value`` and
``eps_d(t) = sum amp(t) value E_key``.

:class:`ParametricLoading` gives the history of a parameter set: the case's
nominal history with its force values scaled by one parameter (``load`` of
``plate-hole``, ``pressure`` of ``thick-cylinder``), checked against the case
itself at fit time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from nirom.errors import ParameterError
from nirom.mechanics.loads import (
    BodyForce,
    Displacement,
    LoadHistory,
    Pressure,
    SpatialLoad,
    Traction,
    assemble_loads,
)
from nirom.mechanics.space import DisplacementSpace
from nirom.mechanics.strain import StrainOperator


def load_key(load: SpatialLoad) -> str:
    """The name a reduced model files a spatial load under: ``kind:boundary``."""
    return f"{load.kind}:{getattr(load, 'boundary', 'body')}"


def _unit_loads(load: SpatialLoad, dim: int) -> list[SpatialLoad]:
    if isinstance(load, Pressure):
        return [Pressure(load.boundary, 1.0)]
    unit = [tuple(float(i == j) for j in range(dim)) for i in range(dim)]
    if isinstance(load, Traction):
        return [Traction(load.boundary, e) for e in unit]
    if isinstance(load, BodyForce):
        return [BodyForce(e) for e in unit]
    raise ParameterError(f"no unit loads for a {load.kind} load")


def reduce_loads(
    space: DisplacementSpace,
    strain: StrainOperator,
    basis: np.ndarray,
    points: np.ndarray,
    history: LoadHistory,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Reduced unit loads of the spatial loads of ``history``.

    Returns ``(forces, arrays)``: ``forces[key]`` (k, n_values) the projected unit
    loads; ``arrays`` holds, for every imposed component ``key/c`` of a displacement
    load, ``lift/<key>/<c>/strain`` (n_points, n_active) and ``lift/<key>/<c>/dofs``.
    """
    forces: dict[str, np.ndarray] = {}
    lifts: dict[str, np.ndarray] = {}
    k = strain.n_active
    rows = (np.asarray(points)[:, None] * k + np.arange(k)).ravel()
    B = strain.matrix()[rows]
    for term in history.terms:
        load = term.load
        key = load_key(load)
        if isinstance(load, Displacement):
            nodes = space.boundary_nodes(load.boundary)
            for c in load.components:
                dofs = space.dim * nodes + c
                unit = np.zeros(space.n_dofs)
                unit[dofs] = 1.0
                lifts[f"lift/{key}/{c}/strain"] = (B @ unit).reshape(-1, k)
                lifts[f"lift/{key}/{c}/dofs"] = dofs
            continue
        columns = []
        for unit in _unit_loads(load, space.dim):
            f = assemble_loads(space, LoadHistory([(unit, 1.0)])).external_force(0.0)
            columns.append(basis.T @ f)
        forces[key] = np.stack(columns, axis=1)
    return forces, lifts


class ReducedLoads:
    """A load history assembled on reduced operators (no mesh needed).

    ``forces`` and ``lifts`` as :func:`reduce_loads` returns them; ``constrained``
    the keys ``kind:boundary/c`` of the imposed components the basis was built with.
    """

    def __init__(
        self, forces: Mapping[str, np.ndarray], lifts: Mapping[str, np.ndarray], n_dofs: int
    ) -> None:
        self.forces = dict(forces)
        self.lifts = dict(lifts)
        self.n_dofs = int(n_dofs)
        self.constrained = sorted(
            k[len("lift/") : -len("/strain")] for k in self.lifts if k.endswith("/strain")
        )

    def bind(self, history: LoadHistory) -> BoundLoads:
        """The reduced force and lifting of ``history`` at any time; ParameterError for a
        load this model was not built with, or other imposed components."""
        forces, lifts, seen = [], [], []
        for term in history.terms:
            load, amp = term.load, term.amplitude
            key = load_key(load)
            if isinstance(load, Displacement):
                for c, value in zip(load.components, load.value, strict=True):
                    name = f"{key}/{c}"
                    if f"lift/{name}/strain" not in self.lifts:
                        raise ParameterError(
                            f"load history: imposed displacement {name} is not one this model "
                            f"was built with ({', '.join(self.constrained)})"
                        )
                    seen.append(name)
                    lifts.append((name, float(value), amp))
                continue
            if key not in self.forces:
                raise ParameterError(
                    f"load history: a {key} load is not one this model was built with "
                    f"({', '.join(self.forces) or 'none'})"
                )
            value = np.atleast_1d(np.asarray(load.value, dtype=float))
            if value.size != self.forces[key].shape[1]:
                raise ParameterError(
                    f"load history: {key} takes {self.forces[key].shape[1]} value(s), "
                    f"got {value.size}"
                )
            forces.append((self.forces[key] @ value, amp))
        if sorted(set(seen)) != self.constrained:
            raise ParameterError(
                f"load history: the imposed displacements must be {self.constrained} "
                f"(the reduced basis vanishes there), got {sorted(set(seen))}"
            )
        return BoundLoads(self, forces, lifts)


class BoundLoads:
    """One history on reduced operators: ``force(t)`` (k,), ``strain(t)`` (n_points, n_active),
    ``displacement(t)`` (n_dofs,) the lifting of the imposed values."""

    def __init__(
        self,
        reduced: ReducedLoads,
        forces: Sequence[tuple[np.ndarray, Any]],
        lifts: Sequence[tuple[str, float, Any]],
    ) -> None:
        self._reduced, self._forces, self._lifts = reduced, list(forces), list(lifts)

    def force(self, t: float) -> np.ndarray:
        """Reduced external force ``V^T f_ext(t)``."""
        out = 0.0
        for vector, amp in self._forces:
            out = out + float(amp(t)) * vector
        return np.asarray(out, dtype=float)

    def strain(self, t: float) -> np.ndarray | float:
        """Active strains of the lifting at the reduced points (0.0 when nothing is imposed)."""
        out: np.ndarray | float = 0.0
        for name, value, amp in self._lifts:
            scale = value * float(amp(t))
            if scale:
                out = out + scale * self._reduced.lifts[f"lift/{name}/strain"]
        return out

    def displacement(self, t: float) -> np.ndarray:
        """Imposed displacements as a full dof vector (zero on the free dofs)."""
        u = np.zeros(self._reduced.n_dofs)
        for name, value, amp in self._lifts:
            u[self._reduced.lifts[f"lift/{name}/dofs"]] = value * float(amp(t))
        return u


class ParametricLoading:
    """History of a parameter set: the nominal history, force values times ``mu[name] / nominal``.

    ``nominal`` the history's JSON form at the nominal parameters; ``parameter`` the
    scaling parameter (None: every parameter set has the nominal history).
    """

    def __init__(
        self, nominal: Mapping[str, Any], parameter: str | None, nominal_value: float
    ) -> None:
        self.nominal = dict(nominal)
        self.parameter = parameter
        self.nominal_value = float(nominal_value)

    def history(self, mu: Mapping[str, float]) -> LoadHistory:
        """The load history of ``mu``."""
        scale = 1.0
        if self.parameter is not None and self.parameter in mu:
            scale = float(mu[self.parameter]) / self.nominal_value
        terms = []
        for term in self.nominal["terms"]:
            load = dict(term["load"])
            if load["kind"] != "displacement":
                load["value"] = (np.asarray(load["value"], dtype=float) * scale).tolist()
                if load["kind"] == "pressure":
                    load["value"] = float(load["value"])
            terms.append({"load": load, "amplitude": term["amplitude"]})
        return LoadHistory.from_dict({"terms": terms})

    def to_dict(self) -> dict[str, Any]:
        return {
            "nominal": self.nominal,
            "parameter": self.parameter,
            "nominal_value": self.nominal_value,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ParametricLoading:
        return cls(d["nominal"], d["parameter"], d["nominal_value"])

    @classmethod
    def of_case(cls, case: Any, mus: Sequence[Mapping[str, float]]) -> ParametricLoading:
        """The loading of a mechanics case, checked on the parameter sets ``mus``."""
        nominal_mu = case.values({})
        nominal = case.history(nominal_mu).to_dict()
        candidates = [n for n in case.table if n not in case.law_parameters]
        for name in [None, *candidates]:
            value = nominal_mu[name] if name is not None else 1.0
            loading = cls(nominal, name, value)
            if all(
                _same(loading.history(case.values(m)).to_dict(), case.history(m).to_dict())
                for m in mus
            ):
                return loading
        raise ParameterError(
            f"case {case.name!r}: its load history is not the nominal one scaled by a parameter"
        )


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) <= 1e-12 * max(abs(a), abs(b), 1.0)
    return a == b
