"""Quasi-static small-strain solver: global Newton-Raphson per step, automatic step cutting.

At each time step ``t_n -> t_{n+1}`` the solver looks for the free dofs ``u_f``
with ``R(u) = B^T (w sigma(B u; state_n, dt)) - f_ext(t_{n+1}) = 0`` on the free
dofs, ``u`` holding the imposed values on the constrained ones. Each iteration
integrates the material law at every quadrature point (stress and consistent
tangent ``C``), assembles ``K = B^T (w C) B`` and solves ``K_ff du_f = -R_f``;
the first iteration also carries the increment of the imposed displacements
(``K_ff du_f = -R_f - K_fd du_d``), so Dirichlet loading spreads through the
body instead of straining one layer of cells. With the consistent tangent
Newton converges quadratically (tested).

Convergence: ``||R_f|| <= rtol * max(||f_ext||, ||f_int||)`` (``f_int`` over all
dofs, so reactions count when only displacements load the body).

Step cutting: a step fails if Newton does not converge in ``max_iterations``,
if the residual is not finite or grows ``divergence`` times past its first
value (after the imposed increments, when there are some), if the linear solve
fails, or if the law raises :class:`~nirom.mechanics.laws.LawIntegrationError`.
The step is then halved and retried from the last converged state, down to
``2**-max_cuts`` of the output step; after two successes in a row the sub-step
doubles again. Below the
minimum step the solve raises :class:`ConvergenceError` with the time and the
reason. Every requested time is an output; sub-steps are not.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from nirom.checks import check_integer, check_number
from nirom.errors import NiromError, ParameterError
from nirom.mechanics.assembly import Assembler
from nirom.mechanics.laws import LawIntegrationError, MaterialLaw
from nirom.mechanics.linear import LinearSolveError, LinearSolver, make_linear_solver
from nirom.mechanics.loads import AssembledLoads, LoadHistory, assemble_loads
from nirom.mechanics.space import DisplacementSpace
from nirom.mechanics.strain import StrainOperator

#: Largest strain (Frobenius norm of the tensor) the small-strain formulation is trusted to.
SMALL_STRAIN_LIMIT = 0.05


class ConvergenceError(NiromError, RuntimeError):
    """Newton failed even at the minimum step (the load exceeds what the body carries,
    or the law cannot be integrated)."""


class _StepFailure(Exception):
    """One step attempt failed; the reason goes into the step-cutting log."""


@dataclass
class StepRecord:
    """One converged (sub-)step: end time (s), length (s), Newton residual norms, cuts before it."""

    t: float
    dt: float
    residuals: list[float]
    cuts: int = 0

    @property
    def iterations(self) -> int:
        """Linear solves (Newton iterations) the step took."""
        return len(self.residuals) - 1


@dataclass
class Timings:
    """Seconds spent in each part of the solve."""

    assembly: float = 0.0
    law: float = 0.0
    linear_solve: float = 0.0
    total: float = 0.0

    def as_dict(self) -> dict[str, float]:
        """The seconds by part, by field name."""
        return asdict(self)


@dataclass
class QuasiStaticResult:
    """Output of a quasi-static solve at the requested times.

    Attributes
    ----------
    times : ndarray of shape (n_times,)
        Output times (s).
    u : ndarray of shape (n_times, n_dofs)
        Displacements (length unit), node-major dofs.
    stress : ndarray of shape (n_times, n_qp, 6)
        Mandel stresses at the quadrature points (cell-major), sigma_33 included.
    p : ndarray of shape (n_times, n_qp)
        Cumulated plastic strain at the quadrature points.
    state : dict of ndarray
        The law's internal state at the last time.
    steps : list of StepRecord
        Every converged sub-step.
    failures : list of str
        Why each cut step failed (time and reason).
    timings : Timings
    warnings : list of str
        What a reader should know (strains past :data:`SMALL_STRAIN_LIMIT`).
    """

    times: np.ndarray
    u: np.ndarray
    stress: np.ndarray
    p: np.ndarray
    state: dict[str, np.ndarray]
    steps: list[StepRecord] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    timings: Timings = field(default_factory=Timings)
    warnings: list[str] = field(default_factory=list)

    @property
    def iterations(self) -> int:
        """Newton iterations (linear solves) in all."""
        return sum(s.iterations for s in self.steps)

    def summary(self) -> dict[str, Any]:
        """JSON-compatible statistics: steps, iterations, cuts, seconds by part."""
        return {
            "output_times": len(self.times),
            "steps": len(self.steps),
            "newton_iterations": self.iterations,
            "step_cuts": len(self.failures),
            "seconds": self.timings.as_dict(),
            **({"warnings": list(self.warnings)} if self.warnings else {}),
        }


def small_strain_warnings(strain: StrainOperator, u: np.ndarray, times: np.ndarray) -> list[str]:
    """One line when the strain (Frobenius norm of the tensor, at any integration point and
    output time) passes :data:`SMALL_STRAIN_LIMIT`, else none. Also a ``UserWarning``."""
    eps = strain.matrix() @ u.T  # (n_qp * k, n_times)
    norms = np.sqrt((eps.reshape(-1, strain.n_active, len(times)) ** 2).sum(axis=1))
    largest = float(norms.max()) if norms.size else 0.0
    if largest <= SMALL_STRAIN_LIMIT:
        return []
    when = float(times[int(np.argmax(norms.max(axis=0) > SMALL_STRAIN_LIMIT))])
    message = (
        f"strains reach {largest:.3g} (past {SMALL_STRAIN_LIMIT:g} from t = {when:.4g} s): "
        "outside the small-strain range this solver assumes; the results are those of "
        "linearised kinematics"
    )
    warnings.warn(message, SmallStrainWarning, stacklevel=3)
    return [message]


class SmallStrainWarning(UserWarning):
    """Strains past the small-strain range of the formulation."""


class QuasiStaticSolver:
    """Newton-Raphson solver of quasi-static equilibrium with a history-dependent law.

    Parameters
    ----------
    space : DisplacementSpace
    law : MaterialLaw
        Integrated at every quadrature point (same parameters everywhere).
    history : LoadHistory
        Loads and imposed displacements with their amplitudes.
    linear_solver : str or LinearSolver
        "auto" (fastest installed), "pardiso", "superlu", "amg", or an instance.
    rtol : float
        Relative residual tolerance.
    max_iterations : int
        Newton iterations before a step counts as failed.
    max_cuts : int
        Halvings of an output step allowed (minimum step ``2**-max_cuts`` of it).
    divergence : float
        A residual this many times the step's first one counts as divergence.
    assembler : Assembler, optional
        Reuse the strain operator and sparse pattern of an earlier solver on the
        same space (a parametric study solves many laws and loads on one mesh).

    Attributes (the pieces a reduced model reuses)
    ----------
    strain : StrainOperator
        B (``strain.matrix()`` as a sparse matrix).
    assembler : Assembler
        ``B^T (w sigma)``, ``B^T (w C) B``; ``assembler.weights`` are the quadrature
        weights times Jacobians.
    loads : AssembledLoads
        ``loads.external_force(t)`` and ``loads.dirichlet`` (free dofs, imposed
        values, lifting).
    """

    def __init__(
        self,
        space: DisplacementSpace,
        law: MaterialLaw,
        history: LoadHistory,
        *,
        linear_solver: str | LinearSolver = "auto",
        rtol: float = 1e-8,
        max_iterations: int = 25,
        max_cuts: int = 10,
        divergence: float = 1e6,
        assembler: Assembler | None = None,
    ) -> None:
        if not isinstance(law, MaterialLaw):
            raise ParameterError(f"law must be a MaterialLaw, got {type(law).__name__}")
        self.space, self.law, self.history = space, law, history
        self.rtol = check_number("rtol", rtol, "positive")
        self.max_iterations = check_integer("max_iterations", max_iterations, 1)
        self.max_cuts = check_integer("max_cuts", max_cuts, 0)
        self.divergence = check_number("divergence", divergence, "positive")
        self.linear_solver = (
            make_linear_solver(linear_solver) if isinstance(linear_solver, str) else linear_solver
        )
        if assembler is None:
            assembler = Assembler(StrainOperator(space))
        elif assembler.strain.space is not space:
            raise ParameterError("the assembler was built on another displacement space")
        self.assembler = assembler
        self.strain = assembler.strain
        self.loads: AssembledLoads = assemble_loads(space, history)
        self.components = list(self.strain.components)
        self._free_pattern()

    def _free_pattern(self) -> None:
        """Slots of K.data that form K_ff, so K_ff costs one gather per iteration."""
        free = self.loads.dirichlet.free
        sub = self.assembler.pattern()[free][:, free].tocsr()
        sub.sort_indices()
        self._ff_slots = sub.data.astype(np.int64) - 1
        self._ff_indices, self._ff_indptr = sub.indices, sub.indptr
        self._n_free = free.size

    # -- one evaluation ---------------------------------------------------------
    def evaluate(
        self, u: np.ndarray, state: dict[str, np.ndarray], dt: float, timings: Timings | None = None
    ) -> tuple[np.ndarray, np.ndarray, Any]:
        """Internal force, active tangents and law update at displacement ``u``.

        Returns ``(f_int (n_dofs,), C_active (n_qp, k, k), LawUpdate)`` with the law
        integrated over ``dt`` from ``state``.
        """
        timings = timings or Timings()
        start = time.perf_counter()
        eps = self.strain.full(self.strain(u))
        t1 = time.perf_counter()
        update = self.law.integrate(eps, state, dt)
        t2 = time.perf_counter()
        c = self.components
        f_int = self.assembler.internal_force(update.stress[:, c])
        tangent = update.tangent[:, c][:, :, c]
        timings.assembly += (t1 - start) + (time.perf_counter() - t2)
        timings.law += t2 - t1
        return f_int, tangent, update

    def tangent_free(self, tangent: np.ndarray) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """Full tangent ``B^T (w C) B`` and its free-free block ``K_ff``."""
        k = self.assembler.tangent(tangent)
        k_ff = sp.csr_matrix(
            (k.data[self._ff_slots], self._ff_indices, self._ff_indptr),
            shape=(self._n_free, self._n_free),
        )
        return k, k_ff

    # -- one step ----------------------------------------------------------------
    def newton_step(
        self,
        u_old: np.ndarray,
        state: dict[str, np.ndarray],
        t_old: float,
        t_new: float,
        timings: Timings,
    ) -> tuple[np.ndarray, Any, list[float]]:
        """Equilibrium at ``t_new`` from the converged ``(u_old, state)`` at ``t_old``.

        Returns ``(u, LawUpdate, residual norms)``; raises ``_StepFailure`` on failure.
        """
        dirichlet = self.loads.dirichlet
        free = dirichlet.free
        dt = t_new - t_old
        f_ext = self.loads.external_force(t_new)
        u = u_old.copy()
        du_d = dirichlet.values(t_new) - u_old[dirichlet.dofs]
        lifting = bool(np.any(du_d))
        residuals: list[float] = []
        for it in range(self.max_iterations + 1):
            try:
                f_int, tangent, update = self.evaluate(u, state, dt, timings)
            except LawIntegrationError as exc:
                raise _StepFailure(f"law integration failed at iteration {it} ({exc})") from None
            r = f_int[free] - f_ext[free]
            norm = float(np.linalg.norm(r))
            residuals.append(norm)
            reference = max(float(np.linalg.norm(f_ext)), float(np.linalg.norm(f_int)))
            if not np.isfinite(norm):
                raise _StepFailure(f"residual not finite at iteration {it}")
            if not (it == 0 and lifting) and norm <= self.rtol * reference:
                return u, update, residuals
            if it == self.max_iterations:
                raise _StepFailure(
                    f"no convergence in {self.max_iterations} iterations "
                    f"(residual {norm:.3g}, tolerance {self.rtol * reference:.3g})"
                )
            # With imposed increments the first residual is that of the old state.
            first = 1 if lifting else 0
            if it > first and norm > self.divergence * residuals[first]:
                raise _StepFailure(f"diverging (residual {norm:.3g} at iteration {it})")
            start = time.perf_counter()
            k, k_ff = self.tangent_free(tangent)
            rhs = -r
            if it == 0 and lifting:
                full = np.zeros(u.size)
                full[dirichlet.dofs] = du_d
                rhs -= (k @ full)[free]
            t1 = time.perf_counter()
            try:
                delta = self.linear_solver.solve(k_ff, rhs)
            except LinearSolveError as exc:
                raise _StepFailure(str(exc)) from None
            finally:
                timings.assembly += t1 - start
                timings.linear_solve += time.perf_counter() - t1
            u[free] += delta
            if it == 0 and lifting:
                u[dirichlet.dofs] += du_d
        raise AssertionError("unreachable")

    # -- a history ------------------------------------------------------------------
    def run(self, times: Sequence[float], t0: float | None = None) -> QuasiStaticResult:
        """Solve from the unloaded, virgin state at ``t0`` (default ``times[0]``) to every time.

        Parameters
        ----------
        times : sequence of float
            Increasing output times (s). If ``times[0] == t0`` the first output is
            the initial state (zero displacement up to imposed values, which must
            then be zero).

        Returns
        -------
        QuasiStaticResult
        """
        times = np.asarray(times, dtype=float)
        if times.ndim != 1 or times.size == 0 or np.any(np.diff(times) <= 0):
            raise ParameterError("times must be a non-empty increasing sequence")
        t_start = float(times[0]) if t0 is None else float(t0)
        if times[0] < t_start:
            raise ParameterError(f"times start at {times[0]:g} s, before t0 = {t_start:g} s")
        n_qp = self.space.n_qp
        state = self.law.initial_state(n_qp)
        u = np.zeros(self.space.n_dofs)
        stress = np.zeros((n_qp, 6))
        timings = Timings()
        clock = time.perf_counter()
        out_u, out_s, out_p = [], [], []
        steps: list[StepRecord] = []
        failures: list[str] = []
        t = t_start
        for target in times:
            if target > t:
                u, state, stress = self._advance(
                    u, state, stress, t, target, steps, failures, timings
                )
                t = target
            out_u.append(u.copy())
            out_s.append(stress.copy())
            out_p.append(np.array(state["p"], copy=True))
        timings.total = time.perf_counter() - clock
        u_out = np.array(out_u)
        return QuasiStaticResult(
            times=times,
            u=u_out,
            stress=np.array(out_s),
            p=np.array(out_p),
            state=state,
            steps=steps,
            failures=failures,
            timings=timings,
            warnings=small_strain_warnings(self.strain, u_out, times),
        )

    def _advance(
        self,
        u: np.ndarray,
        state: dict[str, np.ndarray],
        stress: np.ndarray,
        t: float,
        target: float,
        steps: list[StepRecord],
        failures: list[str],
        timings: Timings,
    ) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
        """From ``t`` to ``target`` in as few sub-steps as converge."""
        span = target - t
        level, successes, cuts = 0, 0, 0
        while t < target - 1e-12 * span:
            dt = min(span * 0.5**level, target - t)
            t_new = target if target - (t + dt) < 1e-12 * span else t + dt
            try:
                u_new, update, residuals = self.newton_step(u, state, t, t_new, timings)
            except _StepFailure as exc:
                failures.append(f"t = {t_new:.6g} s, step {t_new - t:.3g} s: {exc}")
                if level >= self.max_cuts:
                    raise ConvergenceError(
                        f"Newton failed at t = {t_new:.6g} s even with the minimum step "
                        f"{t_new - t:.3g} s ({exc})"
                    ) from None
                level, successes, cuts = level + 1, 0, cuts + 1
                continue
            steps.append(StepRecord(t_new, t_new - t, residuals, cuts))
            u, state, stress, t = u_new, update.state, update.stress, t_new
            cuts, successes = 0, successes + 1
            if successes >= 2 and level > 0:
                level, successes = level - 1, 0
        return u, state, stress
