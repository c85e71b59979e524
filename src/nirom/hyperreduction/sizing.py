"""The cubature sized by what the model must deliver (``ecm_tolerance="auto"``).

A cubature's tolerance trades points (online time) for accuracy, and the
relation between the two is not known in advance: the number of points is
about the number of integrand modes kept, and the reproduction error stops
improving once the displacement and dual bases, not the integration, limit
it. So the offline stage measures it. On a few training histories (all of
them up to five, else the most, the least and the median plastic by their
replayed peak ``p``):

1. the POD-Galerkin model with every integration point (the same bases, the
   full rule) gives the reference errors ``e_u*`` (displacement, relative L2
   in the POD's inner product over all times) and ``e_p*`` (cumulated plastic
   strain at the integration points, relative L2);
2. candidate tolerances from loose to strict (:data:`CANDIDATES`) each give a
   cubature (integrand basis truncated at the tolerance, greedy + NNLS), whose
   model is solved on the same histories;
3. the first (loosest) candidate with ``e_u <= max(accuracy, 2 e_u*)`` and
   ``e_p <= 1.25 e_p* + 1e-12`` (each the largest over the histories) is kept: its
   displacement error meets the asked accuracy (or stays within twice what the bases
   allow), and its plastic-strain error is within a quarter of what the bases allow.

Measured on plate-hole P2 (2,090 unknowns, 1,440 integration points, 10
training histories): tolerance 1e-4 gave 199 points and u 4e-4 on the
training histories, 3e-5 gave 248 points and u 8.5e-5 (accepted at
``accuracy=1e-4``), 1e-6 gave 450 points and u 2.7e-5; p stayed at 1.6e-3
(the Galerkin model's 1.55e-3) from 1e-4 down.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nirom.hyperreduction.ecm import (
    Cubature,
    greedy_cubature,
    integrand_svd,
    truncate_factor,
    truncated_basis,
)

#: Cubature tolerances tried by ``ecm_tolerance="auto"``, loosest first.
CANDIDATES = (1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6)
#: The strictest candidate: per-sample integrand blocks are compressed at it.
STRICTEST = min(CANDIDATES)


@dataclass
class CheckHistory:
    """A training history the candidates are measured on: its parameter set, displacement
    series (n_times, n_dofs) and plastic strain at every integration point (n_times, n_qp)."""

    mu: dict[str, float]
    u: np.ndarray
    p: np.ndarray


def history_errors(
    simulate: Callable[[dict[str, float]], dict[str, np.ndarray]],
    checks: Sequence[CheckHistory],
    product: Any,
) -> np.ndarray:
    """``(e_u, e_p)`` per history (shape (n, 2)): relative L2 errors of the model's u (in
    the inner product ``product``, a sparse matrix or None for Euclidean) and p_qp."""
    out = []
    for check in checks:
        fields = simulate(check.mu)
        du = fields["u"].reshape(check.u.shape) - check.u
        out.append(
            (_norm(du, product) / _norm(check.u, product), _relative(fields["p_qp"], check.p))
        )
    return np.array(out)


def _norm(u: np.ndarray, product: Any) -> float:
    if product is None:
        return float(np.linalg.norm(u))
    return float(np.sqrt(max(np.einsum("ti,ti->", u, (product @ u.T).T), 0.0)))


def _relative(pred: np.ndarray, ref: np.ndarray) -> float:
    scale = float(np.linalg.norm(ref))
    diff = float(np.linalg.norm(pred.reshape(ref.shape) - ref))
    return diff / scale if scale > 0 else diff


def choose_cubature(
    factors: Sequence[np.ndarray],
    weights: np.ndarray,
    errors_of: Callable[[Cubature], np.ndarray],
    accuracy: float,
    candidates: Sequence[float] = CANDIDATES,
) -> tuple[Cubature, dict[str, Any]]:
    """The loosest candidate cubature meeting the criteria of the module docstring.

    ``factors`` are the per-sample compressed integrand blocks
    (:func:`~nirom.hyperreduction.ecm.compress` at :data:`STRICTEST`);
    ``errors_of(cubature)`` builds the model of a cubature and returns its
    ``(e_u, e_p)`` per check history. Returns the cubature and a record (the
    reference errors, each candidate's tolerance, points and errors, the choice).
    """
    full = Cubature(np.arange(weights.size), np.asarray(weights, dtype=float), 0.0)
    reference = errors_of(full).max(axis=0)  # the worst history's, as for the candidates
    u_limit = max(accuracy, 2.0 * reference[0])
    p_limit = 1.25 * reference[1] + 1e-12
    tried = []
    chosen = None
    for tol in sorted(candidates, reverse=True):
        # Each sample's factor truncated at the candidate's tolerance first: a loose
        # candidate's decomposition is then a small one (the strictest is the costly one).
        u, s = integrand_svd([truncate_factor(f, tol) for f in factors], weights, tol)
        start = None if chosen is None else chosen[1].points  # the looser candidate's points
        cubature = greedy_cubature(truncated_basis(u, s, weights, tol), weights, tol, start=start)
        errors = errors_of(cubature).max(axis=0)
        ok = bool(errors[0] <= u_limit and errors[1] <= p_limit)
        tried.append(
            {
                "tolerance": tol,
                "points": int(cubature.points.size),
                "u_error": float(errors[0]),
                "p_error": float(errors[1]),
                "accepted": ok,
            }
        )
        chosen = (tol, cubature)
        if ok:
            break
    assert chosen is not None
    record = {
        "tolerance": chosen[0],
        "met": tried[-1]["accepted"],
        "accuracy": accuracy,
        "every_point": {
            "points": int(weights.size),
            "u_error": float(reference[0]),
            "p_error": float(reference[1]),
        },
        "candidates": tried,
    }
    return chosen[1], record
