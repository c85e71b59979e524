"""Evaluation of surrogates: the metrics of ``shared/METRICS.md``.

The metrics are pure functions of arrays (predictions, references, mass
matrix, timings), so they apply to any surrogate and to the high-fidelity
solver alike; :func:`evaluate` applies them to a surrogate on a dataset.
"""

from nirom.evaluation.evaluate import evaluate
from nirom.evaluation.metrics import (
    coverage,
    interval_width,
    max_error,
    norm_name,
    r2_per_mode,
    relative_l2,
    rrmse_field,
    rrmse_scalar,
    speedup,
    summarize,
)

__all__ = [
    "coverage",
    "evaluate",
    "interval_width",
    "max_error",
    "norm_name",
    "r2_per_mode",
    "relative_l2",
    "rrmse_field",
    "rrmse_scalar",
    "speedup",
    "summarize",
]
