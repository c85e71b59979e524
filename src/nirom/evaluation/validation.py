"""Validation studies for any surrogate: k-fold cross-validation and learning curves.

Both take a *factory* (a zero-argument callable returning an unfitted
surrogate, e.g. ``lambda: PODSurrogate(regressor="gp")``), so every fold or
size gets a fresh model with the same hyperparameters, and report the
metrics of :func:`nirom.evaluation.evaluate.evaluate`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nirom.dataset import Dataset
from nirom.errors import DatasetError
from nirom.evaluation.evaluate import evaluate
from nirom.surrogates.base import Surrogate

Factory = Callable[[], Surrogate]


def cross_validate(
    factory: Factory, dataset: Dataset, k: int = 5, seed: int = 0, level: float = 0.95
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
        reports.append(_fit_and_evaluate(factory, dataset, train, dataset, sorted(held_out), level))
    return {"k": k, "folds": reports, "fields": _across(reports)}


def learning_curve(
    factory: Factory,
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
        report = _fit_and_evaluate(factory, train, ids[:m], test, None, level)
        reports.append({"n_train": m, **report})
    return reports


def _fit_and_evaluate(
    factory: Factory,
    train: Dataset,
    train_ids: list[int],
    test: Dataset,
    test_ids: list[int] | None,
    level: float,
) -> dict[str, Any]:
    start = time.perf_counter()
    model = factory().fit(train, train_ids)
    fit_s = time.perf_counter() - start
    return {**evaluate(model, test, test_ids, level=level, n_timing=20), "fit_s": fit_s}


def _across(reports: list[dict[str, Any]]) -> dict[str, Any]:
    out = {}
    for name in reports[0]["fields"]:
        means = np.array([r["fields"][name]["relative_l2"]["mean"] for r in reports])
        entry: dict[str, Any] = {
            "relative_l2_mean": float(means.mean()),
            "relative_l2_std_over_folds": float(means.std()),
        }
        covers = [r["fields"][name].get("coverage") for r in reports]
        if all(c is not None for c in covers):
            entry["coverage"] = float(np.mean(covers))
        out[name] = entry
    return out
