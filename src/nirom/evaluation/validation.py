"""Validation studies for any surrogate: k-fold cross-validation and learning curves.

Both take an unfitted surrogate (e.g. ``PODSurrogate(regressor="gp")``) and
fit a clone of it (:func:`nirom.estimator.clone`: the same hyperparameters)
for every fold or size; a zero-argument factory returning one works too.
They report the metrics of :func:`nirom.evaluation.evaluate.evaluate`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nirom.dataset import Dataset
from nirom.errors import DatasetError
from nirom.estimator import clone
from nirom.evaluation.evaluate import evaluate
from nirom.surrogates.base import Surrogate

Factory = Callable[[], Surrogate]
#: an unfitted surrogate (cloned for each fit) or a factory making one
Model = Surrogate | Factory


def cross_validate(
    model: Model, dataset: Dataset, k: int = 5, seed: int = 0, level: float = 0.95
) -> dict[str, Any]:
    """k-fold cross-validation on the done samples of ``dataset`` (folds seeded).

    Returns ``folds`` (one evaluation report per fold, with its ``fit_s``) and
    ``fields``: per field, the mean and spread over folds of the mean
    relative L2 error, and the mean coverage when the model has error bars.
    """
    ids = np.array(dataset.sample_ids())
    if not 2 <= k <= len(ids):
        raise DatasetError(f"{dataset.path}: k must be in [2, {len(ids)}] (done samples), got {k}")
    folds = np.array_split(np.random.default_rng(seed).permutation(ids), k)
    reports = []
    for held_out in folds:
        train = sorted(set(ids.tolist()) - set(held_out.tolist()))
        reports.append(_fit_and_evaluate(model, dataset, train, dataset, sorted(held_out), level))
    return {"k": k, "folds": reports, "fields": _across(reports)}


def learning_curve(
    model: Model,
    train: Dataset,
    test: Dataset,
    sizes: Sequence[int],
    level: float = 0.95,
) -> list[dict[str, Any]]:
    """Test metrics of models fitted on the first ``m`` training samples, for each size.

    With a Sobol training design the first ``m`` samples are themselves
    space-filling, so the curve shows error against training-set size.
    """
    ids = train.sample_ids()
    reports = []
    for m in sizes:
        if not 2 <= m <= len(ids):
            raise DatasetError(f"{train.path}: training size {m} outside [2, {len(ids)}]")
        report = _fit_and_evaluate(model, train, ids[:m], test, None, level)
        reports.append({"n_train": m, **report})
    return reports


def _fit_and_evaluate(
    model: Model,
    train: Dataset,
    train_ids: list[int],
    test: Dataset,
    test_ids: list[int] | None,
    level: float,
) -> dict[str, Any]:
    fresh = clone(model) if isinstance(model, Surrogate) else model()
    start = time.perf_counter()
    fresh.fit(train, train_ids)
    fit_s = time.perf_counter() - start
    return {**evaluate(fresh, test, test_ids, level=level, n_timing=20), "fit_s": fit_s}


def _across(reports: list[dict[str, Any]]) -> dict[str, Any]:
    out = {}
    for name in reports[0]["fields"]:
        # A fold whose references of this field are all zero has no relative figure.
        relative = [r["fields"][name]["relative_l2"] for r in reports]
        means = np.array([rel["mean"] for rel in relative if rel is not None])
        entry: dict[str, Any] = {
            "relative_l2_mean": float(means.mean()) if means.size else None,
            "relative_l2_std_over_folds": float(means.std()) if means.size else None,
        }
        covers = [r["fields"][name].get("coverage") for r in reports]
        if all(c is not None for c in covers):
            entry["coverage"] = float(np.mean(covers))
        out[name] = entry
    return out
