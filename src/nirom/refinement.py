"""Adaptive sampling: add solver runs where the surrogate is least certain.

:func:`select_points` scores a scrambled Sobol set of candidate parameters
by the surrogate's predicted standard deviation relative to the predicted
field there (root-mean-square over the values, summed over fields) and
picks a batch greedily: after each pick, candidates within about one
training-point spacing of it are damped by a Gaussian penalty, so a
batch spreads over the uncertain regions instead of stacking up at one
maximum. :func:`refine` solves the batch into the dataset (new ids after the
existing ones) and refits the surrogate on everything.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from rich.console import Console
from scipy.spatial import cKDTree

from nirom.dataset import Dataset
from nirom.errors import ModelError, ParameterError
from nirom.estimator import clone
from nirom.generation import GenerationReport, solve_samples
from nirom.solvers import recorded_solver
from nirom.surrogates import Surrogate


def uncertainty(model: Surrogate, x: np.ndarray) -> np.ndarray:
    """Relative predictive uncertainty at parameter sets ``x`` (n, dim), shape (n,).

    For each field and candidate: the RMS over its values of the predicted
    std divided by the RMS of its predicted mean (the uncertainty of the
    relative error, the metric surrogates are judged by); summed over fields.
    A model without error bars but with an error ``indicator`` among its outputs
    (``capabilities.diagnostics``: hrom) is scored by the indicator's largest value.
    """
    caps = model.capabilities
    n = len(x)
    if not caps.std:
        if "indicator" not in caps.diagnostics:
            raise ModelError(
                f"refine needs a model with error bars or an error indicator; this "
                f"{model.label} model has neither"
            )
        return model.predict(x)["indicator"].reshape(n, -1).max(axis=1)
    mean, std = model.predict(x, return_std=True)
    score = np.zeros(n)
    for name in mean:
        size = np.sqrt(np.mean(mean[name].reshape(n, -1) ** 2, axis=1))
        spread = np.sqrt(np.mean(std[name].reshape(n, -1) ** 2, axis=1))
        score += spread / np.maximum(size, 1e-12 * max(float(size.max()), 1e-300))
    return score


def select_points(
    model: Surrogate,
    k: int,
    training: np.ndarray,
    n_candidates: int = 2048,
    seed: int = 0,
) -> np.ndarray:
    """The ``k`` parameter sets (k, dim) to solve next: uncertain and spread out.

    ``training`` (n, dim) are the parameter sets already solved; the penalty
    radius is half the median nearest-neighbour distance among them, in unit
    coordinates (log scale for log-uniform parameters).
    """
    space = model.space_
    if k < 1 or k > n_candidates:
        raise ParameterError(f"batch size must be in [1, {n_candidates}], got {k}")
    candidates = space.sample(n_candidates, design="sobol", seed=seed)
    score = uncertainty(model, candidates)
    u = space.to_unit(candidates)
    radius = 0.5 * _spacing(space.to_unit(training))
    chosen: list[int] = []
    weight = np.ones(n_candidates)
    for _ in range(k):
        i = int(np.argmax(score * weight))
        chosen.append(i)
        distance2 = np.sum((u - u[i]) ** 2, axis=1)
        weight *= 1.0 - np.exp(-distance2 / (2.0 * radius**2))
    return candidates[chosen]


def _spacing(u: np.ndarray) -> float:
    """Median distance from each point to its nearest neighbour (unit coordinates)."""
    if len(u) < 2:
        return 1.0
    distances, _ = cKDTree(u).query(u, k=2)
    return float(np.median(distances[:, 1])) or 1e-3


@dataclass
class RefinementReport:
    """What a refinement step did: the points chosen, their solves, the new model."""

    points: np.ndarray
    ids: list[int]
    generation: GenerationReport
    model: Surrogate
    fit_s: float


def refine(
    dataset: Dataset,
    model: Surrogate,
    k: int,
    *,
    n_candidates: int = 2048,
    seed: int = 0,
    workers: int | None = None,
    scheduler: str | None = None,
    console: Console | None = None,
) -> RefinementReport:
    """Solve ``k`` new samples where ``model`` (one with error bars) is least certain; refit
    a clone of it (same hyperparameters) on all samples.

    The solver is the one that generated ``dataset`` (its recorded recipe).
    New samples get the ids after the largest id on disk.
    """
    solver = recorded_solver(dataset, "refine")
    points = select_points(model, k, dataset.parameters(), n_candidates=n_candidates, seed=seed)
    first = max(dataset.sample_ids(None), default=-1) + 1
    ids = list(range(first, first + k))
    todo = [(i, model.space_.as_dict(row)) for i, row in zip(ids, points, strict=True)]
    generation = solve_samples(
        solver, dataset, todo, workers=workers, scheduler=scheduler, console=console
    )
    start = time.perf_counter()
    refitted = clone(model).fit(dataset)
    return RefinementReport(points, ids, generation, refitted, time.perf_counter() - start)


def describe(report: RefinementReport) -> dict[str, Any]:
    """JSON-compatible summary of a refinement step."""
    return {
        "ids": report.ids,
        "solved": report.generation.solved,
        "failed": report.generation.failed,
        "training_samples": len(report.model.training_ids_),
        "fit_s": report.fit_s,
    }
