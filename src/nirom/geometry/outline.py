"""Random plate outlines: straight bottom and top edges, spline sides through random offsets.

A tensile specimen of width ``W`` and height ``H`` (mm): the bottom edge runs
from ``(0, 0)`` to ``(W, 0)``, the top edge from ``(W, H)`` to ``(0, H)``; the
left side is ``x = d_L(y)`` and the right side ``x = W - d_R(y)``, where the
inward offsets ``d`` are shape-preserving cubic (PCHIP) interpolants through
``0`` at both ends and the control values at the heights
``y_j = H (j + 1) / (m + 1)``, ``j = 0..m-1``. PCHIP never overshoots its
data, so every offset stays within the control values' range and the plate's
narrowest width is at least ``W - 2 max(d)``.

The control offsets (shape ``(2, m)``: row 0 left, row 1 right) are the
outline's parameters; :func:`draw_offsets` draws them uniformly in
``[low, high]`` from ``numpy.random.default_rng([seed, sample_id])``.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import PchipInterpolator

from nirom.errors import ParameterError


def draw_offsets(sample_id: int, seed: int, n_controls: int, low: float, high: float) -> np.ndarray:
    """Control offsets (2, n_controls) in mm for sample ``sample_id`` of a run seeded ``seed``."""
    rng = np.random.default_rng([int(seed), int(sample_id)])
    return rng.uniform(low, high, size=(2, int(n_controls)))


def side_offset(offsets: np.ndarray, height: float, y: np.ndarray) -> np.ndarray:
    """Inward offset (mm) at heights ``y`` of a side with control ``offsets`` (m,)."""
    m = len(offsets)
    knots = height * np.arange(m + 2) / (m + 1)
    values = np.concatenate([[0.0], np.asarray(offsets, dtype=float), [0.0]])
    return PchipInterpolator(knots, values)(y)


def outline_sides(
    offsets: np.ndarray, width: float, height: float, n_points: int = 40
) -> dict[str, np.ndarray]:
    """The four sides as point sequences (counterclockwise, each from its first corner).

    Returns ``{"bottom", "right", "top", "left"}`` -> array (k, 2); consecutive
    sides share their end points (the corners). Sides are sampled at
    ``n_points`` heights.
    """
    offsets = np.asarray(offsets, dtype=float)
    if offsets.ndim != 2 or offsets.shape[0] != 2:
        raise ParameterError(f"outline offsets must have shape (2, m), got {offsets.shape}")
    if np.any(2 * offsets.max(axis=0) >= width):
        raise ParameterError("outline offsets close the plate (left + right >= width)")
    y = np.linspace(0.0, height, int(n_points))
    right = np.column_stack([width - side_offset(offsets[1], height, y), y])
    left = np.column_stack([side_offset(offsets[0], height, y[::-1]), y[::-1]])
    return {
        "bottom": np.array([[0.0, 0.0], [width, 0.0]]),
        "right": right,
        "top": np.array([[width, height], [0.0, height]]),
        "left": left,
    }


def outline_polygon(sides: dict[str, np.ndarray]) -> np.ndarray:
    """The closed outline (k, 2) as one counterclockwise polygon (first point not repeated)."""
    parts = [sides[name][:-1] for name in ("bottom", "right", "top", "left")]
    return np.concatenate(parts)
