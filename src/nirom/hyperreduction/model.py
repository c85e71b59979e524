"""The hyper-reduced model: reduced operators, the online solve, the reconstruction of fields.

A :class:`ReducedModel` holds everything the online stage needs and nothing
of the mesh beyond the bases: the POD basis ``V`` (n_dofs, k), the reduced
integration points (the cubature's, with their weights, and those Gappy-POD
needs, with weight zero), the mode strains there, the reduced unit loads and
liftings (:mod:`~nirom.hyperreduction.loading`), the Gappy-POD bases of the
dual quantities (Voigt stresses and cumulated plastic strain at the
quadrature points, and their nodal L2 projections), the material law's name
and nominal parameters, and the parametric loading.

``simulate(mu, history=..., times=..., law=...)`` runs the reduced Newton
(:mod:`~nirom.hyperreduction.newton`) with the *same* law code as the
high-fidelity solver on the reduced points only, then rebuilds the dataset
fields of :mod:`nirom.mechanics.output` and the error indicator
(:mod:`~nirom.hyperreduction.indicator`). Saved as JSON + arrays
(:meth:`to_json`, :meth:`to_arrays`, :meth:`from_saved`); no pickle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nirom.errors import ModelError, ParameterError
from nirom.hyperreduction.gappy import GappyPOD
from nirom.hyperreduction.indicator import gappy_indicator
from nirom.hyperreduction.loading import ParametricLoading, ReducedLoads
from nirom.hyperreduction.newton import ReducedOperators, ReducedResult, run
from nirom.mechanics.laws import MaterialLaw, make_law
from nirom.mechanics.loads import LoadHistory
from nirom.mechanics.output import voigt_stress
from nirom.threads import one_blas_thread

#: Values (times x dofs) from which rebuilding the fields uses BLAS's threads.
LARGE_FIELDS = 2_000_000

#: Fields a reduced model rebuilds (those of nirom.mechanics.output) and the indicator.
FIELDS = ("u", "sigma", "von_mises", "p", "sigma_qp", "p_qp")


@dataclass
class DualBasis:
    """Gappy-POD of one dual quantity: modes at the quadrature points (k, n_qp * c),
    their nodal projections (k, n_nodes * c), components ``c``."""

    modes: np.ndarray
    nodal: np.ndarray
    components: int


@dataclass
class ReducedModel:
    """Reduced operators and what the online stage needs (see the module docstring)."""

    basis: np.ndarray
    points: np.ndarray
    weights: np.ndarray
    strains: np.ndarray
    components: tuple[int, ...]
    loads: ReducedLoads
    sigma: DualBasis
    p: DualBasis
    law_name: str
    law_parameters: tuple[str, ...]
    nominal: dict[str, float]
    loading: ParametricLoading
    times: np.ndarray
    dim: int
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.operators = ReducedOperators(self.strains, self.weights, tuple(self.components))
        self.sigma_gappy = GappyPOD(self.sigma.modes, self.points, self.sigma.components)
        self.p_gappy = GappyPOD(self.p.modes, self.points, self.p.components)

    # -- what a parameter set means ---------------------------------------------------
    @property
    def n_modes(self) -> int:
        return int(self.basis.shape[1])

    @property
    def n_cubature_points(self) -> int:
        """Points with a cubature weight (> 0)."""
        return int(np.count_nonzero(self.weights))

    def law(self, mu: Mapping[str, float] | None = None) -> MaterialLaw:
        """The material law of parameter set ``mu`` (nominal values for what it lacks)."""
        values = {**self.nominal, **{k: float(v) for k, v in (mu or {}).items()}}
        return make_law(self.law_name, {k: values[k] for k in self.law_parameters})

    def history(self, mu: Mapping[str, float] | None = None) -> LoadHistory:
        """The load history of parameter set ``mu``."""
        return self.loading.history({**self.nominal, **dict(mu or {})})

    # -- online --------------------------------------------------------------------------
    def solve(
        self,
        mu: Mapping[str, float] | None = None,
        *,
        history: LoadHistory | Mapping[str, Any] | None = None,
        times: Sequence[float] | None = None,
        law: MaterialLaw | None = None,
        tangent: str = "consistent",
        timings: dict[str, float] | None = None,
    ) -> tuple[ReducedResult, Any, np.ndarray]:
        """The reduced Newton only: ``(ReducedResult, bound loads, times)``; ``tangent`` and
        ``timings`` as :func:`~nirom.hyperreduction.newton.run` takes them."""
        if history is not None and not isinstance(history, LoadHistory):
            history = LoadHistory.from_dict(history)
        history = history or self.history(mu)
        times = self.times if times is None else _check_times(times)
        law = law or self.law(mu)
        loads = self.loads.bind(history)
        result = run(
            self.operators, law, times, loads.force, loads.strain, tangent=tangent, timings=timings
        )
        return result, loads, times

    def simulate(
        self,
        mu: Mapping[str, float] | None = None,
        *,
        history: LoadHistory | Mapping[str, Any] | None = None,
        times: Sequence[float] | None = None,
        law: MaterialLaw | None = None,
        fields: Sequence[str] = FIELDS,
    ) -> dict[str, np.ndarray]:
        """Fields (n_times, ...) as the dataset stores them, plus ``indicator`` (n_times,).

        ``mu`` sets the law's parameters and the load's scale (nominal values
        for what it lacks); ``history`` (a LoadHistory or its JSON form) and
        ``times`` (s, increasing, starting at the virgin state) replace the
        training ones; ``law`` replaces the law.
        """
        unknown = sorted(set(fields) - set(FIELDS))
        if unknown:
            raise ParameterError(f"unknown field(s) {unknown}; choose among {', '.join(FIELDS)}")
        # Small products: OpenBLAS threads would cost more than they save (on a loaded
        # machine one plate prediction took 37-136 ms with them, 6 ms without); the fields
        # of a large mesh are large products, which threads do speed up.
        with one_blas_thread():
            result, loads, times = self.solve(mu, history=history, times=times, law=law)
            if len(times) * self.basis.shape[0] < LARGE_FIELDS:
                return self.reconstruct(result, loads, times, fields)
        return self.reconstruct(result, loads, times, fields)

    def reconstruct(
        self, result: ReducedResult, loads: Any, times: np.ndarray, fields: Sequence[str] = FIELDS
    ) -> dict[str, np.ndarray]:
        """Fields and indicator (per time step, the larger Gappy misfit of stresses and
        plastic strain at the reduced points) of a reduced solve."""
        out: dict[str, np.ndarray] = {}
        n_t = len(times)
        if "u" in fields:
            u = loads.add_displacements(result.q @ self.basis.T, times)
            out["u"] = u.reshape(n_t, -1, self.dim)
        sigma_red = voigt_stress(result.stress, self.dim)  # (n_t, n_points, c)
        a_sigma = self.sigma_gappy.coefficients(sigma_red)
        a_p = self.p_gappy.coefficients(result.p)
        c = self.sigma.components
        if "sigma_qp" in fields:
            out["sigma_qp"] = (a_sigma @ self.sigma.modes).reshape(n_t, -1, c)
        if {"sigma", "von_mises"} & set(fields):
            nodal = (a_sigma @ self.sigma.nodal).reshape(n_t, -1, c)
            if "sigma" in fields:
                out["sigma"] = nodal
            if "von_mises" in fields:
                out["von_mises"] = _von_mises(nodal)
        if "p_qp" in fields:
            out["p_qp"] = a_p @ self.p.modes
        if "p" in fields:
            out["p"] = a_p @ self.p.nodal
        out["indicator"] = np.maximum(
            gappy_indicator(self.sigma_gappy, sigma_red), gappy_indicator(self.p_gappy, result.p)
        )
        return out

    # -- saving ------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "components": list(self.components),
            "law": {"name": self.law_name, "parameters": list(self.law_parameters)},
            "nominal": self.nominal,
            "loading": self.loading.to_dict(),
            "times": [float(t) for t in self.times],
            "dim": self.dim,
            "force_keys": sorted(self.loads.forces),
            "lift_keys": sorted(self.loads.lifts),
            "n_dofs": self.loads.n_dofs,
            "dual_components": {"sigma": self.sigma.components, "p": self.p.components},
            "info": self.info,
        }

    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays = {
            "basis": self.basis,
            "points": self.points,
            "weights": self.weights,
            "strains": self.strains,
            "sigma/modes": self.sigma.modes,
            "sigma/nodal": self.sigma.nodal,
            "p/modes": self.p.modes,
            "p/nodal": self.p.nodal,
        }
        arrays.update({f"force/{k}": v for k, v in self.loads.forces.items()})
        arrays.update(self.loads.lifts)
        return arrays

    @classmethod
    def from_saved(cls, state: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> ReducedModel:
        """The model :meth:`to_json` / :meth:`to_arrays` wrote (ModelError if damaged)."""
        try:
            forces = {k: np.asarray(arrays[f"force/{k}"]) for k in state["force_keys"]}
            lifts = {k: np.asarray(arrays[k]) for k in state["lift_keys"]}
            duals = state["dual_components"]
            return cls(
                basis=np.asarray(arrays["basis"]),
                points=np.asarray(arrays["points"]),
                weights=np.asarray(arrays["weights"]),
                strains=np.asarray(arrays["strains"]),
                components=tuple(int(c) for c in state["components"]),
                loads=ReducedLoads(forces, lifts, int(state["n_dofs"])),
                sigma=DualBasis(
                    np.asarray(arrays["sigma/modes"]),
                    np.asarray(arrays["sigma/nodal"]),
                    int(duals["sigma"]),
                ),
                p=DualBasis(
                    np.asarray(arrays["p/modes"]), np.asarray(arrays["p/nodal"]), int(duals["p"])
                ),
                law_name=str(state["law"]["name"]),
                law_parameters=tuple(state["law"]["parameters"]),
                nominal={k: float(v) for k, v in state["nominal"].items()},
                loading=ParametricLoading.from_dict(state["loading"]),
                times=np.asarray(state["times"], dtype=float),
                dim=int(state["dim"]),
                info=dict(state.get("info") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"malformed hyper-reduced model ({exc!r})") from None

    def summary(self) -> str:
        return (
            f"{self.n_modes} displacement modes, {self.n_cubature_points} cubature points "
            f"({len(self.points)} reduced points with Gappy's), {self.sigma.modes.shape[0]} stress "
            f"and {self.p.modes.shape[0]} plastic-strain modes, law {self.law_name}"
        )


def _check_times(times: Sequence[float]) -> np.ndarray:
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or times.size < 2 or np.any(np.diff(times) <= 0):
        raise ParameterError("times must be an increasing sequence of at least 2 times (s)")
    return times


def _von_mises(sigma: np.ndarray) -> np.ndarray:
    """Von Mises stress of Voigt stresses (..., 4: xx, yy, zz, xy; or 6: xx, yy, zz, yz, xz,
    xy), the value nirom.mechanics.output computes, from the components directly (ten
    times faster than through the deviator of the full tensor)."""
    xx, yy, zz = sigma[..., 0], sigma[..., 1], sigma[..., 2]
    shear = np.sum(sigma[..., 3:] ** 2, axis=-1)
    return np.sqrt(0.5 * ((xx - yy) ** 2 + (yy - zz) ** 2 + (zz - xx) ** 2) + 3.0 * shear)
