"""The online error indicator, and how it relates to the true error.

The indicator is, per time step, the larger of the Gappy-POD misfits of the
stresses and of the cumulated plastic strain at the reduced points
(:meth:`GappyPOD.residual <nirom.hyperreduction.gappy.GappyPOD.residual>`):
the law, evaluated by the reduced model at more points than there are dual
modes, gives values in the span of the training ones as long as the state
resembles the training states; a load history or a parameter outside the
training range produces stress and plastic patterns off that span, and the
misfit grows (measured: on the small test plate, 8e-3 on a training history,
0.21 when the load is doubled, with a displacement error of 1.2e-2 there).
It costs two small matrix products per time step.

:func:`correlation` measures, on validation data, how well it tracks the true
error (Pearson correlation of the logarithms, and Spearman's rank correlation).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from nirom.hyperreduction.gappy import GappyPOD


def gappy_indicator(gappy: GappyPOD, sampled: np.ndarray) -> np.ndarray:
    """Relative Gappy misfit per time step of the values at the gappy points (n_times, m[, c])."""
    return gappy.residual(sampled)


def correlation(indicator: np.ndarray, error: np.ndarray) -> dict[str, float]:
    """Pearson correlation of ``log10`` indicator and error, and Spearman's rank correlation,
    over the pairs where both are positive."""
    a, b = np.ravel(indicator), np.ravel(error)
    keep = (a > 0) & (b > 0) & np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    if a.size < 3:
        return {"pearson_log": float("nan"), "spearman": float("nan"), "n": int(a.size)}
    return {
        "pearson_log": float(stats.pearsonr(np.log10(a), np.log10(b))[0]),
        "spearman": float(stats.spearmanr(a, b)[0]),
        "n": int(a.size),
    }
