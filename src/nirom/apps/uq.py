"""Uncertainty propagation: input distributions through a surrogate to field and quantity stats.

:func:`propagate` draws ``n_samples`` inputs from independent distributions
(Monte Carlo or scrambled-Sobol quasi-Monte Carlo), predicts them with the
surrogate in batches, and returns per field the mean, standard deviation and
quantile fields, and per quantity of interest its samples and statistics.

With error bars (``model.capabilities.std``), the surrogate's own predictive
distribution is sampled too: each input gets ``n_draws`` fields
``mean + xi * std`` with one standard normal ``xi`` per draw, shared by all
values (errors taken as perfectly correlated over the field, which keeps
each value's marginal exact and is the widest case for a region's mean).
By the law of total variance, per value::

    var_total = var_inputs(mean) + E_inputs[std^2]
    error share = E_inputs[std^2] / var_total

and per quantity the share is the mean within-input variance of its draws
over their total variance. A model that gives its predictive covariance
(``capabilities.covariance``: pod-gp) has the quantities' draws taken from it
instead, ``mean + basis (sqrt(C) xi) + sqrt(residual) eta``, correlated
through the modes as the model predicts (a region's mean then gets the
variance its covariance gives, not the perfectly correlated bound); the
fields' statistics are the same either way. Everything is seeded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nirom.apps.distributions import Distribution, describe, input_distributions, sample_inputs
from nirom.apps.quantities import Quantity, default_quantities, parse_quantities
from nirom.apps.results import result_folder, write_results
from nirom.errors import ParameterError
from nirom.surrogates import ModelError, Surrogate

# Values kept in memory per field for quantile fields (float32): beyond, the first rows.
QUANTILE_BUDGET = 25_000_000


@dataclass
class UQResult:
    """Statistics of a propagation (arrays per field and per quantity; see :func:`propagate`)."""

    distributions: dict[str, Distribution]
    method: str
    seed: int
    inputs: np.ndarray
    quantiles: tuple[float, ...]
    surrogate_error: bool
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    quantities: dict[str, dict[str, Any]] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)  # per field, "" when not recorded

    def summary(self) -> dict[str, Any]:
        """JSON-compatible figures (no per-value arrays)."""
        fields = {}
        for name, f in self.fields.items():
            fields[name] = {
                "mean_range": [float(np.min(f["mean"])), float(np.max(f["mean"]))],
                "std_max": float(np.max(f["std"])),
                "quantile_samples": f["quantile_samples"],
                "unit": self.units.get(name, ""),
                "minimum": {k: float(np.min(f[k])) for k in ("mean", *map(_qkey, self.quantiles))},
            }
            if self.surrogate_error:
                fields[name]["std_total_max"] = float(np.max(f["std_total"]))
                fields[name]["error_share"] = f["error_share_overall"]
        quantities = {
            name: {k: v for k, v in q.items() if not isinstance(v, np.ndarray)}
            for name, q in self.quantities.items()
        }
        return {
            "kind": "uq",
            "n_samples": len(self.inputs),
            "method": self.method,
            "seed": self.seed,
            "distributions": describe(self.distributions),
            "surrogate_error": self.surrogate_error,
            "quantiles": list(self.quantiles),
            "fields": fields,
            "quantities": quantities,
        }

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array, named ``inputs``, ``fields/<name>/<stat>``, ``quantities/<q>/<what>``."""
        out: dict[str, np.ndarray] = {"inputs": self.inputs}
        for name, f in self.fields.items():
            out.update({f"fields/{name}/{k}": v for k, v in f.items() if isinstance(v, np.ndarray)})
        for name, q in self.quantities.items():
            for k, v in q.items():
                if isinstance(v, np.ndarray):
                    out[f"quantities/{name}/{k}"] = v
        return out

    def save(self, out: str | Path, mesh: Any = None, *, replace: bool = False) -> list[Path]:
        """Write ``uq.json``, ``uq.npz`` and the plots into a new folder ``out`` (or ``out-N``).

        ``out`` already holding a ``uq.json`` gets it kept and the result goes
        to its next numbered sibling (:func:`~nirom.apps.results.result_folder`),
        unless ``replace``. The returned paths say where.
        """
        from nirom.apps.plots import can_map, plot_distribution, plot_maps

        out = result_folder(out, "uq", replace=replace)
        plots: list[Path] = []
        for k, (name, q) in enumerate(self.quantities.items()):
            plots.append(
                plot_distribution(
                    q["samples"], out / f"uq_quantity_{k}.png", name, q.get("samples_total")
                )
            )
        if can_map(mesh):
            for name, f in self.fields.items():
                if f["mean"].shape != (mesh.n_points,):
                    continue
                panels = [("mean", f["mean"]), ("std (inputs)", f["std"])]
                panels += [(f"quantile {q:g}", f[_qkey(q)]) for q in self.quantiles]
                if self.surrogate_error:
                    panels += [("std (total)", f["std_total"]), ("error share", f["error_share"])]
                value = _with_unit(name, self.units.get(name, ""))
                bars = [value] * (len(panels) - 1 if self.surrogate_error else len(panels))
                bars += ["share of the variance"] if self.surrogate_error else []
                path = out / f"uq_field_{name}.png"
                plots.append(plot_maps(mesh, panels, path, f"field {name}", colorbars=bars))
        return write_results(out, "uq", self.summary(), self.arrays(), plots)


def _qkey(q: float) -> str:
    return f"q{q:g}"


def _with_unit(name: str, unit: str) -> str:
    """A colour-bar label: ``name [unit]``, the name alone when no unit is recorded."""
    if unit == "1":
        return f"{name} (dimensionless)"
    return f"{name} [{unit}]" if unit else name


class _Moments:
    """Running mean and sum of squared deviations over batches (Chan et al.)."""

    def __init__(self) -> None:
        self.n, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, x: np.ndarray) -> None:
        nb = len(x)
        mean_b = x.mean(axis=0)
        m2_b = ((x - mean_b) ** 2).sum(axis=0)
        delta = mean_b - self.mean
        total = self.n + nb
        self.mean = self.mean + delta * (nb / total)
        self.m2 = self.m2 + m2_b + delta**2 * (self.n * nb / total)
        self.n = total

    def var(self) -> np.ndarray:
        return self.m2 / (self.n - 1)


def propagate(
    model: Surrogate,
    distributions: Mapping[str, Any] | None = None,
    *,
    n_samples: int = 4096,
    method: str = "qmc",
    seed: int = 0,
    quantities: Sequence[str] | None = None,
    quantiles: Sequence[float] = (0.05, 0.5, 0.95),
    surrogate_error: bool | None = None,
    n_draws: int = 8,
    batch_size: int = 512,
) -> UQResult:
    """Propagate input distributions through ``model``.

    Parameters
    ----------
    model : Surrogate
        Any fitted surrogate of scalar parameters.
    distributions : mapping name -> distribution text or Distribution, optional
        Per parameter (see :mod:`nirom.apps.distributions`); the others keep
        the parameter space's uniform / log-uniform distribution.
    n_samples, method, seed
        Input sample size, "qmc" (scrambled Sobol) or "mc", and the seed.
    quantities : list of str, optional
        Quantities of interest (default: each field's mean and max).
    quantiles : sequence of float
        Probabilities of the quantile fields and quantity quantiles.
    surrogate_error : bool, optional
        Sample the predictive distribution too (default: when the model has
        error bars).
    n_draws : int
        Predictive draws per input for the quantities' error share (>= 2).

    Returns
    -------
    UQResult
        ``fields[name]``: ``mean``, ``std``, ``q<p>`` arrays of the field's
        shape (statistics of the surrogate mean over the inputs) and, with
        surrogate error, ``std_total``, ``error_share``, ``q<p>_total`` and
        the overall ``error_share_overall``. ``quantities[text]``:
        ``samples`` (n,), ``mean``, ``std``, quantiles and, with surrogate
        error, ``samples_total`` (n, n_draws), ``std_total``, ``error_share``.
    """
    dists = _distributions(model, distributions)
    with_error = _with_error(model, surrogate_error)
    if with_error and (not isinstance(n_draws, int) or n_draws < 2):
        raise ParameterError(f"n_draws must be an integer >= 2, got {n_draws!r}")
    quantiles = tuple(_check_quantiles(quantiles))
    texts = list(quantities) if quantities else default_quantities(model.fields_)
    qs = parse_quantities(texts, model.fields_, model.mesh_)
    x = sample_inputs(dists, n_samples, method, seed)
    rng = np.random.default_rng([seed, 1])
    rng_cov = np.random.default_rng([seed, 2])
    low_rank = with_error and model.capabilities.covariance
    acc = _Accumulator(model, len(x), with_error)
    q_mean = {q.text: [] for q in qs}
    q_draws = {q.text: [] for q in qs}
    for start in range(0, len(x), batch_size):
        xb = x[start : start + batch_size]
        if low_rank:  # the std is the covariance's diagonal: computed once
            mean = model.predict(xb)
            cov = model.predict_covariance(xb)
            std = {k: np.sqrt(c.variance()).reshape(mean[k].shape) for k, c in cov.items()}
        else:
            pred = model.predict(xb, return_std=with_error)
            mean, std = pred if with_error else (pred, None)
        xi = rng.standard_normal((len(xb), n_draws)) if with_error else None
        acc.add(mean, std, xi)
        drawn = _low_rank_draws(qs, mean, cov, n_draws, rng_cov) if low_rank else {}
        for q in qs:
            q_mean[q.text].append(q.evaluate(mean))
            if low_rank:
                q_draws[q.text].append(drawn[q.text])
            elif with_error:
                q_draws[q.text].append(_quantity_draws(q, mean, std, xi))
    result = UQResult(dists, method, seed, x, quantiles, with_error)
    result.units = {name: spec.unit for name, spec in model.fields_.items()}
    result.fields = acc.statistics(quantiles)
    for q in qs:
        draws = np.concatenate(q_draws[q.text]) if with_error else None
        result.quantities[q.text] = _quantity_statistics(
            np.concatenate(q_mean[q.text]), draws, quantiles
        )
    return result


def _distributions(model: Surrogate, distributions: Mapping[str, Any] | None) -> dict:
    if distributions and all(isinstance(d, Distribution) for d in distributions.values()):
        if list(distributions) != model.space_.scalar_names:
            raise ParameterError(
                f"distributions for {list(distributions)}; the model's parameters are "
                f"{model.space_.scalar_names}"
            )
        return dict(distributions)
    return input_distributions(model.space_, distributions)


def _with_error(model: Surrogate, surrogate_error: bool | None) -> bool:
    if surrogate_error is None:
        return model.capabilities.std
    if surrogate_error and not model.capabilities.std:
        raise ModelError(f"a {model.label} model has no error bars to sample (surrogate_error)")
    return bool(surrogate_error)


def _check_quantiles(quantiles: Sequence[float]) -> list[float]:
    out = []
    for q in quantiles:
        try:
            value = float(q)
        except (TypeError, ValueError):
            raise ParameterError(f"quantile {q!r} is not a number") from None
        if not 0.0 < value < 1.0:
            raise ParameterError(f"quantile {value:g} must be strictly between 0 and 1")
        out.append(value)
    return out


def _quantity_draws(
    q: Quantity, mean: Mapping[str, np.ndarray], std: Mapping[str, np.ndarray], xi: np.ndarray
) -> np.ndarray:
    """The quantity on each predictive draw ``mean + xi[:, d] * std``: shape (b, n_draws)."""
    m, s = mean[q.field], std[q.field]
    extra = (1,) * (m.ndim - 1)
    return np.column_stack(
        [q.evaluate({q.field: m + xi[:, d].reshape(-1, *extra) * s}) for d in range(xi.shape[1])]
    )


def _low_rank_draws(
    quantities: Sequence[Quantity],
    mean: Mapping[str, np.ndarray],
    cov: Mapping[str, Any],
    n_draws: int,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Each quantity on ``n_draws`` draws of its field from the low-rank predictive
    covariance ``cov`` ({field: LowRankCovariance}): shape (b, n_draws) per quantity."""
    out: dict[str, list[np.ndarray]] = {q.text: [] for q in quantities}
    for _ in range(n_draws):
        drawn = {}
        for name in sorted({q.field for q in quantities}):
            c, m = cov[name], mean[name]
            white = rng.standard_normal(c.coefficient.shape[:2])
            if c.independent:
                xi = white * np.sqrt(c.coefficient)
            else:
                xi = np.einsum("nrs,ns->nr", np.linalg.cholesky(c.coefficient), white)
            eta = rng.standard_normal((len(m), len(c.residual))) * np.sqrt(c.residual)
            drawn[name] = m + (xi @ c.basis.T + eta).reshape(m.shape)
        for q in quantities:
            out[q.text].append(q.evaluate(drawn))
    return {k: np.column_stack(v) for k, v in out.items()}


def _quantity_statistics(
    values: np.ndarray, draws: np.ndarray | None, quantiles: tuple[float, ...]
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "samples": values,
        "mean": float(values.mean()),
        "std": float(values.std(ddof=1)),
        "quantiles": {
            f"{p:g}": float(v)
            for p, v in zip(quantiles, np.quantile(values, quantiles), strict=True)
        },
    }
    if draws is not None:
        total = draws.ravel()
        var_total = float(total.var(ddof=1))
        within = float(np.mean(draws.var(axis=1, ddof=1)))
        out.update(
            samples_total=draws,
            mean_total=float(total.mean()),
            std_total=float(np.sqrt(var_total)),
            quantiles_total={
                f"{p:g}": float(v)
                for p, v in zip(quantiles, np.quantile(total, quantiles), strict=True)
            },
            error_share=within / var_total if var_total > 0 else 0.0,
        )
    return out


class _Accumulator:
    """Per-field running moments of the mean prediction, of std^2, and rows for quantiles."""

    def __init__(self, model: Surrogate, n: int, with_error: bool) -> None:
        self.with_error = with_error
        self.moments: dict[str, _Moments] = {}
        self.var_error: dict[str, np.ndarray] = {}
        self.kept: dict[str, list[np.ndarray]] = {}
        self.kept_total: dict[str, list[np.ndarray]] = {}
        self.rows: dict[str, int] = {}
        self.n = n

    def add(
        self,
        mean: Mapping[str, np.ndarray],
        std: Mapping[str, np.ndarray] | None,
        xi: np.ndarray | None,
    ) -> None:
        for name, m in mean.items():
            flat = m.reshape(len(m), -1)
            if name not in self.moments:
                self.moments[name] = _Moments()
                self.var_error[name] = np.zeros(flat.shape[1])
                self.kept[name], self.kept_total[name] = [], []
                self.rows[name] = max(1, min(self.n, QUANTILE_BUDGET // max(flat.shape[1], 1)))
            self.moments[name].add(flat)
            room = self.rows[name] - sum(len(k) for k in self.kept[name])
            if std is not None:
                s = std[name].reshape(len(m), -1)
                self.var_error[name] += (s**2).sum(axis=0)
                if room > 0:
                    draw = flat[:room] + xi[:room, :1] * s[:room]
                    self.kept_total[name].append(draw.astype(np.float32))
            if room > 0:
                self.kept[name].append(flat[:room].astype(np.float32))
        self.shapes = {name: m.shape[1:] for name, m in mean.items()}

    def statistics(self, quantiles: tuple[float, ...]) -> dict[str, dict[str, Any]]:
        out = {}
        for name, mom in self.moments.items():
            shape = self.shapes[name]
            var = mom.var()
            kept = np.concatenate(self.kept[name])
            f: dict[str, Any] = {
                "mean": np.asarray(mom.mean).reshape(shape),
                "std": np.sqrt(var).reshape(shape),
                "quantile_samples": len(kept),
            }
            for p, v in zip(quantiles, np.quantile(kept, quantiles, axis=0), strict=True):
                f[_qkey(p)] = v.astype(float).reshape(shape)
            if self.with_error:
                e = self.var_error[name] / mom.n
                total = var + e
                f["std_total"] = np.sqrt(total).reshape(shape)
                with np.errstate(invalid="ignore", divide="ignore"):
                    f["error_share"] = np.where(total > 0, e / total, 0.0).reshape(shape)
                f["error_share_overall"] = float(e.sum() / total.sum()) if total.sum() > 0 else 0.0
                kept_total = np.concatenate(self.kept_total[name])
                qt = np.quantile(kept_total, quantiles, axis=0)
                for p, v in zip(quantiles, qt, strict=True):
                    f[_qkey(p) + "_total"] = v.astype(float).reshape(shape)
            out[name] = f
        return out
