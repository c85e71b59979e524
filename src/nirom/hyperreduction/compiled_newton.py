"""The reduced Newton step on compiled kernels (:mod:`~nirom.hyperreduction.kernels`).

The same equations as :func:`nirom.hyperreduction.newton.newton_step` (the
NumPy reference it is tested against), organised for speed:

- the law, the residual and the tangent's factor ``W`` are one compiled loop
  over the cubature points (weights ``z > 0``); ``K = E^T W`` is one BLAS
  product, the solve a dense LU of size k;
- the points kept only for Gappy-POD (weight 0) do not enter the equilibrium,
  so their law runs once per converged step, with the converged coordinates;
- ``tangent="modified"`` keeps the LU of the step's first tangent for the
  step's later iterations (modified Newton: no tangent assembly after the
  first iteration, more iterations); ``"consistent"`` assembles it every
  iteration (quadratic convergence). The benchmark measures both.

State arrays stay in the operators' point order; :class:`CompiledPoints` holds
the split into cubature and Gappy-only points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import lapack

from nirom.hyperreduction.kernels import reduced_forces, strains_at
from nirom.mechanics.laws import LawUpdate
from nirom.mechanics.laws.compiled import OK, failure_message, integrate_points

# LAPACK's LU directly: scipy.linalg's wrappers cost more than a 30 x 30 factorization.
_getrf, _getrs = lapack.dgetrf, lapack.dgetrs


class StepFailure(Exception):
    """One reduced step attempt failed (the caller halves the step)."""


@dataclass
class CompiledPoints:
    """The reduced points split for the compiled step: ``active`` (z > 0) and ``passive``
    (z = 0) indices, their contiguous mode strains and the active weights."""

    active: np.ndarray
    passive: np.ndarray
    E_active: np.ndarray
    E_passive: np.ndarray
    E_flat: np.ndarray
    z: np.ndarray
    comps: np.ndarray

    @classmethod
    def of(
        cls, strains: np.ndarray, weights: np.ndarray, components: tuple[int, ...]
    ) -> CompiledPoints:
        active = np.flatnonzero(weights > 0)
        passive = np.flatnonzero(weights <= 0)
        E_active = np.ascontiguousarray(strains[active])
        n, a, k = E_active.shape
        return cls(
            active,
            passive,
            E_active,
            np.ascontiguousarray(strains[passive]),
            E_active.reshape(n * a, k),
            np.ascontiguousarray(weights[active], dtype=float),
            np.asarray(components, dtype=np.int64),
        )


def _rows(state: dict[str, np.ndarray], idx: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    p = np.ascontiguousarray(state["p"][idx])
    if "eps_p" in state:
        return np.ascontiguousarray(state["eps_p"][idx]), np.ascontiguousarray(state["X"][idx]), p
    zeros = np.zeros((idx.size, 6))
    return zeros, zeros, p


def compiled_newton_step(
    points: CompiledPoints,
    code: tuple[int, np.ndarray],
    law_name: str,
    q: np.ndarray,
    state: dict[str, np.ndarray],
    dt: float,
    force: np.ndarray,
    lift_strain: np.ndarray | float,
    rtol: float = 1e-9,
    max_iterations: int = 25,
    tangent: str = "consistent",
) -> tuple[np.ndarray, LawUpdate, int]:
    """Equilibrium at the end of a step: ``(q, LawUpdate at every reduced point, iterations)``
    (the update's tangent is not returned: shape (0, 6, 6)). Raises :class:`StepFailure`."""
    kind, prm = code
    pts = points
    n_points = pts.active.size + pts.passive.size
    lift = np.broadcast_to(np.asarray(lift_strain, dtype=float), (n_points, pts.comps.size))
    lift_a = np.ascontiguousarray(lift[pts.active])
    eps_p, X, p = _rows(state, pts.active, n_points)
    n_a, a, k = pts.E_active.shape
    stress, tang = np.empty((n_a, 6)), np.empty((n_a, 6, 6))
    eps_p_out, X_out, p_out = np.empty((n_a, 6)), np.empty((n_a, 6)), np.empty(n_a)
    f_int, absf, W = np.empty(k), np.empty(k), np.empty((n_a * a, k))
    q = np.array(q, dtype=float)
    norm_f = math.sqrt(float(force @ force))
    lu = None
    for it in range(max_iterations + 1):
        _, status, failing = reduced_forces(
            kind, prm, pts.E_active, pts.z, pts.comps, q, lift_a, eps_p, X, p, dt,
            stress, tang, eps_p_out, X_out, p_out, f_int, absf, W,
        )  # fmt: skip
        if status != OK:
            raise StepFailure(failure_message(law_name, status, failing))
        r = f_int - force
        norm = math.sqrt(float(r @ r))
        if not math.isfinite(norm):
            raise StepFailure("residual not finite")
        if norm <= rtol * max(norm_f, math.sqrt(float(absf @ absf)), 1e-300):
            update = _update(
                pts, code, law_name, q, lift, state, dt, stress, eps_p_out, X_out, p_out
            )
            return q, update, it
        if it == max_iterations:
            raise StepFailure(
                f"no convergence in {max_iterations} iterations (residual {norm:.3g})"
            )
        if lu is None or tangent == "consistent":
            lu, piv, info = _getrf(pts.E_flat.T @ W)
            if info != 0 or not np.isfinite(lu).all():
                raise StepFailure("singular reduced tangent")
        dq, _ = _getrs(lu, piv, r)
        q -= dq
    raise AssertionError("unreachable")


def _update(
    pts: CompiledPoints,
    code: tuple[int, np.ndarray],
    law_name: str,
    q: np.ndarray,
    lift: np.ndarray,
    state: dict[str, np.ndarray],
    dt: float,
    stress_a: np.ndarray,
    eps_p_a: np.ndarray,
    X_a: np.ndarray,
    p_a: np.ndarray,
) -> LawUpdate:
    """The converged step at every reduced point: the cubature points' values, and the law
    at the Gappy-only points integrated once with the converged ``q``."""
    n = pts.active.size + pts.passive.size
    stress, p = np.empty((n, 6)), np.empty(n)
    stress[pts.active], p[pts.active] = stress_a, p_a
    new: dict[str, np.ndarray] = {"p": p}
    plastic = "eps_p" in state
    if plastic:
        new["eps_p"], new["X"] = np.empty((n, 6)), np.empty((n, 6))
        new["eps_p"][pts.active], new["X"][pts.active] = eps_p_a, X_a
    m = pts.passive.size
    if m:
        strain = strains_at(
            pts.E_passive, pts.comps, q, np.ascontiguousarray(lift[pts.passive]), np.empty((m, 6))
        )
        eps_p, X, p_n = _rows(state, pts.passive, n)
        out = (
            np.empty((m, 6)),
            np.empty((m, 6, 6)),
            np.empty((m, 6)),
            np.empty((m, 6)),
            np.empty(m),
        )
        _, status, failing = integrate_points(code[0], code[1], strain, eps_p, X, p_n, dt, *out)
        if status != OK:
            raise StepFailure(failure_message(law_name, status, failing))
        stress[pts.passive], p[pts.passive] = out[0], out[4]
        if plastic:
            new["eps_p"][pts.passive], new["X"][pts.passive] = out[2], out[3]
    return LawUpdate(stress, np.empty((0, 6, 6)), new)
