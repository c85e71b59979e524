"""Shared checks of the material-law tests: finite-difference tangents, random strains."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from nirom.mechanics.laws import MaterialLaw


def fd_tangent(
    law: MaterialLaw, strain: np.ndarray, state: dict, dt: float, h: float = 1e-7
) -> np.ndarray:
    """Central finite differences of ``law.integrate(...).stress`` w.r.t. the strain, (n, 6, 6)."""
    n = strain.shape[0]
    tangent = np.empty((n, 6, 6))
    for j in range(6):
        step = np.zeros(6)
        step[j] = h
        plus = law.integrate(strain + step, state, dt).stress
        minus = law.integrate(strain - step, state, dt).stress
        tangent[:, :, j] = (plus - minus) / (2 * h)
    return tangent


def relative_tangent_error(analytic: np.ndarray, numeric: np.ndarray) -> np.ndarray:
    """Per point ``||analytic - numeric|| / ||numeric||`` (Frobenius), shape (n,)."""
    diff = np.linalg.norm(analytic - numeric, axis=(1, 2))
    return diff / np.linalg.norm(numeric, axis=(1, 2))


@pytest.fixture
def tangent_error() -> Callable[..., np.ndarray]:
    """Relative error of the law's tangent against central differences, per point."""

    def check(law: MaterialLaw, strain: np.ndarray, state: dict, dt: float = 1.0) -> np.ndarray:
        analytic = law.integrate(strain, state, dt).tangent
        return relative_tangent_error(analytic, fd_tangent(law, strain, state, dt))

    return check


def random_strains(n: int, scale: float, seed: int, plane: bool = False) -> np.ndarray:
    """``n`` random Mandel strains of size about ``scale``; plane-strain-like if ``plane``."""
    rng = np.random.default_rng(seed)
    eps = rng.normal(scale=scale, size=(n, 6))
    if plane:
        eps[:, [2, 3, 4]] = 0.0
    return eps


@pytest.fixture
def strains() -> Callable[..., np.ndarray]:
    """Factory of seeded random strains, see :func:`random_strains`."""
    return random_strains
