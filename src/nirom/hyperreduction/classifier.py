"""The classifier from parameters to a local model: multinomial logistic regression.

Features are the parameters on the unit cube (``2 u - 1``), and their
products (quadratic terms) when that does better, so a regime boundary such
as ``load * concentration = yield stress`` is a few coefficients; the
probabilities are a softmax of affine functions of the features.
scikit-learn's ``LogisticRegression`` (L-BFGS, deterministic) fits it, the
degree (1 or 2) and the L2 penalty ``C`` (among :data:`C_GRID`) chosen by
leave-one-out accuracy (then log-loss) when there are at most
:data:`LOO_MAX` training simulations, 5-fold otherwise (measured on
plate-hole, 40 histories in 4 clusters: quadratic features 80 %, linear
ones 85 %: the quadratic terms overfit the few simulations near a
boundary). The fitted state
is two arrays (coefficients, intercepts), so it is saved as arrays and the
probabilities are computed by NumPy alone after loading; the cross-validated
accuracy is kept with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nirom.errors import ModelError

#: Penalty values tried (inverse regularisation strength of the L2 penalty).
C_GRID = (1.0, 10.0, 100.0, 1e3, 1e4)
#: Feature degrees tried: 1 (the parameters), 2 (and their products).
DEGREES = (1, 2)
#: Up to this many simulations, leave-one-out cross-validation; 5 folds beyond.
LOO_MAX = 80


def features(u: np.ndarray, degree: int = 2) -> np.ndarray:
    """Linear (n, d) and, for ``degree`` 2, quadratic features (n, d + d (d + 1) / 2) of
    unit-cube parameters (n, d)."""
    z = 2.0 * np.asarray(u, dtype=float) - 1.0
    if degree == 1:
        return z
    i, j = np.triu_indices(z.shape[1])
    return np.hstack([z, z[:, i] * z[:, j]])


@dataclass
class ParameterClassifier:
    """Softmax probabilities ``exp(F(u) W^T + b)`` normalised over ``n_classes`` classes;
    ``cv`` holds the cross-validated accuracy, the chosen penalty and feature degree."""

    coef: np.ndarray
    intercept: np.ndarray
    cv: dict[str, Any] = field(default_factory=dict)
    degree: int = 2

    @property
    def n_classes(self) -> int:
        return int(self.intercept.size)

    @classmethod
    def fit(cls, u: np.ndarray, labels: np.ndarray, n_classes: int) -> ParameterClassifier:
        """The classifier of unit-cube parameters ``u`` (n, d) to ``labels`` (n,) in
        0 ... n_classes - 1, penalty chosen by cross-validation."""
        labels = np.asarray(labels, dtype=int)
        if n_classes == 1 or np.unique(labels).size == 1:
            only = int(labels[0]) if labels.size else 0
            intercept = np.full(n_classes, -np.inf)
            intercept[only] = 0.0
            cv = {"accuracy": 1.0, "folds": 0, "C": None}
            return cls(np.zeros((n_classes, features(u).shape[1])), intercept, cv)
        grid = [(d, c) for d in DEGREES for c in C_GRID]
        scores = {g: _cross_validate(features(u, g[0]), labels, n_classes, g[1]) for g in grid}
        degree, C = max(grid, key=lambda g: (scores[g][0], -scores[g][1]))
        coef, intercept = _fit_arrays(features(u, degree), labels, n_classes, C)
        accuracy, log_loss, folds = scores[degree, C]
        cv = {"accuracy": accuracy, "log_loss": log_loss, "folds": folds, "C": C}
        return cls(coef, intercept, {**cv, "degree": degree}, degree)

    def probabilities(self, u: np.ndarray) -> np.ndarray:
        """Class probabilities (n, n_classes) of unit-cube parameters ``u`` (n, d)."""
        return _softmax(features(u, self.degree) @ self.coef.T + self.intercept)

    def to_json(self) -> dict[str, Any]:
        return {"n_classes": self.n_classes, "cv": self.cv, "degree": self.degree}

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"coef": self.coef, "intercept": self.intercept}

    @classmethod
    def from_saved(
        cls, state: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
    ) -> ParameterClassifier:
        try:
            coef, intercept = np.asarray(arrays["coef"]), np.asarray(arrays["intercept"])
            if coef.shape[0] != intercept.size or intercept.size != int(state["n_classes"]):
                raise ValueError(f"coefficients {coef.shape} for {intercept.size} classes")
            degree = int(state.get("degree", 2))
            if degree not in DEGREES:
                raise ValueError(f"feature degree {degree}")
            return cls(coef, intercept, dict(state.get("cv") or {}), degree)
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"malformed classifier ({exc})") from None


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - np.max(logits, axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _fit_arrays(
    F: np.ndarray, labels: np.ndarray, n_classes: int, C: float
) -> tuple[np.ndarray, np.ndarray]:
    """Softmax coefficients (n_classes, f) and intercepts (n_classes,) fitted on ``F``; a
    class absent from ``labels`` gets probability zero (intercept -inf)."""
    from sklearn.linear_model import LogisticRegression

    present = np.unique(labels)
    coef = np.zeros((n_classes, F.shape[1]))
    intercept = np.full(n_classes, -np.inf)
    if present.size == 1:
        intercept[present[0]] = 0.0
        return coef, intercept
    fitted = LogisticRegression(C=C, max_iter=2000, tol=1e-8).fit(F, labels)
    if present.size == 2:  # binary: sigmoid(w f + b) is the softmax of (0, w f + b)
        coef[present[1]], intercept[present[0]], intercept[present[1]] = (
            fitted.coef_[0],
            0.0,
            fitted.intercept_[0],
        )
    else:
        coef[present], intercept[present] = fitted.coef_, fitted.intercept_
    return coef, intercept


def _cross_validate(
    F: np.ndarray, labels: np.ndarray, n_classes: int, C: float
) -> tuple[float, float, int]:
    """Cross-validated accuracy, mean log-loss and number of folds (leave-one-out up to
    :data:`LOO_MAX` samples, else 5 folds in a fixed shuffled order)."""
    n = len(labels)
    order = np.random.default_rng(0).permutation(n)
    folds = [np.array([i]) for i in range(n)] if n <= LOO_MAX else np.array_split(order, 5)
    right, loss = 0, 0.0
    for test in folds:
        train = np.setdiff1d(np.arange(n), test)
        coef, intercept = _fit_arrays(F[train], labels[train], n_classes, C)
        with np.errstate(invalid="ignore"):
            p = _softmax(F[test] @ coef.T + intercept)
        right += int(np.sum(np.argmax(p, axis=1) == labels[test]))
        loss -= float(np.sum(np.log(np.clip(p[np.arange(test.size), labels[test]], 1e-12, 1))))
    return right / n, loss / n, len(folds)
