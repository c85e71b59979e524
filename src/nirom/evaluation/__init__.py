"""Evaluation of surrogates: the metrics of ``shared/METRICS.md``.

The metrics are pure functions of arrays (predictions, references, mass
matrix, timings), so they apply to any surrogate and to the high-fidelity
solver alike; :func:`evaluate` applies them to a surrogate on a dataset.
"""

from nirom.evaluation import metrics
from nirom.evaluation.evaluate import evaluate
from nirom.evaluation.metrics import *  # noqa: F403 (the metrics, as metrics.__all__ lists them)

__all__ = ["evaluate", *metrics.__all__]
