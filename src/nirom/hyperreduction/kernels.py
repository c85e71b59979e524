"""Compiled (numba) reduced assembly: strains, law, residual and tangent at the kept points.

At the ``n`` cubature points (weights ``z > 0``), with the mode strains ``E``
(n, a, k) and the lifting's strains ``lift`` (n, a), one reduced Newton
evaluation is::

    eps_l = E_l q + lift_l                  (active Mandel components ``comps``)
    sigma_l, C_l, state_l = law(eps_l)      (nirom.mechanics.laws.compiled)
    f_int = sum_l z_l E_l^T sigma_l         (k,)
    absf  = sum_l |E_l|^T |z_l sigma_l|     (k,)  the residual's scale
    K     = K_e + sum_{l flowing} z_l E_l^T (C_l - C_e) E_l

where ``K_e = sum_l z_l E_l^T C_e E_l`` is the elastic reduced stiffness,
formed once per history (the law's parameters fix ``C_e``): the tangent of a
point that stays elastic is ``C_e``, so only the flowing points (21 % of the
cubature points on average over a plate-hole history, 44 % at most: measured)
enter the product an iteration pays, ``E_p^T W_p`` with ``W_p = z (C - C_e) E``
at those points (one BLAS product).

:class:`ReducedAssembly` holds the points, the elastic stiffness and the work
arrays of a history; its :meth:`~ReducedAssembly.evaluate` is three compiled
passes (strains and elastic trials; the plastic correction of the flowing
points; the residual) and :meth:`~ReducedAssembly.tangent` the product. The
passes are separate compiled functions for the reason
:func:`~nirom.mechanics.laws.compiled.integrate_points` gives, and the trial
pass is compiled per law kind (``compiled.TRIALS``). :func:`strains_at` gives the
strains of points that only rebuild dual quantities (Gappy-POD's, weight 0).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from nirom.mechanics.laws import compiled
from nirom.mechanics.laws.compiled import (
    ELASTIC,
    OK,
    PLASTICITY,
    VISCOPLASTICITY,
    _jit,
    correct,
    numba,
    trial,
)


def _fast(fn: Any) -> Any:
    """Compiled with reassociation and fused multiply-adds allowed (vectorised mode loops;
    results differ from strict order by round-off only, NaN and infinities still seen)."""
    if numba is None:  # pragma: no cover
        return fn
    flags = {"reassoc", "contract"}
    return numba.njit(cache=True, error_model="numpy", nogil=True, fastmath=flags)(fn)


def _strain_trials_of(kind: int) -> Any:
    """The strains and trial pass compiled for one law kind (see ``compiled.TRIALS``)."""

    @_jit
    def strain_trials(
        prm,
        E,
        comps,
        q,
        lift,
        eps_p,
        X,
        p,
        stress,
        tangent,
        eps_p_out,
        X_out,
        p_out,
        strain,
        A,
        flowing,
    ):
        """Strains ``E_l q + lift_l`` at the points and the law's elastic trial there; the
        flowing points' indices to ``flowing``, their number returned."""
        n, a, k = E.shape
        m = 0
        e = np.empty(6)
        for l in range(n):  # noqa: E741 - a point, as in the papers
            for c in range(a):
                s = 0.0
                for j in range(k):
                    s += E[l, c, j] * q[j]
                strain[l, comps[c]] = s + lift[l, c]
            if trial(kind, prm, strain, eps_p, X, p, stress, tangent, eps_p_out, X_out, p_out,
                     A, e, l):  # fmt: skip
                flowing[m] = l
                m += 1
        return m

    return strain_trials


STRAIN_TRIALS = {kind: _strain_trials_of(kind) for kind in (ELASTIC, PLASTICITY, VISCOPLASTICITY)}


@_fast
def residual(E, z, comps, stress, f_int, absf):
    """``f_int`` and its scale ``absf`` (module docstring) from the points' stresses."""
    n, a, k = E.shape
    f_int[:] = 0.0
    absf[:] = 0.0
    for l in range(n):  # noqa: E741
        for c in range(a):
            zs = z[l] * stress[l, comps[c]]
            azs = abs(zs)
            for j in range(k):
                f_int[j] += E[l, c, j] * zs
                absf[j] += abs(E[l, c, j]) * azs


@_fast
def plastic_factors(E, z, comps, tangent, Ce, flowing, Ep, Wp):
    """Rows ``E_l`` and ``z_l (C_l - C_e) E_l`` of the flowing points ``l`` (in ``Ep`` and
    ``Wp``, ``len(flowing) * a`` rows)."""
    _, a, k = E.shape
    for r in range(flowing.size):
        l = flowing[r]  # noqa: E741
        for c in range(a):
            row = r * a + c
            for j in range(k):
                Ep[row, j] = E[l, c, j]
                Wp[row, j] = 0.0
            for d in range(a):
                cd = z[l] * (tangent[l, comps[c], comps[d]] - Ce[comps[c], comps[d]])
                for j in range(k):
                    Wp[row, j] += cd * E[l, d, j]


@_fast
def strains_at(E, comps, q, lift, out):
    """Mandel strains (n, 6) of the coordinates ``q`` at points with mode strains ``E``."""
    n, a, k = E.shape
    for l in range(n):  # noqa: E741
        for i in range(6):
            out[l, i] = 0.0
        for c in range(a):
            s = 0.0
            for m in range(k):
                s += E[l, c, m] * q[m]
            out[l, comps[c]] = s + lift[l, c]
    return out


KERNELS = (*STRAIN_TRIALS.values(), residual, plastic_factors, strains_at)


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

    @property
    def n_points(self) -> int:
        return int(self.active.size + self.passive.size)


class ReducedAssembly:
    """One history's reduced evaluations at the cubature points of ``points``, for a law
    ``code = (kind, prm)`` (:func:`~nirom.mechanics.laws.compiled.law_code`).

    After :meth:`evaluate`, ``f_int`` and ``absf`` hold the residual's parts and
    :meth:`tangent` gives ``K``; ``flowing`` counts the points that flowed.
    """

    def __init__(self, points: CompiledPoints, code: tuple[int, np.ndarray]) -> None:
        from nirom.mechanics.tensors import elastic_stiffness_lame

        self.pts, self.kind, self.prm = points, int(code[0]), code[1]
        n, a, k = points.E_active.shape
        self.Ce = elastic_stiffness_lame(float(self.prm[0]), float(self.prm[1]))
        Ce_active = self.Ce[np.ix_(points.comps, points.comps)]
        W = np.matmul(Ce_active, points.E_active) * points.z[:, None, None]
        self.K_e = points.E_flat.T @ W.reshape(n * a, k)
        self.f_int, self.absf = np.empty(k), np.empty(k)
        self.tangents = np.empty((n, 6, 6))
        self._strain = np.zeros((n, 6))  # the inactive components stay 0
        self._A = np.empty((n, 6))
        self._flowing = np.empty(n, dtype=np.int64)
        self._dp = np.full(n, np.nan)  # multipliers of the step's last evaluation
        self._Ep, self._Wp = np.empty((n * a, k)), np.empty((n * a, k))
        self.flowing = 0

    def new_step(self) -> None:
        """Forget the multipliers: the next evaluation starts a step."""
        self._dp[:] = np.nan

    def evaluate(
        self,
        q: np.ndarray,
        lift: np.ndarray,
        old: tuple[np.ndarray, np.ndarray, np.ndarray],
        new: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
        dt: float,
    ) -> tuple[int, int, int]:
        """The law at the points from the state ``old = (eps_p, X, p)`` over ``dt`` (s),
        written to ``new = (stress, eps_p, X, p)``, and the residual's parts. Returns
        (local iterations, status, failing points). Within a step (since :meth:`new_step`)
        a point's local Newton starts from its previous multiplier."""
        pts, kind, prm = self.pts, self.kind, self.prm
        eps_p, X, p = old
        stress, eps_p_out, X_out, p_out = new
        m = STRAIN_TRIALS[kind](prm, pts.E_active, pts.comps, q, lift, eps_p, X, p, stress,
                                self.tangents, eps_p_out, X_out, p_out, self._strain, self._A,
                                self._flowing)  # fmt: skip
        self.flowing = m
        result = (0, OK, 0)
        if m:
            result = correct(kind, prm, self._flowing[:m], self._A, X, p, dt, stress,
                             self.tangents, eps_p, eps_p_out, X_out, p_out, self._dp)  # fmt: skip
        residual(pts.E_active, pts.z, pts.comps, stress, self.f_int, self.absf)
        return result

    def tangent(self) -> np.ndarray:
        """``K`` (k, k) at the last evaluation: the elastic stiffness plus the flowing
        points' corrections (one BLAS product over their rows)."""
        m = self.flowing
        if m == 0:
            return self.K_e.copy()
        rows = m * self.pts.comps.size
        plastic_factors(self.pts.E_active, self.pts.z, self.pts.comps, self.tangents, self.Ce,
                        self._flowing[:m], self._Ep, self._Wp)  # fmt: skip
        return self.K_e + self._Ep[:rows].T @ self._Wp[:rows]

    def evaluation_flops(self) -> float:
        """Flops of an evaluation's dense algebra: strains, residual and its scale."""
        n, a, k = self.pts.E_active.shape
        return 6.0 * n * a * k

    def tangent_flops(self) -> float:
        """Flops of the last :meth:`tangent`: the flowing points' factors and product, the
        elastic part added, and the LU of ``K`` with its substitution."""
        _, a, k = self.pts.E_active.shape
        m = self.flowing
        return 2.0 * m * a * a * k + 2.0 * m * a * k * k + k * k + 2.0 / 3.0 * k**3 + 2.0 * k * k


def warm_up() -> dict[str, Any]:
    """Compile (or load from numba's cache) the law kernels and the reduced ones, as a fit
    needs them; ``{"seconds", "compiled", "available"}`` where ``compiled`` says whether
    any kernel was compiled rather than loaded (the time, in seconds, covers both)."""
    laws = compiled.warm_up()
    if not laws["available"]:
        return laws
    start = time.perf_counter()
    _run_reduced_kernels()
    misses = sum(sum(f.stats.cache_misses.values()) for f in KERNELS)
    return {
        "seconds": laws["seconds"] + time.perf_counter() - start,
        "compiled": laws["compiled"] or misses > 0,
        "available": True,
    }


def _run_reduced_kernels() -> None:
    """Run each reduced kernel once on tiny inputs (compiles or loads it)."""
    n, a, k = 1, 3, 2
    E, z, comps = np.zeros((n, a, k)), np.ones(n), np.array([0, 1, 5])
    q, lift, s6 = np.zeros(k), np.zeros((n, a)), np.zeros((n, 6))
    points = CompiledPoints(np.arange(n), np.arange(0), E, E[:0], E.reshape(n * a, k), z, comps)
    for kind, prm in ((0, np.ones(2)), (1, np.ones(6)), (2, np.ones(7))):
        assembly = ReducedAssembly(points, (kind, prm))
        assembly.evaluate(q, lift, (s6, s6, np.zeros(n)), (s6.copy(), s6.copy(), s6.copy(),
                          np.zeros(n)), 1.0)  # fmt: skip
        assembly.tangent()
    one = np.zeros(1, dtype=np.int64)
    plastic_factors(E, z, comps, np.zeros((n, 6, 6)), np.zeros((6, 6)), one, np.zeros((a, k)),
                    np.zeros((a, k)))  # fmt: skip
    strains_at(E, comps, q, lift, s6.copy())
