"""The reduced Newton step on compiled kernels (:mod:`~nirom.hyperreduction.kernels`).

The same equations as :func:`nirom.hyperreduction.newton.newton_step` (the
NumPy reference it is tested against), organised for speed:

- the law, the residual and the tangent's factor ``W`` are one compiled loop
  over the cubature points (weights ``z > 0``); ``K = E^T W`` is one BLAS
  product, the solve a dense LU of size k (LAPACK directly);
- the points kept only for Gappy-POD (weight 0) do not enter the equilibrium,
  so their law runs once per converged step, with the converged coordinates;
- the internal state stays split in cubature and Gappy-only points, in two sets
  of arrays used in turn (a failed step leaves the current one intact), and the
  work arrays are allocated once per history: a step costs its arithmetic and a
  few NumPy calls;
- ``tangent="modified"`` keeps the LU of the step's first tangent for the
  step's later iterations (modified Newton: no tangent assembly after the
  first iteration, more iterations); ``"consistent"`` assembles it every
  iteration (quadratic convergence). Measured on plate-hole (benchmark): the
  modified tangent took 5x the iterations and cut steps, 3x slower in all.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from scipy.linalg import lapack

from nirom.hyperreduction.kernels import CompiledPoints, ReducedAssembly, strains_at
from nirom.mechanics.laws.compiled import OK, failure_message, integrate_points

# LAPACK's LU directly: scipy.linalg's wrappers cost more than a 30 x 30 factorization.
_getrf, _getrs = lapack.dgetrf, lapack.dgetrs


class StepFailure(Exception):
    """One reduced step attempt failed (the caller halves the step)."""


@dataclass
class _Part:
    """The law's state and stress at one group of points (arrays (m, 6) and (m,))."""

    eps_p: np.ndarray
    X: np.ndarray
    p: np.ndarray
    stress: np.ndarray

    @classmethod
    def zeros(cls, m: int) -> _Part:
        return cls(np.zeros((m, 6)), np.zeros((m, 6)), np.zeros(m), np.zeros((m, 6)))

    def copy_from(self, other: _Part) -> None:
        for name in ("eps_p", "X", "p", "stress"):
            getattr(self, name)[...] = getattr(other, name)


@dataclass
class SplitState:
    """The internal state at the reduced points, split in cubature and Gappy-only points."""

    active: _Part
    passive: _Part


class CompiledStepper:
    """The compiled reduced step with its work arrays and two state buffers.

    ``initial(start)`` gives ``(q, state)``; ``step(q, state, dt, force, lift_strain,
    rtol, max_iterations)`` the converged ``(q, state, iterations)`` or raises
    :class:`StepFailure`; ``outputs(state)`` the Mandel stress (n, 6) and plastic strain
    (n,) at the reduced points in their order. ``timings`` (a dict, for profiling)
    accumulates seconds by part: ``kernel`` (law and assembly at the points), ``law`` (the
    law alone, timed by integrating it once more on the same strains: profiling costs that
    extra work), ``tangent`` (``E^T W``), ``solve`` (LU and substitution), and counts
    ``iterations``.
    """

    def __init__(
        self,
        points: CompiledPoints,
        code: tuple[int, np.ndarray],
        law_name: str,
        state_keys: tuple[str, ...],
        tangent: str = "consistent",
        timings: dict[str, float] | None = None,
    ) -> None:
        self.pts, self.code, self.law_name = points, code, law_name
        self.plastic = "eps_p" in state_keys
        self.tangent, self.timings = tangent, timings
        n_a, a, _ = points.E_active.shape
        m = points.passive.size
        self.assembly = ReducedAssembly(points, code)
        self._strain_p, self._tang_p = np.empty((m, 6)), np.empty((m, 6, 6))
        self._zero_a, self._zero_p = np.zeros((n_a, a)), np.zeros((m, a))
        self._buffers = [SplitState(_Part.zeros(n_a), _Part.zeros(m)) for _ in range(2)]

    # -- state ----------------------------------------------------------------------
    def initial(
        self, start: tuple[np.ndarray, dict[str, np.ndarray], np.ndarray] | None, k: int
    ) -> tuple[np.ndarray, SplitState]:
        """The virgin state (``start`` None) or ``start = (q, state, stress)`` at the reduced
        points in their order."""
        state = self._buffers[0]
        if start is None:
            for part in (state.active, state.passive):
                for array in (part.eps_p, part.X, part.p, part.stress):
                    array[...] = 0.0
            return np.zeros(k), state
        q, values, stress = start
        for part, idx in ((state.active, self.pts.active), (state.passive, self.pts.passive)):
            part.p[...] = values["p"][idx]
            part.stress[...] = stress[idx]
            if self.plastic:
                part.eps_p[...], part.X[...] = values["eps_p"][idx], values["X"][idx]
        return np.array(q, dtype=float), state

    def outputs(self, state: SplitState) -> tuple[np.ndarray, np.ndarray]:
        """Mandel stress (n, 6) and cumulated plastic strain (n,) at the reduced points."""
        n = self.pts.n_points
        stress, p = np.empty((n, 6)), np.empty(n)
        for part, idx in ((state.active, self.pts.active), (state.passive, self.pts.passive)):
            stress[idx], p[idx] = part.stress, part.p
        return stress, p

    def _spare(self, state: SplitState) -> SplitState:
        return self._buffers[1] if state is self._buffers[0] else self._buffers[0]

    def _lifts(self, lift_strain: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        if np.isscalar(lift_strain) and lift_strain == 0.0:
            return self._zero_a, self._zero_p
        lift = np.broadcast_to(
            np.asarray(lift_strain, dtype=float), (self.pts.n_points, self.pts.comps.size)
        )
        return (
            np.ascontiguousarray(lift[self.pts.active]),
            np.ascontiguousarray(lift[self.pts.passive]),
        )

    # -- one step -------------------------------------------------------------------
    def step(
        self,
        q: np.ndarray,
        state: SplitState,
        dt: float,
        force: np.ndarray,
        lift_strain: np.ndarray | float,
        rtol: float = 1e-9,
        max_iterations: int = 25,
    ) -> tuple[np.ndarray, SplitState, int]:
        """Equilibrium at the end of a step of length ``dt`` (s) from ``state``."""
        timings, assembly = self.timings, self.assembly
        lift_a, lift_p = self._lifts(lift_strain)
        old, new = state.active, self._spare(state)
        before = (old.eps_p, old.X, old.p)
        after = (new.active.stress, new.active.eps_p, new.active.X, new.active.p)
        q = np.array(q, dtype=float)
        norm_f = math.sqrt(float(force @ force))
        lu = piv = None
        clock = time.perf_counter
        assembly.new_step()
        for it in range(max_iterations + 1):
            start = clock()
            _, status, failing = assembly.evaluate(q, lift_a, before, after, dt)
            if timings is not None:
                self._profile_law(clock() - start, q, lift_a, old, dt)
            if status != OK:
                raise StepFailure(failure_message(self.law_name, status, failing))
            r = assembly.f_int - force
            norm = math.sqrt(float(r @ r))
            if not math.isfinite(norm):
                raise StepFailure("residual not finite")
            absf = assembly.absf
            if norm <= rtol * max(norm_f, math.sqrt(float(absf @ absf)), 1e-300):
                self._passive(q, lift_p, state.passive, new.passive, dt)
                return q, new, it
            if it == max_iterations:
                raise StepFailure(
                    f"no convergence in {max_iterations} iterations (residual {norm:.3g})"
                )
            start = clock()
            if lu is None or self.tangent == "consistent":
                K = assembly.tangent()
                if timings is not None:
                    timings["tangent"] = timings.get("tangent", 0.0) + clock() - start
                    timings["flops"] = timings.get("flops", 0.0) + assembly.tangent_flops()
                    start = clock()
                lu, piv, info = _getrf(K)
                if info != 0 or not np.isfinite(lu).all():
                    raise StepFailure("singular reduced tangent")
            dq, _ = _getrs(lu, piv, r)
            q -= dq
            if timings is not None:
                timings["solve"] = timings.get("solve", 0.0) + clock() - start
        raise AssertionError("unreachable")

    def _passive(
        self, q: np.ndarray, lift_p: np.ndarray, old: _Part, new: _Part, dt: float
    ) -> None:
        """The law at the Gappy-only points, once, with the converged coordinates."""
        if not self.pts.passive.size:
            return
        strain = strains_at(self.pts.E_passive, self.pts.comps, q, lift_p, self._strain_p)
        _, status, failing = integrate_points(
            self.code[0], self.code[1], strain, old.eps_p, old.X, old.p, dt,
            new.stress, self._tang_p, new.eps_p, new.X, new.p,
        )  # fmt: skip
        if status != OK:
            raise StepFailure(failure_message(self.law_name, status, failing))

    def _profile_law(
        self, kernel_seconds: float, q: np.ndarray, lift: np.ndarray, old: _Part, dt: float
    ) -> None:
        """Add one iteration's kernel time, and the law's alone on the same strains."""
        timings = self.timings
        assert timings is not None
        n = self.pts.active.size
        strain = strains_at(self.pts.E_active, self.pts.comps, q, lift, np.empty((n, 6)))
        out = (np.empty((n, 6)), np.empty((n, 6, 6)), np.empty((n, 6)), np.empty((n, 6)))
        start = time.perf_counter()
        integrate_points(self.code[0], self.code[1], strain, old.eps_p, old.X, old.p, dt, *out,
                         np.empty(n))  # fmt: skip
        timings["law"] = timings.get("law", 0.0) + time.perf_counter() - start
        timings["kernel"] = timings.get("kernel", 0.0) + kernel_seconds
        timings["iterations"] = timings.get("iterations", 0) + 1  # law evaluations
        timings["flops"] = timings.get("flops", 0.0) + self.assembly.evaluation_flops()
        timings["flowing"] = timings.get("flowing", 0) + self.assembly.flowing
