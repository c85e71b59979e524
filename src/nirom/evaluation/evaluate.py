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
from collections.abc import Sequence
from typing import Any

import numpy as np

from nirom.dataset import Dataset, FieldSpec
from nirom.errors import FieldError, MetricError
from nirom.evaluation.alignment import MeshMatch, field_input_names, match_dataset
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

#: A reference whose norm is at most this times the largest over the test samples is zero.
ZERO_RTOL = 1e-14


def evaluate(
    model: Surrogate,
    dataset: Dataset,
    ids: list[int] | None = None,
    level: float = 0.95,
    n_timing: int = 50,
    norm: str = "auto",
    fields: Sequence[str] | None = None,
    time_solves: int = 0,
) -> dict[str, Any]:
    """Metrics of ``model`` on the done samples ``ids`` of ``dataset`` (default: all).

    The speed-up divides solve times by the model's prediction time: by default the
    solve times recorded when the dataset was generated (another moment, maybe another
    load on the machine: ``timing.solve_source`` says so); with ``time_solves = n`` the
    dataset's recorded solver solves the first ``n`` test samples again in this run and
    both are timed on those samples (a solver's own reported solve time is used when it
    gives one, as generation does).

    ``norm`` is "auto" (the finite-element L2 norm of point fields when the
    dataset has a mesh, Euclidean otherwise) or "euclidean" (the convention of
    the neural-operator literature on uniform grids). ``fields`` names the
    fields to evaluate (default: every field the model predicts). The model's
    mesh is compared with the dataset's first: the same points and cells in
    another order are matched and the predictions put in the dataset's order
    (:mod:`nirom.evaluation.alignment`); another mesh raises :class:`MeshError`.

    Returns a JSON-compatible dict: ``fields`` (per-field metrics), ``timing``
    (seconds), ``n_samples``, ``level``, and ``not_predicted`` (the dataset's
    fields a model that predicts some fields only, ``rb``, left out) if any, and
    ``model_details`` when the model's ``evaluation_details(dataset, ids)`` gives any
    (its own figures on these samples: hrom-dictionary's classification accuracy).
    A sample whose reference field has a zero norm has no relative error: it
    is left out of that field's relative figures and counted in
    ``zero_reference``, its id listed in ``zero_reference_samples`` and its
    absolute error in ``absolute_l2``.
    """
    if norm not in ("auto", "euclidean"):
        raise MetricError(f"unknown norm {norm!r}; choose 'auto' or 'euclidean'")
    ids = dataset.sample_ids() if ids is None else list(ids)
    selected = _selected_fields(model, dataset, fields)
    if dataset.per_sample_mesh:  # varying geometry: each sample predicted on its own mesh
        from nirom.evaluation.meshes import evaluate_per_sample_mesh

        report = evaluate_per_sample_mesh(model, dataset, ids, level=level)
        report["fields"] = {k: v for k, v in report["fields"].items() if k in selected}
        return report
    check_matches(model, dataset)
    match = match_dataset(model, dataset)
    x = dataset.parameter_sets(ids) if dataset.space.field_inputs else dataset.parameters(ids)
    x = match.inputs(x, field_input_names(model))
    caps = model.capabilities
    out = model.predict(x, return_std=caps.std, return_bound=caps.bound)
    mean = out[0] if caps.std or caps.bound else out
    std = out[1] if caps.std else None
    bounds = {k: b["l2"] for k, b in out[-1].items()} if caps.bound else None
    mean = match.to_target(mean, model.fields_)
    std = None if std is None else match.to_target(std, model.fields_)
    use_mesh = norm == "auto" and dataset.mesh is not None
    mass = dataset.mesh.mass_matrix() if use_mesh else None
    out_fields = {}
    ref_of = {}
    for name in selected:
        spec = dataset.fields[name]
        ref = ref_of[name] = dataset.field(name, ids)
        if mean[name].shape != ref.shape:
            raise MetricError(
                f"{dataset.path} does not match the model: field {name!r} has shape "
                f"{ref.shape[1:]} per sample there, the model predicts {mean[name].shape[1:]} "
                "(another mesh, resolution or problem)"
            )
        out_fields[name] = _field_metrics(
            model,
            name,
            spec,
            ref,
            mean[name],
            None if std is None else std[name],
            mass if spec.location == "point" else None,
            x,
            level,
            ids,
            match,
        )
    if bounds is not None:
        for name, bound in bounds.items():
            if name in out_fields:
                series = dataset.fields[name].times is not None
                out_fields[name]["bound"] = _bound_metrics(
                    bound, ref_of[name], mean[name], mass, series
                )
    if time_solves > 0:
        timing = _timing_now(model, dataset, ids[:time_solves], x)
    else:
        timing = _timing(model, x, dataset.solve_times(ids), n_timing)
    report = {"n_samples": len(ids), "level": level, "fields": out_fields, "timing": timing}
    details = model.evaluation_details(dataset, ids)
    if details:  # a kind's own figures on these samples (a classifier's accuracy)
        report["model_details"] = details
    skipped = [name for name in dataset.fields if name not in model.fields_]
    if skipped:
        report["not_predicted"] = skipped
    return report


def _selected_fields(model: Surrogate, dataset: Dataset, fields: Sequence[str] | None) -> list[str]:
    """The dataset's fields the model predicts, or those of ``fields`` (checked)."""
    model._check_fitted()
    if fields is None:
        return [name for name in dataset.fields if name in model.fields_]
    unknown = [name for name in fields if name not in model.fields_]
    if unknown:
        raise FieldError(
            f"no field {unknown[0]!r} in the model; its fields: {', '.join(model.fields_)}"
        )
    absent = [name for name in fields if name not in dataset.fields]
    if absent:
        raise FieldError(
            f"{dataset.path}: no field {absent[0]!r}; its fields: {', '.join(dataset.fields)}"
        )
    return list(dict.fromkeys(fields))


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
    caps = model.capabilities
    if not caps.all_fields:  # it predicts the fields it names; those must be there
        missing = [
            name
            for name in model.fields_
            if name not in dataset.fields and name not in caps.diagnostics
        ]
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
    ids: Sequence[int],
    match: MeshMatch,
) -> dict[str, Any]:
    n = len(ref)
    out: dict[str, Any] = {"norm": norm_name(mass)}
    series = spec.times is not None
    scalar = spec.location == "global"
    # Global fields (scalar outputs) are compared as flat vectors, in the Euclidean norm.
    flat_ref, flat_pred = ref.reshape(n, -1), pred.reshape(n, -1)
    norms = l2_norms(flat_ref) if scalar else l2_norms(ref, mass, time_series=series)
    zero = zero_references(norms)
    keep = ~zero
    out["relative_l2"], out["rrmse"] = None, None
    if keep.any():
        if scalar:
            r, p = flat_ref[keep], flat_pred[keep]
            out["relative_l2"] = summarize(relative_l2(p, r))
            single = r.shape[1] == 1
            out["rrmse"] = rrmse_scalar(p.ravel(), r.ravel()) if single else rrmse_field(p, r)
        else:
            r, p = ref[keep], pred[keep]
            out["relative_l2"] = summarize(relative_l2(p, r, mass=mass, time_series=series))
            out["rrmse"] = rrmse_field(p, r, time_series=series)
    out["zero_reference"] = int(zero.sum())
    if zero.any():  # flagged: the absolute error, in the field's unit, stands in for it
        out["zero_reference_samples"] = [int(ids[i]) for i in np.flatnonzero(zero)]
        if scalar:
            absolute = l2_norms(flat_pred[zero] - flat_ref[zero])
        else:
            absolute = l2_norms(pred[zero] - ref[zero], mass, time_series=series)
        out["absolute_l2"] = summarize(absolute)
    if scalar:
        out["max_error"] = summarize(max_error(flat_pred, flat_ref, time_series=False))
    else:
        out["max_error"] = summarize(max_error(pred, ref, time_series=series))
    out["r2"] = r2_field(pred, ref)
    if std is not None:
        out["coverage"] = coverage(ref, pred, std, level=level)
        out["interval_width"] = interval_width(std, level=level)
    if model.capabilities.coordinates:
        pod = model.reduced_basis(name)
        # The reduction lives on the model's mesh: references go there, projections come back.
        on_model = match.to_model({name: ref}, {name: spec})[name].reshape(n, -1)
        out["n_modes"] = int(pod.n_modes_)
        # The floor in the same norm as the surrogate's error, so the two compare.
        projected = pod.inverse_transform(pod.transform(on_model)).reshape(ref.shape)
        projected = match.to_target({name: projected}, {name: spec})[name]
        if keep.any():
            if scalar:
                floor = relative_l2(projected.reshape(n, -1)[keep], flat_ref[keep])
            else:
                floor = relative_l2(projected[keep], ref[keep], mass=mass, time_series=series)
            out["projection_floor"] = summarize(floor)
        if n >= 2:  # R2 needs a spread of test samples
            r2 = r2_per_mode(pod.transform(on_model), model.predict_coordinates(name, x))
            out["r2_per_mode"] = [None if not np.isfinite(v) else float(v) for v in r2]
    return out


def zero_references(norms: np.ndarray) -> np.ndarray:
    """Mask (n,) of the samples whose reference norm is zero: at most ``ZERO_RTOL`` times
    the largest of ``norms`` (an elastic sample's plastic strain), so that no relative
    error is defined there."""
    norms = np.asarray(norms, dtype=float)
    return norms <= ZERO_RTOL * norms.max(initial=0.0)


def _bound_metrics(
    bound: np.ndarray, ref: np.ndarray, pred: np.ndarray, mass: Any, time_series: bool = False
) -> dict:
    """Effectivity of an L2 error bound: bound / true L2 error (>= 1 when it is a bound)."""
    err = l2_norms(pred - ref, mass, time_series=time_series)
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
        out["solve_source"] = f"recorded at generation ({finite.size} samples)"
    return out


def _timing_now(model: Surrogate, dataset: Dataset, ids: list[int], x: Inputs) -> dict:
    """Solves of ``ids`` by the dataset's recorded solver and predictions of the same
    parameter sets, both timed here (medians)."""
    from nirom.solvers import recorded_solver
    from nirom.solvers.base import REPORTED_SOLVE_TIME

    solver = recorded_solver(dataset)
    rows = [x[i : i + 1] for i in range(len(ids))]
    model.predict(rows[0])  # warm-up
    solves, predictions = [], []
    for mu, row in zip(dataset.parameter_sets(ids), rows, strict=True):
        start = time.perf_counter()
        solver.solve(mu)
        wall = time.perf_counter() - start
        solves.append(float(getattr(solver, "run_info", {}).get(REPORTED_SOLVE_TIME, wall)))
        start = time.perf_counter()
        model.predict(row)
        predictions.append(time.perf_counter() - start)
    return {
        "predict_s": float(np.median(predictions)),
        "solve_s": float(np.median(solves)),
        "speedup": float(np.median(solves) / np.median(predictions)),
        "solve_source": f"timed in this run ({len(ids)} samples, {solver.name})",
    }
