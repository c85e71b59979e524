"""Global sensitivity: Sobol indices of quantities of interest and maps of them per value.

The design is SALib's Saltelli scheme on a scrambled Sobol sequence
(``N (D + 2)`` model evaluations for ``D`` parameters and ``N`` base
samples, no second-order indices), drawn in the unit cube and mapped through
each input distribution's inverse CDF (independent inputs). Indices of the
scalar quantities come from ``SALib.analyze.sobol`` (first-order estimator
of Saltelli et al. 2010, total-order of Jansen 1999, bootstrap confidence
intervals). Maps apply the same estimators and bootstrap to every value of a
field at once (vectorized); where a value does not vary (a Dirichlet node)
its indices are NaN.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import norm

from nirom.apps.distributions import Distribution, describe, input_distributions, to_physical
from nirom.apps.quantities import default_quantities, parse_quantities
from nirom.apps.results import result_folder, write_results
from nirom.errors import ParameterError
from nirom.surrogates import Surrogate

# float32 values held at once for the maps; beyond, the values are done in chunks.
MAP_BUDGET = 50_000_000


@dataclass
class SensitivityResult:
    """Sobol indices: per quantity ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (each (D,)).

    ``maps[field]`` holds the same four as arrays of shape (D, *field_shape).
    """

    names: list[str]
    distributions: dict[str, Distribution]
    n_base: int
    n_evaluations: int
    confidence: float
    seed: int
    quantities: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    maps: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """JSON-compatible indices of the quantities, and where each map peaks."""
        peaks = {}
        for name, m in self.maps.items():
            flat = m["S1"].reshape(len(self.names), -1)
            peaks[name] = {
                p: int(np.nanargmax(flat[j])) if np.isfinite(flat[j]).any() else None
                for j, p in enumerate(self.names)
            }
        return {
            "kind": "sensitivity",
            "parameters": self.names,
            "distributions": describe(self.distributions),
            "n_base": self.n_base,
            "n_evaluations": self.n_evaluations,
            "confidence": self.confidence,
            "seed": self.seed,
            "quantities": {
                q: {k: [float(v) for v in arr] for k, arr in ind.items()}
                for q, ind in self.quantities.items()
            },
            "map_peaks": peaks,
        }

    def arrays(self) -> dict[str, np.ndarray]:
        out = {f"maps/{f}/{k}": v for f, m in self.maps.items() for k, v in m.items()}
        out.update(
            {f"quantities/{q}/{k}": v for q, ind in self.quantities.items() for k, v in ind.items()}
        )
        return out

    def save(self, out: str | Path, mesh: Any = None, *, replace: bool = False) -> list[Path]:
        """Write ``sensitivity.json``, ``sensitivity.npz``, the index bars and the maps.

        Into a new folder: ``out``, or ``out-N`` when ``out`` holds an earlier
        sensitivity result (kept unless ``replace``); the paths say where.
        """
        from nirom.apps.plots import can_map, plot_indices, plot_maps

        out = result_folder(out, "sensitivity", replace=replace)
        plots = []
        if self.quantities:
            plots.append(plot_indices(self.quantities, self.names, out / "sensitivity_indices.png"))
        if can_map(mesh):
            for name, m in self.maps.items():
                if m["S1"].shape[1:] != (mesh.n_points,):
                    continue
                for kind, label in (("S1", "first-order"), ("ST", "total")):
                    panels = [(p, m[kind][j]) for j, p in enumerate(self.names)]
                    path = out / f"sensitivity_{name}_{kind}.png"
                    title = f"{label} Sobol index of {name}"
                    plots.append(plot_maps(mesh, panels, path, title, colorbars="Sobol index"))
        return write_results(out, "sensitivity", self.summary(), self.arrays(), plots)


def saltelli_design(dim: int, n_base: int, seed: int) -> np.ndarray:
    """SALib's Saltelli design in the unit cube, shape (n_base * (dim + 2), dim)."""
    from SALib.sample import sobol as sobol_sample

    if not isinstance(n_base, (int, np.integer)) or n_base < 2 or n_base & (n_base - 1):
        raise ParameterError(f"n_base must be a power of 2 (>= 2), got {n_base!r}")
    problem = {"num_vars": dim, "names": [f"x{j}" for j in range(dim)], "bounds": [[0, 1]] * dim}
    return sobol_sample.sample(
        problem, int(n_base), calc_second_order=False, scramble=True, seed=seed
    )


def analyze(
    y: np.ndarray, dim: int, n_resamples: int = 100, confidence: float = 0.95, seed: int = 0
) -> dict[str, np.ndarray]:
    """SALib's first-order and total indices (with confidence half-widths) of outputs ``y``."""
    from SALib.analyze import sobol as sobol_analyze

    problem = {"num_vars": dim, "names": [f"x{j}" for j in range(dim)], "bounds": [[0, 1]] * dim}
    y = np.asarray(y, dtype=float)
    if np.ptp(y) == 0:
        nan = np.full(dim, np.nan)
        return {"S1": nan, "S1_conf": nan, "ST": nan, "ST_conf": nan}
    result = sobol_analyze.analyze(
        problem,
        y,
        calc_second_order=False,
        num_resamples=n_resamples,
        conf_level=confidence,
        seed=_salib_seed(seed),
    )
    return {k: np.asarray(result[k], dtype=float) for k in ("S1", "S1_conf", "ST", "ST_conf")}


def _salib_seed(seed: int) -> int:
    # SALib ignores a seed of 0 (falsy) and then draws unseeded: derive a positive one.
    return int(np.random.default_rng([seed, 2]).integers(1, 2**31 - 1))


def index_maps(
    y: np.ndarray, dim: int, n_resamples: int = 100, confidence: float = 0.95, seed: int = 0
) -> dict[str, np.ndarray]:
    """The same indices for many outputs at once: ``y`` (N (D + 2), V) -> arrays (D, V).

    Outputs are standardised as SALib does; the bootstrap draws the same
    resamples for every value. Values whose variance is below 1e-12 of the
    largest get NaN.
    """
    n = len(y) // (dim + 2)
    y = np.asarray(y, dtype=float)
    y = (y - y.mean(axis=0)).reshape(n, dim + 2, -1)  # centred, as SALib does
    a, b = y[:, 0], y[:, dim + 1]
    var = np.var(np.concatenate([a, b]), axis=0)
    flat = var <= 1e-12 * max(float(var.max(initial=0.0)), 1e-300)
    rng = np.random.default_rng(_salib_seed(seed))
    r = rng.integers(n, size=(n, n_resamples))
    # A resample's row means are count-weighted means: one matrix product per statistic
    # gives every resample at once (the same resamples as SALib's indexing).
    counts = np.stack([np.bincount(r[:, k], minlength=n) for k in range(n_resamples)]) / n
    mean_r = 0.5 * (counts @ a + counts @ b)
    var_r = 0.5 * (counts @ a**2 + counts @ b**2) - mean_r**2
    z = norm.ppf(0.5 + confidence / 2)
    out = {k: np.empty((dim, y.shape[2])) for k in ("S1", "S1_conf", "ST", "ST_conf")}
    with np.errstate(invalid="ignore", divide="ignore"):
        for j in range(dim):
            ab = y[:, j + 1]
            first, total = b * (ab - a), 0.5 * (a - ab) ** 2
            out["S1"][j] = first.mean(axis=0) / var
            out["ST"][j] = total.mean(axis=0) / var
            out["S1_conf"][j] = z * np.std((counts @ first) / var_r, axis=0, ddof=1)
            out["ST_conf"][j] = z * np.std((counts @ total) / var_r, axis=0, ddof=1)
    for v in out.values():
        v[:, flat] = np.nan
    return out


def sobol_function(
    func: Callable[[np.ndarray], Mapping[str, np.ndarray]],
    distributions: Mapping[str, Distribution],
    *,
    n_base: int = 1024,
    n_resamples: int = 100,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, dict[str, np.ndarray]]:
    """Sobol indices of any vectorized function ``func(X (n, D)) -> {output: (n,)}``.

    ``X`` is in physical units, drawn from ``distributions`` (their order is
    the column order). Uses ``n_base * (D + 2)`` evaluations.
    """
    dim = len(distributions)
    x = to_physical(distributions, saltelli_design(dim, n_base, seed))
    outputs = func(x)
    return {
        name: analyze(np.asarray(y), dim, n_resamples, confidence, seed)
        for name, y in outputs.items()
    }


def sobol_indices(
    model: Surrogate,
    distributions: Mapping[str, Any] | None = None,
    *,
    quantities: Sequence[str] | None = None,
    maps: bool | Sequence[str] = True,
    n_base: int = 1024,
    n_resamples: int = 100,
    confidence: float = 0.95,
    seed: int = 0,
    batch_size: int = 2048,
) -> SensitivityResult:
    """First-order and total Sobol indices of ``model``'s quantities and fields.

    Parameters
    ----------
    model : Surrogate
        Any fitted surrogate of scalar parameters.
    distributions : mapping, optional
        Input distributions per parameter (default: the parameter space's).
    quantities : list of str, optional
        Quantities of interest (default: each field's mean and max).
    maps : bool or list of field names
        Index maps of every value of these fields (True: all non-global
        fields; False: none).
    n_base : int
        Base samples N, a power of 2; the model is evaluated N (D + 2) times.
    n_resamples, confidence
        Bootstrap resamples and level of the confidence intervals.
    seed : int
        Seed of the design's scrambling and of the bootstrap.
    """
    dists = input_distributions(model.space_, distributions)
    dim = len(dists)
    if not 0.0 < confidence < 1.0:
        raise ParameterError(f"confidence must be between 0 and 1, got {confidence}")
    qs = parse_quantities(
        list(quantities) if quantities else default_quantities(model.fields_),
        model.fields_,
        model.mesh_,
    )
    map_fields = _map_fields(model, maps)
    x = to_physical(dists, saltelli_design(dim, n_base, seed))
    result = SensitivityResult(list(dists), dists, int(n_base), len(x), confidence, seed)
    q_values: dict[str, list[np.ndarray]] = {q.text: [] for q in qs}
    kept: dict[str, list[np.ndarray]] = {f: [] for f in map_fields}
    chunks = {}
    for start in range(0, len(x), batch_size):
        pred = model.predict(x[start : start + batch_size])
        for q in qs:
            q_values[q.text].append(q.evaluate(pred))
        for f in map_fields:
            flat = pred[f].reshape(len(pred[f]), -1)
            chunks.setdefault(f, max(1, MAP_BUDGET // len(x)))
            kept[f].append(flat[:, : chunks[f]].astype(np.float32))
    for q in qs:
        result.quantities[q.text] = analyze(
            np.concatenate(q_values[q.text]), dim, n_resamples, confidence, seed
        )
    for f in map_fields:
        shape = model.predict(x[:1])[f].shape[1:]
        parts = [index_maps(np.concatenate(kept[f]), dim, n_resamples, confidence, seed)]
        size, step = int(np.prod(shape)), chunks[f]
        for lo in range(step, size, step):  # values beyond the budget: predict again per chunk
            block = [
                model.predict(x[s : s + batch_size])[f].reshape(-1, size)[:, lo : lo + step]
                for s in range(0, len(x), batch_size)
            ]
            parts.append(index_maps(np.concatenate(block), dim, n_resamples, confidence, seed))
        result.maps[f] = {
            k: np.concatenate([p[k] for p in parts], axis=1).reshape(dim, *shape) for k in parts[0]
        }
    return result


def _map_fields(model: Surrogate, maps: bool | Sequence[str]) -> list[str]:
    if maps is True:
        return [n for n, s in model.fields_.items() if s.location != "global"]
    if not maps:
        return []
    unknown = [f for f in maps if f not in model.fields_]
    if unknown:
        raise ParameterError(
            f"map of unknown field {unknown[0]!r}; the model has {', '.join(model.fields_)}"
        )
    return list(maps)
