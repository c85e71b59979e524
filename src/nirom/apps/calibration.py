"""Bayesian calibration: parameters from noisy observations, sampled with emcee.

Observations file (JSON, or TOML with the same keys)::

    {
      "quantities": ["u[12]", "at(u, 0.25, 0.75)", "mean(u, 0:0.5, 0:0.5)"],
      "values": [0.031, 0.052, 0.018],
      "noise_std": 0.001
    }

``quantities`` are quantities of interest (:mod:`nirom.apps.quantities`);
sensors at nodes of one field may be given instead as ``"field": "u"`` and
``"nodes": [12, 40, 77]``. ``values`` holds one value per sensor, or a list
of such lists for repeated measurements; ``noise_std`` (the standard
deviation of the measurement noise, in the field's unit) is one number or
one per sensor. A length that does not match the sensors is a one-line error.

Model: ``y_j = q(mu) + d + e_j`` for the measurements ``j = 1..R``, with the
surrogate's error ``d ~ N(0, S(mu))`` shared by the repeats and the noise
``e_j ~ N(0, diag(noise_std^2))`` independent, so the likelihood is::

    N(mean_j y_j; q(mu), S(mu) + diag(noise_std^2) / R)
      * prod_j exp(-(y_j - mean y)^T diag(noise_std^-2) (y_j - mean y) / 2) * const

(a multivariate normal, by Cholesky). ``S`` is the surrogate's predictive
covariance of the sensor quantities: the full one from its low-rank covariance
when the model has one (``capabilities.covariance``; sensors at nearby points
are correlated through the modes, so they count as less than independent
observations: ``effective_observations`` in the summary, ``(sum l)^2 / sum l^2``
over the eigenvalues ``l`` of the correlation matrix of ``S + noise / R`` at the
MAP), else the diagonal of the squared standard deviations (then the likelihood
is a product of independent normals, the same figure), else zero. So the
posterior does not trust the surrogate more than it deserves. Prior:
the parameter space's distributions (uniform or log-uniform on the bounds)
or given ones. The ensemble sampler (emcee, affine-invariant stretch move)
runs in the prior's probability coordinates ``v = F(mu)`` in the unit cube,
where the prior is uniform; walkers start in a small ball around the mode
found from a Sobol screening (a posterior with far-apart modes may keep
walkers in one of them: check the traces). The MAP is the mode of the posterior density of ``mu``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize

from nirom.apps.distributions import (
    Distribution,
    describe,
    input_distributions,
    to_physical,
    unit_samples,
)
from nirom.apps.quantities import (
    Quantity,
    QuantityError,
    parse_quantities,
    quantity_covariance,
    sensor_location,
)
from nirom.apps.results import result_folder, write_results
from nirom.documents import read_document
from nirom.errors import NiromError, ParameterError
from nirom.surrogates import Surrogate
from nirom.threads import one_blas_thread


class ObservationError(NiromError, ValueError):
    """An observations file is missing, malformed, or does not match its sensors."""


@dataclass
class Observations:
    """Sensor quantities, measured ``values`` (n_repeats, n_sensors), ``noise_std`` (n_sensors,)."""

    quantities: list[str]
    values: np.ndarray
    noise_std: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        values = self.values[0] if len(self.values) == 1 else self.values
        return {
            "quantities": self.quantities,
            "values": np.asarray(values).tolist(),
            "noise_std": self.noise_std.tolist(),
        }

    def save(self, path: str | Path) -> Path:
        """Write the observations as a JSON file :func:`read_observations` reads."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=1), encoding="utf-8")
        return Path(path)


def observations_from_dict(data: Mapping[str, Any], where: str = "observations") -> Observations:
    """Check and build :class:`Observations` (see the module notes for the keys)."""
    if not isinstance(data, Mapping):
        raise ObservationError(f"{where}: expected a table of quantities, values, noise_std")
    unknown = sorted(set(data) - {"quantities", "field", "nodes", "values", "noise_std"})
    if unknown:
        raise ObservationError(f"{where}: unknown key(s) {unknown}")
    if "quantities" in data:
        if "field" in data or "nodes" in data:
            raise ObservationError(f"{where}: give 'quantities' or 'field' + 'nodes', not both")
        quantities = data["quantities"]
        if not isinstance(quantities, list) or not all(isinstance(q, str) for q in quantities):
            raise ObservationError(f"{where}: 'quantities' must be a list of texts")
    elif "field" in data and "nodes" in data:
        nodes = data["nodes"]
        if not isinstance(nodes, list) or not all(isinstance(n, int) for n in nodes):
            raise ObservationError(f"{where}: 'nodes' must be a list of integers")
        quantities = [f"{data['field']}[{n}]" for n in nodes]
    else:
        raise ObservationError(f"{where}: needs 'quantities', or 'field' and 'nodes'")
    m = len(quantities)
    if m == 0:
        raise ObservationError(f"{where}: no sensors")
    values = _numbers(data.get("values"), where, "values")
    if values.ndim == 1:
        values = values[None]
    if values.ndim != 2 or values.shape[1] != m:
        got = values.shape[-1] if values.ndim else 0
        raise ObservationError(
            f"{where}: 'values' has {got} entries per measurement for {m} sensors"
        )
    noise = _numbers(data.get("noise_std"), where, "noise_std")
    if noise.ndim == 0:
        noise = np.full(m, float(noise))
    if noise.shape != (m,):
        raise ObservationError(f"{where}: 'noise_std' has {noise.size} entries for {m} sensors")
    if np.any(noise <= 0):
        raise ObservationError(f"{where}: 'noise_std' must be positive")
    return Observations(list(quantities), values, noise)


def _numbers(value: Any, where: str, key: str) -> np.ndarray:
    if value is None:
        raise ObservationError(f"{where}: missing '{key}'")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ObservationError(f"{where}: '{key}' must be numbers (rows of equal length)") from None
    if not np.all(np.isfinite(arr)):
        raise ObservationError(f"{where}: '{key}' has NaN or infinite entries")
    return arr


def read_observations(path: str | Path) -> Observations:
    """Read an observations file (``.json``, or ``.toml``)."""
    path = Path(path)
    data = read_document(
        path,
        ObservationError,
        toml=path.suffix == ".toml",
        missing="observations file not found",
        unreadable="not a readable observations file",
    )
    return observations_from_dict(data, str(path))


def synthetic_observations(
    fields: Mapping[str, np.ndarray],
    quantities: Sequence[Quantity],
    noise_std: float | Sequence[float],
    seed: int = 0,
    n_repeats: int = 1,
) -> Observations:
    """Observations of the true ``fields`` (one sample, e.g. a solve) with Gaussian noise."""
    truth = np.array([q.evaluate({k: v[None] for k, v in fields.items()})[0] for q in quantities])
    noise = np.broadcast_to(np.asarray(noise_std, dtype=float), truth.shape).copy()
    rng = np.random.default_rng(seed)
    values = truth + noise * rng.standard_normal((n_repeats, len(truth)))
    return Observations([q.text for q in quantities], values, noise)


@dataclass
class CalibrationResult:
    """Posterior samples (physical units) and their summaries and diagnostics."""

    names: list[str]
    distributions: dict[str, Distribution]
    observations: Observations
    samples: np.ndarray  # (n, dim) after burn-in and thinning
    chain: np.ndarray  # (steps, walkers, dim), every step
    map: dict[str, float]
    acceptance: float
    autocorr_time: np.ndarray
    n_burn: int
    seed: int
    seconds: float
    fit_at_map: dict[str, dict[str, float]] = field(default_factory=dict)
    # sensors' worth in independent observations at the MAP (see the module notes)
    effective_observations: float | None = None
    surrogate_covariance: str = "none"  # "full", "diagonal" or "none"
    # where each sensor is (node or cell centroid coordinates; None for reductions)
    locations: dict[str, list[float] | None] = field(default_factory=dict)
    mesh: Any = field(default=None, repr=False)  # the model's mesh, for the sensors' plot

    def interval(self, level: float = 0.9) -> dict[str, tuple[float, float]]:
        """Central credible interval of each parameter at ``level``."""
        lo, hi = np.quantile(self.samples, [(1 - level) / 2, (1 + level) / 2], axis=0)
        return {n: (float(a), float(b)) for n, a, b in zip(self.names, lo, hi, strict=True)}

    def summary(self) -> dict[str, Any]:
        s = self.samples
        q05, q50, q95 = np.quantile(s, [0.05, 0.5, 0.95], axis=0)
        n_steps = self.chain.shape[0] - self.n_burn
        return {
            "kind": "calibrate",
            "parameters": {
                n: {
                    "mean": float(s[:, j].mean()),
                    "std": float(s[:, j].std(ddof=1)),
                    "median": float(q50[j]),
                    "q05": float(q05[j]),
                    "q95": float(q95[j]),
                    "map": self.map[n],
                    "autocorr_time": float(self.autocorr_time[j]),
                }
                for j, n in enumerate(self.names)
            },
            "prior": describe(self.distributions),
            "observations": self.observations.to_dict(),
            "sensor_locations": self.locations,
            "fit_at_map": self.fit_at_map,
            "surrogate_covariance": self.surrogate_covariance,
            "effective_observations": self.effective_observations,
            "acceptance": self.acceptance,
            "n_walkers": self.chain.shape[1],
            "n_steps": self.chain.shape[0],
            "n_burn": self.n_burn,
            "n_samples": len(s),
            "effective_samples": float(
                n_steps * self.chain.shape[1] / max(float(np.max(self.autocorr_time)), 1.0)
            ),
            "chain_over_autocorr": float(n_steps / max(float(np.max(self.autocorr_time)), 1e-12)),
            "seed": self.seed,
            "seconds": self.seconds,
        }

    def save(
        self, out: str | Path, truths: Mapping[str, float] | None = None, *, replace: bool = False
    ) -> list[Path]:
        """Write ``calibrate.json``, ``calibrate.npz``, a corner plot, walker traces, sensors.

        Into a new folder: ``out``, or ``out-N`` when ``out`` holds an earlier
        calibration (kept unless ``replace``); the paths say where. The
        sensors' plot needs located sensors on a 2-D mesh.
        """
        from nirom.apps.plots import can_map, plot_corner, plot_sensors, plot_traces

        out = result_folder(out, "calibrate", replace=replace)
        # log10 axes for parameters with a log-scale prior, as they are sampled
        logs = [d.kind in ("loguniform", "lognormal") for d in self.distributions.values()]
        shown = np.where(logs, np.log10(np.maximum(self.samples, 1e-300)), self.samples)
        labels = [f"log10 {n}" if lg else n for n, lg in zip(self.names, logs, strict=True)]
        t = None
        if truths is not None:
            t = np.array(
                [
                    math.log10(truths[n]) if lg else truths[n]
                    for n, lg in zip(self.names, logs, strict=True)
                ]
            )
        plots = [
            plot_corner(shown, labels, out / "posterior_corner.png", t),
            plot_traces(self.chain, self.names, out / "posterior_traces.png"),
        ]
        located = {k: v for k, v in self.locations.items() if v is not None}
        if located and can_map(self.mesh):
            observed = self.observations.values.mean(axis=0)
            values = dict(zip(self.observations.quantities, observed, strict=True))
            plots.append(
                plot_sensors(
                    self.mesh,
                    {k: (xy, float(values[k])) for k, xy in located.items()},
                    out / "observations.png",
                )
            )
        arrays = {"samples": self.samples, "chain": self.chain}
        return write_results(out, "calibrate", self.summary(), arrays, plots)


class _Posterior:
    """Log posterior in the prior's unit coordinates (uniform prior on the cube).

    ``error``: how the surrogate's error enters, "full" (its covariance at the sensors),
    "diagonal" (its standard deviations, independent) or "none".
    """

    def __init__(
        self,
        model: Surrogate,
        dists: Mapping[str, Distribution],
        quantities: Sequence[Quantity],
        obs: Observations,
        error: str,
    ) -> None:
        self.model, self.dists, self.quantities, self.obs = model, dists, quantities, obs
        self.error = error
        values = obs.values
        self.mean_obs = values.mean(axis=0)
        repeats = len(values)
        noise_var = obs.noise_std**2
        self.noise_var = noise_var / repeats  # of the mean of the repeats
        scatter = np.sum((values - self.mean_obs) ** 2 / noise_var)
        # the repeats' scatter about their mean: independent of mu (see the module notes)
        self.constant = -0.5 * (
            scatter
            + (repeats - 1) * np.sum(np.log(2 * np.pi * noise_var))
            + len(noise_var) * np.log(repeats)
        )

    def predicted(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sensor quantities (n, m) and the surrogate's covariance of them (n, m, m)."""
        x = to_physical(self.dists, v)
        if self.error == "full":
            mean = self.model.predict(x)
            rows = dict.fromkeys(q.field for q in self.quantities)
            cov = self.model.predict_covariance(x, rows=rows)
            q = np.column_stack([s.evaluate(mean) for s in self.quantities])
            return q, quantity_covariance(self.quantities, mean, cov)
        if self.error == "diagonal":
            mean, std = self.model.predict(x, return_std=True)
            q = np.column_stack([s.evaluate(mean) for s in self.quantities])
            s = np.column_stack([s.std(mean, std) for s in self.quantities])
            return q, s[:, :, None] * np.eye(len(self.quantities)) * s[:, None, :]
        pred = self.model.predict(x)
        q = np.column_stack([s.evaluate(pred) for s in self.quantities])
        return q, np.zeros((len(q), q.shape[1], q.shape[1]))

    def covariance(self, surrogate: np.ndarray) -> np.ndarray:
        """The likelihood's covariance (n, m, m) of the mean observation."""
        return surrogate + np.diag(self.noise_var)

    def log_likelihood(self, v: np.ndarray) -> np.ndarray:
        v = np.atleast_2d(v)
        out = np.full(len(v), -np.inf)
        inside = np.all((v > 0.0) & (v < 1.0), axis=1)
        if not inside.any():
            return out
        q, s = self.predicted(v[inside])
        resid = self.mean_obs[None, :] - q
        cov = self.covariance(s)
        if self.error == "full":
            ll = gaussian_log_likelihood(resid, cov)
        else:
            ll = independent_log_likelihood(resid, np.diagonal(cov, axis1=1, axis2=2))
        out[inside] = ll + self.constant
        return out

    def log_prior_density(self, v: np.ndarray) -> np.ndarray:
        """log p(mu) of the physical parameters at unit coordinates ``v`` (for the MAP)."""
        x = to_physical(self.dists, np.atleast_2d(v))
        return sum(d.logpdf(x[:, j]) for j, d in enumerate(self.dists.values()))


def gaussian_log_likelihood(residual: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """log N(residual; 0, cov) for a batch: ``residual`` (n, m), ``cov`` (n, m, m),
    by Cholesky; a covariance that is not positive definite gives -inf."""
    n, m = residual.shape
    out = np.full(n, -np.inf)
    try:
        chol = np.linalg.cholesky(cov)
        ok = np.ones(n, dtype=bool)
    except np.linalg.LinAlgError:  # one bad member: factor them one by one
        chol = np.zeros_like(cov)
        ok = np.zeros(n, dtype=bool)
        for i in range(n):
            try:
                chol[i] = np.linalg.cholesky(cov[i])
                ok[i] = True
            except np.linalg.LinAlgError:
                pass
    white = np.linalg.solve(chol[ok], residual[ok][..., None])[..., 0]
    logdet = 2.0 * np.sum(np.log(np.diagonal(chol[ok], axis1=1, axis2=2)), axis=1)
    out[ok] = -0.5 * (np.sum(white**2, axis=1) + logdet + m * np.log(2 * np.pi))
    return out


def independent_log_likelihood(residual: np.ndarray, var: np.ndarray) -> np.ndarray:
    """log N(residual; 0, diag(var)) for a batch: ``residual`` and ``var`` (n, m)."""
    return -0.5 * np.sum(residual**2 / var + np.log(2 * np.pi * var), axis=1)


def effective_observations(cov: np.ndarray) -> float:
    """How many independent observations ``m`` correlated ones with covariance ``cov``
    (m, m) are worth: ``(sum l)^2 / sum l^2`` over the eigenvalues of the correlation
    matrix (``m`` when independent, 1 when perfectly correlated)."""
    d = np.sqrt(np.diag(cov))
    corr = cov / np.outer(d, d)
    return float(len(d) ** 2 / np.sum(corr**2))


def calibrate(
    model: Surrogate,
    observations: Observations | Mapping[str, Any] | str | Path,
    *,
    prior: Mapping[str, Any] | None = None,
    n_walkers: int | None = None,
    n_steps: int = 1500,
    n_burn: int | None = None,
    thin: int = 1,
    surrogate_error: bool | None = None,
    correlated: bool | None = None,
    seed: int = 0,
) -> CalibrationResult:
    """Sample the posterior of ``model``'s parameters given ``observations``.

    Parameters
    ----------
    observations : Observations, mapping or path
        Sensors, values and noise (see the module notes).
    prior : mapping, optional
        Distributions per parameter (default: the parameter space's).
    n_walkers, n_steps, n_burn, thin
        Ensemble size (default max(64, 8 dim), even), steps per walker,
        steps discarded as burn-in (default a third) and thinning.
    surrogate_error : bool, optional
        Add the surrogate's predictive variance to the noise (default: when
        the model has error bars).
    correlated : bool, optional
        With the surrogate's error: its full covariance at the sensors (default: when
        the model has one, ``capabilities.covariance``), else its standard deviations
        as independent errors.
    seed : int
        Seed of the start and of the sampler's moves.
    """
    import emcee

    start_time = time.perf_counter()
    if not isinstance(observations, Observations):
        observations = (
            read_observations(observations)
            if isinstance(observations, (str, Path))
            else observations_from_dict(observations)
        )
    dists = input_distributions(model.space_, prior)
    try:
        quantities = parse_quantities(observations.quantities, model.fields_, model.mesh_)
    except QuantityError as exc:
        raise ObservationError(f"observations: {exc}") from None
    with_std = model.capabilities.std if surrogate_error is None else bool(surrogate_error)
    if with_std and not model.capabilities.std:
        raise ParameterError(f"a {model.label} model has no error bars (surrogate_error)")
    dim = len(dists)
    n_walkers = n_walkers or max(64, 8 * dim)
    n_walkers += n_walkers % 2
    if n_walkers < 2 * dim:
        raise ParameterError(
            f"n_walkers {n_walkers}: the ensemble needs at least {2 * dim} (2 per parameter)"
        )
    n_burn = n_steps // 3 if n_burn is None else n_burn
    if not (isinstance(n_steps, int) and n_steps > 1 and 0 <= n_burn < n_steps and thin >= 1):
        raise ParameterError(
            "need n_steps > 1, 0 <= n_burn < n_steps and thin >= 1; "
            f"got {n_steps}, {n_burn}, {thin}"
        )
    has_cov = model.capabilities.covariance
    if correlated and not has_cov:
        raise ParameterError(f"a {model.label} model gives no predictive covariance (correlated)")
    full = with_std and (has_cov if correlated is None else bool(correlated))
    error = "full" if full else "diagonal" if with_std else "none"
    post = _Posterior(model, dists, quantities, observations, error)
    start = _start(post, dim, n_walkers, seed)
    sampler = emcee.EnsembleSampler(n_walkers, dim, post.log_likelihood, vectorize=True)
    sampler.random_state = np.random.RandomState(seed).get_state()
    with one_blas_thread():
        sampler.run_mcmc(start, n_steps, progress=False)
    chain_v = sampler.get_chain()
    samples_v = sampler.get_chain(discard=n_burn, thin=thin, flat=True)
    tau = np.asarray(emcee.autocorr.integrated_time(chain_v[n_burn:], tol=0, quiet=True))
    with one_blas_thread():
        map_v = _map(post, sampler.get_chain(flat=True)[np.argmax(sampler.get_log_prob(flat=True))])
    names = list(dists)
    map_x = to_physical(dists, map_v[None])[0]
    result = CalibrationResult(
        names,
        dists,
        observations,
        to_physical(dists, samples_v),
        to_physical(dists, chain_v.reshape(-1, dim)).reshape(chain_v.shape),
        {n: float(v) for n, v in zip(names, map_x, strict=True)},
        float(np.mean(sampler.acceptance_fraction)),
        tau,
        n_burn,
        seed,
        0.0,
    )
    result.mesh = model.mesh_
    result.locations = {
        q.text: sensor_location(q, model.fields_[q.field], model.mesh_) for q in quantities
    }
    q, s = post.predicted(map_v[None])
    mean_obs = observations.values.mean(axis=0)
    result.surrogate_covariance = error
    result.effective_observations = effective_observations(post.covariance(s)[0])
    s_std = np.sqrt(np.maximum(np.diagonal(s, axis1=1, axis2=2), 0.0))
    result.fit_at_map = {
        text: {
            "observed": float(mean_obs[i]),
            "predicted": float(q[0, i]),
            "surrogate_std": float(s_std[0, i]),
        }
        for i, text in enumerate(observations.quantities)
    }
    result.seconds = time.perf_counter() - start_time
    return result


def _start(post: _Posterior, dim: int, n_walkers: int, seed: int) -> np.ndarray:
    """Walkers in a small ball around the posterior mode (unit coordinates).

    The mode is found by L-BFGS-B from the 2 most likely points of a Sobol
    screening of the prior; a ball of radius 1e-3 (emcee's advice) lets the
    ensemble expand to the posterior's own scale within the burn-in.
    """
    screen = unit_samples(dim, 4096, "qmc", seed)
    best = screen[np.argsort(-post.log_likelihood(screen))[:2]]
    eps = 1e-6

    def neg(v: np.ndarray) -> float:
        value = post.log_likelihood(v)[0]
        return -float(value) if np.isfinite(value) else 1e300

    with one_blas_thread():
        fits = [minimize(neg, v, method="L-BFGS-B", bounds=[(eps, 1 - eps)] * dim) for v in best]
    mode = min(fits, key=lambda r: r.fun).x
    rng = np.random.default_rng([seed, 3])
    return np.clip(mode + 1e-3 * rng.standard_normal((n_walkers, dim)), eps, 1 - eps)


def _map(post: _Posterior, v0: np.ndarray) -> np.ndarray:
    """Mode of the posterior density of the physical parameters, from the chain's best point."""

    def neg(v: np.ndarray) -> float:
        value = post.log_likelihood(v)[0] + post.log_prior_density(v)[0]
        return -float(value) if np.isfinite(value) else 1e300

    eps = 1e-9
    res = minimize(
        neg, np.clip(v0, eps, 1 - eps), method="L-BFGS-B", bounds=[(eps, 1 - eps)] * len(v0)
    )
    return res.x if res.fun <= neg(v0) else v0
