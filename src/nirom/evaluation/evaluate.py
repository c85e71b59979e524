"""Evaluate any surrogate on samples of a dataset, the same way for every model.

Reports, per field, the metrics of ``shared/METRICS.md``: relative L2 error
(finite-element L2 norm for point fields when the mesh is known, Euclidean
otherwise; the report names it), PLAID relative RMSE, max error, coverage and
width of the predicted intervals (models with error bars), R2 per POD mode
and the projection floor (POD models); and the speed-up: median solve time
recorded in the dataset over the median time of one full-field prediction,
measured after warm-up on this machine.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from nirom.dataset import Dataset, FieldSpec
from nirom.errors import MetricError
from nirom.evaluation.metrics import (
    coverage,
    interval_width,
    l2_norms,
    max_error,
    norm_name,
    r2_per_mode,
    relative_l2,
    rrmse_field,
    rrmse_scalar,
    speedup,
    summarize,
)
from nirom.surrogates.base import Inputs, Surrogate


def evaluate(
    model: Surrogate,
    dataset: Dataset,
    ids: list[int] | None = None,
    level: float = 0.95,
    n_timing: int = 50,
    norm: str = "auto",
) -> dict[str, Any]:
    """Metrics of ``model`` on the done samples ``ids`` of ``dataset`` (default: all).

    ``norm`` is "auto" (the finite-element L2 norm of point fields when the
    dataset has a mesh, Euclidean otherwise) or "euclidean" (the convention of
    the neural-operator literature on uniform grids). Returns a
    JSON-compatible dict: ``fields`` (per-field metrics), ``timing``
    (seconds), ``n_samples``, ``level``, and ``not_predicted`` (the dataset's
    fields a model that predicts some fields only, ``rb``, left out) if any.
    """
    if norm not in ("auto", "euclidean"):
        raise MetricError(f"unknown norm {norm!r}; choose 'auto' or 'euclidean'")
    ids = dataset.sample_ids() if ids is None else list(ids)
    if dataset.per_sample_mesh:  # varying geometry: each sample predicted on its own mesh
        from nirom.evaluation.meshes import evaluate_per_sample_mesh

        return evaluate_per_sample_mesh(model, dataset, ids, level=level)
    check_matches(model, dataset)
    x = dataset.parameter_sets(ids) if dataset.space.field_inputs else dataset.parameters(ids)
    if model.provides_std:
        mean, std = model.predict(x, return_std=True)
    else:
        mean, std = model.predict(x), None
    bounds = model.error_bound(x)
    use_mesh = norm == "auto" and dataset.mesh is not None
    mass = dataset.mesh.mass_matrix() if use_mesh else None
    fields = {}
    ref_of = {}
    for name, spec in dataset.fields.items():
        if name not in model.fields_:  # a model that predicts some fields only (rb)
            continue
        ref = ref_of[name] = dataset.field(name, ids)
        if mean[name].shape != ref.shape:
            raise MetricError(
                f"{dataset.path} does not match the model: field {name!r} has shape "
                f"{ref.shape[1:]} per sample there, the model predicts {mean[name].shape[1:]} "
                "(another mesh, resolution or problem)"
            )
        fields[name] = _field_metrics(
            model,
            name,
            spec,
            ref,
            mean[name],
            None if std is None else std[name],
            mass if spec.location == "point" else None,
            x,
            level,
        )
    if bounds is not None:
        for name, bound in bounds.items():
            fields[name]["bound"] = _bound_metrics(bound, ref_of[name], mean[name], mass)
    timing = _timing(model, x, dataset.solve_times(ids), n_timing)
    report = {"n_samples": len(ids), "level": level, "fields": fields, "timing": timing}
    skipped = [name for name in dataset.fields if name not in fields]
    if skipped:
        report["not_predicted"] = skipped
    return report


def check_matches(model: Surrogate, dataset: Dataset) -> None:
    """MetricError unless ``dataset`` has the model's parameters and output fields."""
    model._check_fitted()
    ours, theirs = model.space_.names, dataset.space.names
    if list(ours) != list(theirs):
        raise MetricError(
            f"{dataset.path} does not match the model: its parameters are "
            f"({', '.join(theirs)}), the model's ({', '.join(ours)}) (another problem?)"
        )
    missing = [name for name in dataset.fields if name not in model.fields_]
    if not model.predicts_all_fields:  # it predicts the fields it names; those must be there
        missing = [name for name in model.fields_ if name not in dataset.fields]
        if missing:
            raise MetricError(
                f"{dataset.path} does not match the model: it has no field(s) "
                f"{', '.join(missing)} (the model predicts those)"
            )
        return
    if missing:
        raise MetricError(
            f"{dataset.path} does not match the model: field(s) {', '.join(missing)} "
            f"not predicted (the model predicts {', '.join(model.fields_)})"
        )


def _field_metrics(
    model: Surrogate,
    name: str,
    spec: FieldSpec,
    ref: np.ndarray,
    pred: np.ndarray,
    std: np.ndarray | None,
    mass: Any,
    x: Inputs,
    level: float,
) -> dict[str, Any]:
    n = len(ref)
    out: dict[str, Any] = {"norm": norm_name(mass)}
    series = spec.times is not None
    if spec.location == "global":
        flat_ref, flat_pred = ref.reshape(n, -1), pred.reshape(n, -1)
        out["relative_l2"] = summarize(relative_l2(flat_pred, flat_ref))
        out["rrmse"] = (
            rrmse_scalar(flat_pred.ravel(), flat_ref.ravel())
            if flat_ref.shape[1] == 1
            else rrmse_field(flat_pred, flat_ref)
        )
    else:
        out["relative_l2"] = summarize(relative_l2(pred, ref, mass=mass, time_series=series))
        out["rrmse"] = rrmse_field(pred, ref, time_series=series)
    out["max_error"] = summarize(max_error(pred, ref, time_series=series))
    out["r2"] = r2_field(pred, ref)
    if std is not None:
        out["coverage"] = coverage(ref, pred, std, level=level)
        out["interval_width"] = interval_width(std, level=level)
    pod = model.reduced_basis(name)
    if pod is not None:
        flat = ref.reshape(n, -1)
        out["n_modes"] = int(pod.n_modes_)
        # The floor in the same norm as the surrogate's error, so the two compare.
        projected = pod.inverse_transform(pod.transform(flat)).reshape(ref.shape)
        if spec.location == "global":
            floor = relative_l2(projected.reshape(n, -1), flat)
        else:
            floor = relative_l2(projected, ref, mass=mass, time_series=series)
        out["projection_floor"] = summarize(floor)
        r2 = r2_per_mode(pod.transform(flat), model.predict_coordinates(name, x))
        out["r2_per_mode"] = [None if not np.isfinite(v) else float(v) for v in r2]
    return out


def _bound_metrics(bound: np.ndarray, ref: np.ndarray, pred: np.ndarray, mass: Any) -> dict:
    """Effectivity of an L2 error bound: bound / true L2 error (>= 1 when it is a bound)."""
    err = l2_norms(pred - ref, mass, time_series=False)
    effectivity = bound / np.maximum(err, 1e-300)
    return {
        "norm": norm_name(mass),
        "bounded_fraction": float(np.mean(bound >= err)),
        "effectivity": summarize(effectivity),
        "l2_bound": summarize(bound),
    }


def r2_field(pred: np.ndarray, ref: np.ndarray) -> float | None:
    """Coefficient of determination over all samples and entries, against predicting the
    samples' mean field: ``1 - sum (pred - ref)^2 / sum (ref - mean(ref))^2``. Negative:
    the model does worse than that constant. None when the samples do not vary."""
    n = len(ref)
    flat_ref, flat_pred = ref.reshape(n, -1), pred.reshape(n, -1)
    total = float(np.sum((flat_ref - flat_ref.mean(axis=0)) ** 2))
    if n < 2 or total == 0.0:
        return None
    return 1.0 - float(np.sum((flat_pred - flat_ref) ** 2)) / total


def _timing(model: Surrogate, x: Inputs, solve_times: np.ndarray, n_timing: int) -> dict:
    """Median wall time of one full-field prediction, after warm-up, vs the solves."""
    rows = [x[i % len(x) : i % len(x) + 1] for i in range(n_timing)]
    model.predict(rows[0])  # warm-up
    times = []
    for row in rows:
        start = time.perf_counter()
        model.predict(row)
        times.append(time.perf_counter() - start)
    finite = solve_times[np.isfinite(solve_times)]
    out: dict[str, Any] = {"predict_s": float(np.median(times))}
    if finite.size:
        out["solve_s"] = float(np.median(finite))
        out["speedup"] = speedup(solve_times, np.array(times))
    return out
