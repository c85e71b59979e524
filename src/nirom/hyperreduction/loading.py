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

    def add_displacements(self, u: np.ndarray, times: np.ndarray) -> np.ndarray:
        """``u`` (n_times, n_dofs) plus the imposed displacements at ``times``, in place
        (nothing to add for zero imposed values, the supports of most cases)."""
        for name, value, amp in self._lifts:
            dofs = self._reduced.lifts[f"lift/{name}/dofs"]
            scale = value * np.asarray([float(amp(t)) for t in times])
            if np.any(scale):
                u[:, dofs] = scale[:, None]
        return u

    def displacement(self, t: float) -> np.ndarray:
        """Imposed displacements as a full dof vector (zero on the free dofs)."""
        u = np.zeros(self._reduced.n_dofs)
        for name, value, amp in self._lifts:
            u[self._reduced.lifts[f"lift/{name}/dofs"]] = value * float(amp(t))
        return u


class ParametricLoading:
    """History of a parameter set: each load term's value times its scale parameter.

    ``base`` is a history's JSON form whose scaled terms hold their value per unit of
    their scale; ``scales`` names, per term, the parameter scaling it (None: fixed, as
    supports are); ``nominal_values`` the scales' values where a parameter set lacks
    them. Loads of several independent scales, and imposed displacements with a scale,
    are histories of this form (a case file's ``[[loads]]``).
    """

    def __init__(
        self,
        base: Mapping[str, Any],
        scales: Sequence[str | None],
        nominal_values: Mapping[str, float],
    ) -> None:
        self.base = dict(base)
        self.scales = list(scales)
        self.nominal_values = {k: float(v) for k, v in nominal_values.items()}
        if len(self.scales) != len(self.base["terms"]):
            raise ParameterError("parametric loading: one scale (or None) per load term")

    def history(self, mu: Mapping[str, float]) -> LoadHistory:
        """The load history of ``mu``."""
        terms = []
        for term, scale in zip(self.base["terms"], self.scales, strict=True):
            load = dict(term["load"])
            if scale is not None and "value" in load:
                factor = float(mu[scale]) if scale in mu else self.nominal_values[scale]
                value = np.asarray(load["value"], dtype=float) * factor
                load["value"] = float(value) if value.ndim == 0 else value.tolist()
            terms.append({"load": load, "amplitude": term["amplitude"]})
        return LoadHistory.from_dict({"terms": terms})

    @property
    def parameters(self) -> list[str]:
        """The scale parameters, in order of appearance."""
        return list(dict.fromkeys(s for s in self.scales if s is not None))

    def to_dict(self) -> dict[str, Any]:
        return {"base": self.base, "scales": self.scales, "nominal_values": self.nominal_values}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ParametricLoading:
        """Also the form models saved before several scales (one parameter scaling every
        force term of a nominal history)."""
        if "base" in d:
            return cls(d["base"], d["scales"], d["nominal_values"])
        parameter, value = d["parameter"], float(d["nominal_value"])
        terms = d["nominal"]["terms"]
        if parameter is None:
            return cls(d["nominal"], [None] * len(terms), {})
        scales = [parameter if t["load"]["kind"] != "displacement" else None for t in terms]
        base = cls(d["nominal"], scales, {}).history({parameter: 1.0 / value}).to_dict()
        return cls(base, scales, {parameter: value})

    @classmethod
    def of_case(cls, case: Any, mus: Sequence[Mapping[str, float]]) -> ParametricLoading:
        """The loading of a mechanics case, checked on the parameter sets ``mus``: from the
        scales it declares (``case.term_scales()``), or for a case that declares none the
        nominal history scaled by one parameter (found by trying each)."""
        nominal_mu = case.values({})
        if hasattr(case, "term_scales"):
            scales = case.term_scales()
            unit = {s: 1.0 for s in scales if s is not None}
            base = case.history({**nominal_mu, **unit}).to_dict()
            loading = cls(base, scales, {s: nominal_mu[s] for s in unit})
            candidates = [loading]
        else:
            nominal = case.history(nominal_mu).to_dict()
            names = [n for n in case.table if n not in case.law_parameters]
            candidates = [
                cls.from_dict({"nominal": nominal, "parameter": None, "nominal_value": 1.0})
            ]
            candidates += [
                cls.from_dict({"nominal": nominal, "parameter": n, "nominal_value": nominal_mu[n]})
                for n in names
                if nominal_mu[n] != 0
            ]
        for loading in candidates:
            if all(
                _same(loading.history(case.values(m)).to_dict(), case.history(m).to_dict())
                for m in mus
            ):
                return loading
        raise ParameterError(
            f"case {getattr(case, 'label', case.name)!r}: its load history is not one of load "
            "terms times scale parameters (declare the scales: a case file's [[loads]] scale)"
        )


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) <= 1e-12 * max(abs(a), abs(b), 1.0)
    return a == b
