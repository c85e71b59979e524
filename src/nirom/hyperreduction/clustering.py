"""k-medoids clustering of simulations by a dissimilarity matrix, its size chosen by silhouette.

:func:`k_medoids`: seeded k-medoids++ starts, then PAM's swap phase (every
medoid against every other point, the best improving swap taken until none
improves the total dissimilarity to the nearest medoid), the best of
``n_init`` starts kept. Sizes are tens to hundreds of simulations: the swap
phase, O(k n^2) per pass, costs milliseconds there.

:func:`choose_clusters`: the number of clusters with the largest mean
silhouette among 2 ... ``max_clusters`` (clusters of fewer than
``min_size`` members are not allowed) that ``accept`` takes (a classifier
able to tell the clusters apart, say), or, given ``cost``, the one of least
cost among those ``accept`` takes (the expected online cost of the local
models, say); 1 when even the largest silhouette is below
``min_silhouette`` (no cluster structure worth several models).

:func:`with_overlap`: a cluster's members plus its nearest outsiders (by
dissimilarity to the medoid), so that each local basis also covers the edge
of its neighbours' regions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nirom.errors import ParameterError


@dataclass(frozen=True)
class Clustering:
    """``medoids`` (k,): indices of the medoid simulations; ``labels`` (n,): each
    simulation's cluster (0 ... k-1, the medoids' order); ``cost``: the total dissimilarity
    to the nearest medoid; ``silhouette``: the mean silhouette (nan for one cluster)."""

    medoids: np.ndarray
    labels: np.ndarray
    cost: float
    silhouette: float

    @property
    def n_clusters(self) -> int:
        return int(self.medoids.size)


def k_medoids(D: np.ndarray, k: int, seed: int = 0, n_init: int = 4) -> Clustering:
    """k-medoids (PAM swap from k-medoids++ starts) of the dissimilarity matrix ``D`` (n, n)."""
    D = _check(D)
    n = len(D)
    if not 1 <= k <= n:
        raise ParameterError(f"k-medoids: k must be between 1 and {n} simulations, got {k}")
    rng = np.random.default_rng(seed)
    best: tuple[float, np.ndarray] | None = None
    for _ in range(n_init):
        medoids = _swap(D, _plus_plus(D, k, rng))
        cost = float(np.sum(np.min(D[:, medoids], axis=1)))
        if best is None or cost < best[0] - 1e-12:
            best = (cost, medoids)
    cost, medoids = best  # type: ignore[misc]
    medoids = np.sort(medoids)
    labels = np.argmin(D[:, medoids], axis=1)
    labels[medoids] = np.arange(k)  # a medoid belongs to its own cluster (ties)
    return Clustering(medoids, labels, cost, silhouette(D, labels))


def _plus_plus(D: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-medoids++ start: the first medoid at random, each next one drawn with probability
    proportional to the squared dissimilarity to the nearest chosen one."""
    n = len(D)
    medoids = [int(rng.integers(n))]
    for _ in range(1, k):
        d2 = np.min(D[:, medoids], axis=1) ** 2
        total = float(d2.sum())
        if total <= 0:  # every point on a medoid: any other point will do
            rest = np.setdiff1d(np.arange(n), medoids)
            medoids.append(int(rng.choice(rest)))
        else:
            medoids.append(int(rng.choice(n, p=d2 / total)))
    return np.array(medoids)


def _swap(D: np.ndarray, medoids: np.ndarray) -> np.ndarray:
    """PAM's swap phase: the best improving (medoid, point) exchange until none improves."""
    medoids = medoids.copy()
    cost = float(np.sum(np.min(D[:, medoids], axis=1)))
    while True:
        best = (cost, -1, -1)
        for slot in range(medoids.size):
            others = np.delete(medoids, slot)
            nearest_other = np.min(D[:, others], axis=1) if others.size else np.full(len(D), np.inf)
            for candidate in np.setdiff1d(np.arange(len(D)), medoids):
                trial = float(np.sum(np.minimum(nearest_other, D[:, candidate])))
                if trial < best[0] - 1e-12:
                    best = (trial, slot, int(candidate))
        if best[1] < 0:
            return medoids
        cost = best[0]
        medoids[best[1]] = best[2]


def silhouette(D: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette of a clustering (nan for a single cluster; a member alone in its
    cluster scores 0, as in Rousseeuw's definition)."""
    clusters = np.unique(labels)
    if clusters.size < 2:
        return float("nan")
    scores = np.zeros(len(D))
    for i in range(len(D)):
        own = labels == labels[i]
        if own.sum() == 1:
            continue
        a = D[i, own].sum() / (own.sum() - 1)
        b = min(D[i, labels == c].mean() for c in clusters if c != labels[i])
        scores[i] = (b - a) / max(a, b) if max(a, b) > 0 else 0.0
    return float(scores.mean())


def choose_clusters(
    D: np.ndarray,
    max_clusters: int,
    seed: int = 0,
    min_size: int = 2,
    min_silhouette: float = 0.25,
    accept: Callable[[Clustering], bool] | None = None,
    cost: Callable[[Clustering], float] | None = None,
) -> tuple[Clustering, dict[int, float]]:
    """The clustering of largest mean silhouette among 2 ... ``max_clusters`` clusters (each
    of ``min_size`` members or more) that ``accept`` takes (the largest silhouette when it
    takes none), or one cluster when none reaches ``min_silhouette``; and the silhouette of
    every number tried. With ``cost``, of the clusterings ``accept`` takes (when several)
    the one of least ``cost`` (ties: the larger silhouette)."""
    D = _check(D)
    n = len(D)
    tried: dict[int, float] = {}
    candidates = []
    for k in range(2, min(max_clusters, n // max(min_size, 1)) + 1):
        candidate = k_medoids(D, k, seed)
        if np.min(np.bincount(candidate.labels, minlength=k)) < min_size:
            continue
        tried[k] = candidate.silhouette
        if candidate.silhouette >= min_silhouette:
            candidates.append(candidate)
    if not candidates:
        return k_medoids(D, 1, seed), tried
    candidates.sort(key=lambda c: -c.silhouette)
    taken = [c for c in candidates if accept is None or accept(c)]
    if cost is not None and len(taken) > 1:
        costs = [cost(c) for c in taken]
        return taken[int(np.argmin(costs))], tried  # argmin: the first of equal costs
    return (taken or candidates)[0], tried


def with_overlap(D: np.ndarray, clustering: Clustering, overlap: float) -> list[np.ndarray]:
    """Each cluster's members (sorted indices) plus the ``ceil(overlap * size)`` outsiders
    nearest to its medoid."""
    out = []
    for c, medoid in enumerate(clustering.medoids):
        members = np.flatnonzero(clustering.labels == c)
        extra = int(np.ceil(overlap * members.size))
        outsiders = np.flatnonzero(clustering.labels != c)
        nearest = outsiders[np.argsort(D[medoid, outsiders], kind="stable")[:extra]]
        out.append(np.sort(np.concatenate([members, nearest])))
    return out


def _check(D: np.ndarray) -> np.ndarray:
    D = np.asarray(D, dtype=float)
    if D.ndim != 2 or D.shape[0] != D.shape[1] or not np.all(np.isfinite(D)):
        raise ParameterError(f"a dissimilarity matrix must be square and finite, got {D.shape}")
    return D
