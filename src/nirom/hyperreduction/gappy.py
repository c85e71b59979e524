"""Gappy-POD: a field rebuilt everywhere from its values at a few points.

A field ``s`` of ``n_points`` points with ``c`` components per point (a stress,
``c = 4``; a plastic strain, ``c = 1``) is approximated in the span of POD
modes ``Phi`` (k, n_points * c), point-major entries. Knowing ``s`` at a set of
points only, the coefficients are the least-squares fit on their entries,
``a = argmin ||Phi_S^T a - s_S||``, and the field is ``Phi^T a``: exact for a
field in the span as soon as ``Phi_S`` has full row rank (tested). The
relative misfit ``||Phi_S^T a - s_S|| / ||s_S||`` is zero for a field of the
span and grows as the field leaves it: the error indicator of
:mod:`nirom.hyperreduction.indicator`.

:func:`select_points` picks points that make ``Phi_S`` well conditioned
(pivoted QR of the modes, as in Q-DEIM), so they can join a cubature's points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla

from nirom.errors import FieldError


def entries(points: np.ndarray, components: int) -> np.ndarray:
    """Point-major entry indices of ``points`` (each point's ``components`` entries)."""
    points = np.asarray(points, dtype=np.int64)
    return (points[:, None] * components + np.arange(components)).ravel()


def select_points(modes: np.ndarray, components: int) -> np.ndarray:
    """Points (sorted, distinct) whose entries make the modes' restriction full rank:
    the points of the first ``k`` pivots of a column-pivoted QR of ``modes`` (k, n)."""
    modes = np.asarray(modes, dtype=float)
    if modes.ndim != 2 or modes.shape[1] % components:
        raise FieldError(f"modes have shape {modes.shape}; expected (k, n_points * {components})")
    if modes.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    _, _, pivots = sla.qr(modes, mode="economic", pivoting=True)
    return np.unique(pivots[: modes.shape[0]] // components)


@dataclass
class GappyPOD:
    """Gappy reconstruction of a field from its values at ``points``.

    ``modes`` (k, n_points * components) point-major; ``points`` the sampled points.
    """

    modes: np.ndarray
    points: np.ndarray
    components: int

    def __post_init__(self) -> None:
        self.modes = np.asarray(self.modes, dtype=float)
        self.points = np.asarray(self.points, dtype=np.int64)
        if self.modes.ndim != 2 or self.modes.shape[1] % self.components:
            raise FieldError(
                f"Gappy modes have shape {self.modes.shape}; expected (k, n * {self.components})"
            )
        n_points = self.modes.shape[1] // self.components
        if self.points.size and (self.points.min() < 0 or self.points.max() >= n_points):
            raise FieldError(f"Gappy points must lie in [0, {n_points})")
        sampled = self.modes[:, entries(self.points, self.components)]  # (k, m)
        if sampled.shape[1] < sampled.shape[0]:
            raise FieldError(
                f"Gappy-POD needs at least {sampled.shape[0]} sampled entries, "
                f"got {sampled.shape[1]}"
            )
        self._sampled = sampled
        self._pinv = np.linalg.pinv(sampled.T)  # (k, m)

    @property
    def n_modes(self) -> int:
        return int(self.modes.shape[0])

    def _flat(self, values: np.ndarray) -> np.ndarray:
        """Sampled values (..., m[, c]) as (..., m * c)."""
        values = np.asarray(values, dtype=float)
        if self.components == 1:
            return values
        return values.reshape(*values.shape[:-2], -1)

    def coefficients(self, values: np.ndarray) -> np.ndarray:
        """Least-squares coefficients (..., k) of sampled values (..., m[, c])."""
        return self._flat(values) @ self._pinv.T

    def reconstruct(self, values: np.ndarray) -> np.ndarray:
        """The whole field (..., n_points[, c]) from values at the points (..., m[, c])."""
        field = self.coefficients(values) @ self.modes
        if self.components > 1:
            field = field.reshape(*field.shape[:-1], -1, self.components)
        return field

    def residual(self, values: np.ndarray) -> np.ndarray:
        """Relative misfit ``||Phi_S^T a - s_S|| / ||s_S||`` per field (0 where ``s_S = 0``)."""
        flat = self._flat(values)
        misfit = flat - (flat @ self._pinv.T) @ self._sampled
        norm = np.linalg.norm(flat, axis=-1)
        safe = np.where(norm > 0, norm, 1.0)
        return np.where(norm > 0, np.linalg.norm(misfit, axis=-1) / safe, 0.0)
