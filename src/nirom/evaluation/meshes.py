"""Evaluation on a dataset with a mesh per sample (varying geometry).

Each test sample is predicted on its own mesh (``model.predict(mu, mesh=...)``,
the models that take one: mmgp); per field the metrics of
``shared/METRICS.md`` with the Euclidean norm (each sample's mesh differs):
relative L2 error, PLAID relative RMSE (fields: per-sample node counts; scalar
outputs: ``RRMSE_s``, each sample's error over its own value, as PLAID's
``compute_rRMSE_RMSE`` does), ``nrmse`` (the RMSE over every value of every
sample divided by the largest absolute reference of the test set: defined for
outputs near zero in some samples, a maximum plastic strain, where the
per-sample normalisation divides by almost nothing), max error, and for
models with error bars coverage and width of the intervals over every value of
every sample. A field whose reference is zero in some sample (a plastic strain
in an elastic sample) has no relative error there: those samples are left out
of its relative figures and counted in ``zero_reference``. Timing: one
prediction on a sample's mesh, morphing included.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from nirom.dataset import Dataset
from nirom.errors import MetricError
from nirom.evaluation.metrics import (
    coverage,
    interval_width,
    max_error,
    relative_l2,
    rrmse_field,
    rrmse_scalar,
    speedup,
    summarize,
)
from nirom.surrogates.base import Surrogate


def evaluate_per_sample_mesh(
    model: Surrogate, dataset: Dataset, ids: list[int], level: float = 0.95, n_timing: int = 10
) -> dict[str, Any]:
    """Metrics of ``model`` on the done samples ``ids``, each predicted on its own mesh."""
    names = model.space_.scalar_names
    refs: dict[str, list[np.ndarray]] = {name: [] for name in dataset.fields}
    means: dict[str, list[np.ndarray]] = {name: [] for name in dataset.fields}
    stds: dict[str, list[np.ndarray]] = {name: [] for name in dataset.fields}
    meshes = []
    for i in ids:
        sample = dataset.sample(i)
        mu = {name: sample.mu[name] for name in names}
        if model.capabilities.std:
            mean, std = model.predict(mu, return_std=True, mesh=sample.mesh)
        else:
            mean, std = model.predict(mu, mesh=sample.mesh), None
        meshes.append((mu, sample.mesh))
        for name in dataset.fields:
            refs[name].append(np.asarray(sample.fields[name], dtype=float))
            means[name].append(np.asarray(mean[name], dtype=float))
            if std is not None:
                stds[name].append(np.asarray(std[name], dtype=float))
    fields = {
        name: _metrics(
            spec.location, refs[name], means[name], stds[name] if stds[name] else None, level
        )
        for name, spec in dataset.fields.items()
    }
    timing = _timing(model, meshes, dataset.solve_times(ids), n_timing)
    return {"n_samples": len(ids), "level": level, "fields": fields, "timing": timing}


def _metrics(
    location: str,
    ref: list[np.ndarray],
    pred: list[np.ndarray],
    std: list[np.ndarray] | None,
    level: float,
) -> dict[str, Any]:
    scale = np.array([np.max(np.abs(r)) for r in ref])
    keep = np.flatnonzero(scale > 0)
    out: dict[str, Any] = {"norm": "euclidean", "zero_reference": int(len(ref) - keep.size)}
    if keep.size:
        r, p = [ref[k] for k in keep], [pred[k] for k in keep]
        if location == "global":
            out["relative_l2"] = summarize(np.abs(np.ravel(p) - np.ravel(r)) / np.abs(np.ravel(r)))
            out["rrmse"] = rrmse_scalar(np.ravel(p), np.ravel(r))
        else:
            out["relative_l2"] = summarize(relative_l2(p, r))
            out["rrmse"] = rrmse_field(p, r)
    out["nrmse"] = nrmse(ref, pred)
    if location == "global":
        out["max_error"] = summarize(np.abs(np.ravel(pred) - np.ravel(ref)))
    else:
        out["max_error"] = summarize(max_error(pred, ref))
    if std is not None:
        flat = [np.concatenate([np.ravel(a) for a in arrays]) for arrays in (ref, pred, std)]
        try:
            out["coverage"] = coverage(*flat, level=level)
            out["interval_width"] = interval_width(flat[2], level=level)
        except MetricError:
            out["coverage"] = None
    return out


def nrmse(ref: list[np.ndarray], pred: list[np.ndarray]) -> float | None:
    """RMSE over every value of every sample, over the largest absolute reference value
    (None when every reference is zero); samples may have different sizes."""
    r = np.concatenate([np.ravel(a) for a in ref])
    p = np.concatenate([np.ravel(a) for a in pred])
    top = float(np.max(np.abs(r))) if r.size else 0.0
    return float(np.sqrt(np.mean((p - r) ** 2)) / top) if top > 0 else None


def _timing(
    model: Surrogate, cases: list[tuple[dict, Any]], solve_times: np.ndarray, n_timing: int
) -> dict[str, Any]:
    """Median time of one prediction on a sample's mesh (morphing included), after warm-up."""
    model.predict(cases[0][0], mesh=cases[0][1])
    times = []
    for k in range(n_timing):
        mu, mesh = cases[k % len(cases)]
        start = time.perf_counter()
        model.predict(mu, mesh=mesh)
        times.append(time.perf_counter() - start)
    out: dict[str, Any] = {"predict_s": float(np.median(times))}
    finite = solve_times[np.isfinite(solve_times)]
    if finite.size:
        out["solve_s"] = float(np.median(finite))
        out["speedup"] = speedup(solve_times, np.array(times))
    return out
