"""Lower bounds of the coercivity constant of ``A(mu) = sum_q theta_q(mu) A_q``.

Min-theta: if every ``A_q`` is symmetric positive semidefinite, every
``theta_q > 0`` and the inner product is ``X = sum_q theta_q(mu_ref) A_q``
(the energy product at a reference parameter), then for all v

    v^T A(mu) v = sum_q theta_q(mu) v^T A_q v >= min_q (theta_q(mu) / theta_q(mu_ref)) v^T X v,

so ``alpha(mu) >= alpha_LB(mu) = min_q theta_q(mu) / theta_q(mu_ref)`` in the X norm.
"""

from __future__ import annotations

import numpy as np

from nirom.errors import ModelError


def min_theta(theta: np.ndarray, theta_ref: np.ndarray) -> np.ndarray:
    """alpha_LB (n,) for coefficients ``theta`` (n, Q) and the reference ``theta_ref`` (Q,)."""
    theta = np.atleast_2d(theta)
    if np.any(theta <= 0) or np.any(theta_ref <= 0):
        raise ModelError(
            "min-theta coercivity bound needs positive coefficients theta_q(mu); "
            f"got min {float(theta.min()):.3g}"
        )
    return np.min(theta / theta_ref, axis=1)
