"""The scale a POD surrogate regresses each scalar parameter on: linear or log, chosen by fit.

A design samples a :class:`~nirom.parameters.Uniform` parameter uniformly and a
:class:`~nirom.parameters.LogUniform` one uniformly in its logarithm, and
regressors by default take each parameter on that declared scale (mapped to
[0, 1]). The declared distribution says how the parameter was sampled, not
how the fields depend on it: a conductivity declared uniform over two decades
still acts on a temperature closer to its logarithm, and a load declared
log-uniform acts linearly on a displacement. So a parameter with strictly
positive bounds may be regressed on either scale::

    linear: u = (x - low) / (high - low)
    log:    u = (log x - log low) / (log high - log low)

and :func:`choose_scales` picks one per parameter from the training data: it
starts from the declared scales and tries flipping each positive parameter in
turn (one pass, in declaration order), keeping a flip when it improves the
score by more than a margin. The score is computed on the leading
``LEADING_MODES`` POD coefficients of each field (each field's block divided by
the std of its first coefficient so fields in different units weigh alike), at
``CHOICE_SAMPLES`` training samples at most (:func:`choice_rows`):

- ``gp``: the log marginal likelihood (nats) of one GP with a shared kernel
  (:class:`~nirom.regression.GPRegressor`, one optimiser start), the evidence
  for each scale; a flip must gain ``EVIDENCE_MARGIN`` nats;
- ``rbf`` and ``mlp``: ``CV_FOLDS``-fold cross-validation of a thin-plate
  spline RBF interpolant (the same smooth interpolation the MLP is judged
  against, at a fraction of the cost of training networks), score
  ``-log(mean squared error)``; a flip must lower the error by
  ``CV_MARGIN`` (about 5 %).

Parameters whose lower bound is 0 or negative keep the declared (linear) scale.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy.interpolate import RBFInterpolator

from nirom.parameters import LogUniform, ParameterSpace, Uniform

#: The scales a parameter may be regressed on.
SCALES = ("linear", "log")
#: The settings of ``PODSurrogate(input_scale=...)``: choose, or keep the declared scales.
SETTINGS = ("auto", "declared")
#: POD coefficients per field the choice looks at (the energetic ones).
LEADING_MODES = 3
#: Training samples the choice looks at, at most (a seeded random subset of larger sets),
#: so that it costs about the same at any size (9 parameters: 0.5 s CPU at 100, 0.8 s at 400).
CHOICE_SAMPLES = 128
#: Log marginal likelihood gain (nats) a flip must bring with the GP score.
EVIDENCE_MARGIN = 2.0
#: Folds of the cross-validation score (rbf, mlp).
CV_FOLDS = 5
#: Gain in -log(CV mean squared error) a flip must bring: about a 5 % lower error.
CV_MARGIN = -math.log(0.95)

Scales = dict[str, str]
_ON_SCALE: dict[str, type[Uniform] | type[LogUniform]] = {"linear": Uniform, "log": LogUniform}
Score = Callable[[np.ndarray], float]


def declared_scale(p: Uniform | LogUniform) -> str:
    """The scale the declared distribution implies: "log" for log-uniform, else "linear"."""
    return "log" if isinstance(p, LogUniform) else "linear"


def declared_scales(space: ParameterSpace) -> Scales:
    """Scalar parameter name -> its declared scale."""
    return {p.name: declared_scale(p) for p in space.scalars}


def choosable(space: ParameterSpace) -> list[str]:
    """The scalar parameters that may take either scale: strictly positive bounds."""
    return [p.name for p in space.scalars if p.low > 0.0 and p.high > p.low]


def unit_on_scale(p: Uniform | LogUniform, x: np.ndarray, scale: str) -> np.ndarray:
    """Physical values ``x`` of ``p`` mapped to [0, 1] on ``scale`` ("linear" or "log"):
    the mapping of the distribution declared on that scale over the same bounds."""
    if scale == declared_scale(p):
        return p.to_unit(x)
    return _ON_SCALE[scale](p.name, p.low, p.high).to_unit(x)


def to_unit(space: ParameterSpace, x: np.ndarray, scales: Mapping[str, str]) -> np.ndarray:
    """Validated physical values (n, dim) mapped to the unit cube on ``scales``.

    A parameter ``scales`` does not name keeps its declared scale.
    """
    return UnitMap.of(space, scales)(space.validate_array(x))


@dataclass(frozen=True)
class UnitMap:
    """Physical values (n, dim), already checked, to the unit cube on given scales in one
    vectorised step (a prediction's path: microseconds, where a loop over the parameters
    costs tens). Each column: ``(f(x) - f(low)) / (f(high) - f(low))``, ``f`` the
    logarithm on a log scale, the identity on a linear one (:func:`unit_on_scale`)."""

    log: np.ndarray  # (dim,) bool: the columns on a log scale
    low: np.ndarray  # (dim,) f(low)
    span: np.ndarray  # (dim,) f(high) - f(low)

    @classmethod
    def of(cls, space: ParameterSpace, scales: Mapping[str, str]) -> UnitMap:
        """The map of ``space``'s scalars on ``scales`` (the declared scale where unnamed)."""
        log = [scales.get(p.name, declared_scale(p)) == "log" for p in space.scalars]
        ends = [
            (math.log(p.low), math.log(p.high)) if on_log else (p.low, p.high)
            for p, on_log in zip(space.scalars, log, strict=True)
        ]
        low = np.array([a for a, _ in ends], dtype=float)
        high = np.array([b for _, b in ends], dtype=float)
        return cls(np.array(log, dtype=bool), low, high - low)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        u = np.array(x, dtype=float)  # a copy: the caller's values stay
        np.log(u, out=u, where=self.log)
        return (u - self.low) / self.span


def choice_rows(n: int, seed: int = 0) -> np.ndarray:
    """The rows of an ``n``-sample training set the choice uses: all of them up to
    ``CHOICE_SAMPLES``, else that many drawn at random (seeded), in order."""
    if n <= CHOICE_SAMPLES:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, CHOICE_SAMPLES, replace=False))


def leading_targets(coefficients: Mapping[str, np.ndarray]) -> np.ndarray:
    """The first ``LEADING_MODES`` coefficients of each field, each field's block divided by
    the std of its first coefficient; shape (n, sum of the kept columns)."""
    blocks = []
    for z in coefficients.values():
        lead = z[:, :LEADING_MODES]
        std = float(lead[:, 0].std()) if lead.shape[1] else 0.0
        if std > 0.0:
            blocks.append(lead / std)
    n = next(iter(coefficients.values())).shape[0] if coefficients else 0
    return np.hstack(blocks) if blocks else np.empty((n, 0))


def gp_evidence(targets: np.ndarray, seed: int = 0) -> Score:
    """Score of features X: the log marginal likelihood (nats) of a shared-kernel GP."""
    from nirom.regression import GPRegressor

    def score(X: np.ndarray) -> float:
        gp = GPRegressor(shared_kernel=True, joint_scale=True, n_restarts=0, random_state=seed)
        return float(gp.fit(X, targets).log_marginal_likelihood_.sum())

    return score


def rbf_cross_validation(targets: np.ndarray, seed: int = 0) -> Score:
    """Score of features X: ``-log`` of the ``CV_FOLDS``-fold mean squared error of a
    thin-plate-spline RBF interpolant; ``-inf`` when a fold is too small to fit."""
    n = len(targets)
    folds = np.array_split(np.random.default_rng(seed).permutation(n), min(CV_FOLDS, n))

    def score(X: np.ndarray) -> float:
        squared = 0.0
        for held in folds:
            kept = np.setdiff1d(np.arange(n), held)
            try:
                fit = RBFInterpolator(X[kept], targets[kept], kernel="thin_plate_spline")
            except (ValueError, np.linalg.LinAlgError):
                return -math.inf
            squared += float(np.sum((fit(X[held]) - targets[held]) ** 2))
        mse = squared / targets.size
        return -math.log(mse) if mse > 0.0 else math.inf

    return score


def choose_scales(
    space: ParameterSpace,
    x: np.ndarray,
    features: Callable[[np.ndarray], np.ndarray],
    score: Score,
    margin: float,
) -> tuple[Scales, dict[str, float]]:
    """Per-parameter scales for physical parameters ``x`` (n, dim), by one coordinate pass.

    ``features`` turns unit-cube scalars into the regressor's inputs (appending
    any field-input columns); ``score`` rates those inputs (higher is better);
    a flip from the current scale is kept when it gains more than ``margin``.
    Returns the scales and, per choosable parameter, the score gain of its
    other scale over the one kept (negative: the other scale scored lower).
    """
    scales = declared_scales(space)
    best = score(features(to_unit(space, x, scales)))
    gains: dict[str, float] = {}
    for name in choosable(space):
        trial = dict(scales)
        trial[name] = "log" if scales[name] == "linear" else "linear"
        value = score(features(to_unit(space, x, trial)))
        if value > best + margin:
            gains[name] = best - value
            scales, best = trial, value
        else:
            gains[name] = value - best
    return scales, gains
