"""Reduced Newton-Raphson: equilibrium in the reduced coordinates, the law at a few points.

The displacement is ``u = V q + u_d(t)``: ``V`` (n_dofs, k) the POD basis,
zero on the constrained dofs (homogeneous conditions are in the basis), and
``u_d(t)`` the lifting of the imposed values. At the reduced points ``l`` with
cubature weights ``z_l`` (zero for points kept only to rebuild dual
quantities), with the mode strains ``E_l = (B V)_l`` (n_active, k)::

    eps_l = E_l q + eps_d,l(t)             (active Mandel strains)
    sigma_l, C_l, state_l = law(eps_l; state_n, dt)
    r(q)  = sum_l z_l E_l^T sigma_l - V^T f_ext(t)
    K(q)  = sum_l z_l E_l^T C_l E_l        (k x k, dense)

and Newton iterates ``K dq = -r`` until ``||r|| <= rtol * max(||V^T f_ext||,
||sum z |E|^T |sigma|||)`` (the contributions in absolute value: a scale that
stays when the load passes through zero). The internal state advances only once a step has
converged. With every integration point kept and the full rule's weights,
this is the Galerkin projection of the high-fidelity Newton (tested to
round-off). A step that fails (no convergence, a law failure) is halved, down
to ``2**-max_cuts`` of the output step.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from nirom.errors import NiromError, ParameterError
from nirom.hyperreduction.compiled_newton import CompiledStepper, StepFailure
from nirom.hyperreduction.kernels import CompiledPoints
from nirom.mechanics.laws import LawIntegrationError, LawUpdate, MaterialLaw
from nirom.threads import one_blas_thread

#: Reduced tangents: assembled at every iteration, or kept from a step's first iteration.
TANGENTS = ("consistent", "modified")


class ReducedConvergenceError(NiromError, RuntimeError):
    """The reduced Newton failed even at the minimum step."""


@dataclass
class ReducedOperators:
    """What the online stage needs of the mesh: ``strains`` (n_points, n_active, k) the mode
    strains at the reduced points, ``weights`` (n_points,) their cubature weights,
    ``components`` the active Mandel indices."""

    strains: np.ndarray
    weights: np.ndarray
    components: tuple[int, ...]

    def __post_init__(self) -> None:
        n, a, k = self.strains.shape
        self.flat = np.ascontiguousarray(self.strains.reshape(n * a, k))  # rows (point, comp)
        self.absolute = np.abs(self.flat)
        self._compiled: CompiledPoints | None = None

    @property
    def n_modes(self) -> int:
        return int(self.strains.shape[2])

    def compiled_points(self) -> CompiledPoints:
        """The points split for the compiled step (built once)."""
        if self._compiled is None:
            self._compiled = CompiledPoints.of(self.strains, self.weights, self.components)
        return self._compiled

    def full(self, active: np.ndarray) -> np.ndarray:
        """Mandel strains (n, 6) from active components (n, n_active)."""
        out = np.zeros((active.shape[0], 6))
        out[:, list(self.components)] = active
        return out


@dataclass
class ReducedResult:
    """Reduced coordinates ``q`` (n_times, k), Mandel stresses (n_times, n_points, 6) and
    plastic strains (n_times, n_points) at the reduced points, Newton iterations per step."""

    q: np.ndarray
    stress: np.ndarray
    p: np.ndarray
    iterations: list[int] = field(default_factory=list)
    cuts: int = 0


class _Failure(Exception):
    pass


def newton_step(
    ops: ReducedOperators,
    law: MaterialLaw,
    q: np.ndarray,
    state: dict[str, np.ndarray],
    dt: float,
    force: np.ndarray,
    lift_strain: np.ndarray | float,
    rtol: float = 1e-9,
    max_iterations: int = 25,
) -> tuple[np.ndarray, LawUpdate, int]:
    """Equilibrium at the end of a step of length ``dt`` from the converged ``state``.

    ``force`` the reduced external force at the end of the step, ``lift_strain`` the
    lifting's active strains there. Returns ``(q, LawUpdate, iterations)``.
    """
    c = list(ops.components)
    E, z = ops.flat, ops.weights
    n, a = ops.strains.shape[:2]
    q = q.copy()
    for it in range(max_iterations + 1):
        eps = (E @ q).reshape(n, a) + lift_strain
        try:
            update = law.integrate(ops.full(eps), state, dt)
        except LawIntegrationError as exc:
            raise _Failure(str(exc)) from None
        zs = (z[:, None] * update.stress[:, c]).ravel()
        f_int = E.T @ zs
        r = f_int - force
        norm = float(np.linalg.norm(r))
        if not np.isfinite(norm):
            raise _Failure("residual not finite")
        # Contributions in absolute value: a scale even where the load passes through zero.
        scale = float(np.linalg.norm(ops.absolute.T @ np.abs(zs)))
        if norm <= rtol * max(float(np.linalg.norm(force)), scale, 1e-300):
            return q, update, it
        if it == max_iterations:
            raise _Failure(f"no convergence in {max_iterations} iterations (residual {norm:.3g})")
        C = update.tangent[:, c][:, :, c] * z[:, None, None]
        K = E.T @ np.matmul(C, ops.strains).reshape(n * a, -1)
        try:
            q -= np.linalg.solve(K, r)
        except np.linalg.LinAlgError:
            raise _Failure("singular reduced tangent") from None
    raise AssertionError("unreachable")


class NumpyStepper:
    """The NumPy reference step (:func:`newton_step`) behind the interface of
    :class:`~nirom.hyperreduction.compiled_newton.CompiledStepper`: the state is the law's
    state dict and the stress at every reduced point."""

    def __init__(self, ops: ReducedOperators, law: MaterialLaw) -> None:
        self.ops, self.law = ops, law

    def initial(
        self, start: tuple[np.ndarray, dict[str, np.ndarray], np.ndarray] | None, k: int
    ) -> tuple[np.ndarray, tuple[dict[str, np.ndarray], np.ndarray]]:
        n = self.ops.strains.shape[0]
        if start is None:
            return np.zeros(k), (self.law.initial_state(n), np.zeros((n, 6)))
        return np.array(start[0], dtype=float), (dict(start[1]), np.asarray(start[2]))

    def step(
        self,
        q: np.ndarray,
        state: tuple[dict[str, np.ndarray], np.ndarray],
        dt: float,
        force: np.ndarray,
        lift_strain: np.ndarray | float,
        rtol: float,
        max_iterations: int,
    ) -> tuple[np.ndarray, tuple[dict[str, np.ndarray], np.ndarray], int]:
        q_new, update, its = newton_step(
            self.ops, self.law, q, state[0], dt, force, lift_strain, rtol, max_iterations
        )
        return q_new, (update.state, update.stress), its

    def outputs(self, state: tuple[dict[str, np.ndarray], np.ndarray]) -> tuple[np.ndarray, ...]:
        return state[1], state[0]["p"].copy()


def stepper(
    ops: ReducedOperators,
    law: MaterialLaw,
    tangent: str = "consistent",
    timings: dict[str, float] | None = None,
) -> CompiledStepper | NumpyStepper:
    """The compiled step where the law has a kernel (``law.compiled_code()``), else the NumPy
    reference; ``tangent`` and ``timings`` apply to the compiled one."""
    if tangent not in TANGENTS:
        raise ParameterError(f"tangent must be one of {', '.join(TANGENTS)}, got {tangent!r}")
    code = law.compiled_code()
    if code is None:
        return NumpyStepper(ops, law)
    keys = tuple(law.state_shapes)
    return CompiledStepper(ops.compiled_points(), code, law.name, keys, tangent, timings)


def run(
    ops: ReducedOperators,
    law: MaterialLaw,
    times: Sequence[float],
    force: Callable[[float], np.ndarray],
    lift_strain: Callable[[float], np.ndarray | float],
    rtol: float = 1e-9,
    max_iterations: int = 25,
    max_cuts: int = 8,
    start: tuple[np.ndarray, dict[str, np.ndarray], np.ndarray] | None = None,
    tangent: str = "consistent",
    timings: dict[str, float] | None = None,
) -> ReducedResult:
    """The reduced history from the virgin state at ``times[0]`` to every output time,
    or from ``start = (q, state, stress)`` at ``times[0]`` (state and Mandel stress at
    the reduced points).

    The step runs on the compiled kernels (:mod:`~nirom.hyperreduction.compiled_newton`)
    when the law has one (``law.compiled_code()``), else on the NumPy reference
    :func:`newton_step`; ``tangent`` ("consistent" or "modified") and ``timings`` (a dict
    the compiled step adds its seconds by part to: profiling) apply to the compiled step.
    """
    with one_blas_thread():  # k x k products and solves: threads cost more than they save
        steps = stepper(ops, law, tangent, timings)
        return _run(
            steps, ops.n_modes, times, force, lift_strain, rtol, max_iterations, max_cuts, start
        )


def _run(
    steps: CompiledStepper | NumpyStepper,
    k: int,
    times: Sequence[float],
    force: Callable[[float], np.ndarray],
    lift_strain: Callable[[float], np.ndarray | float],
    rtol: float,
    max_iterations: int,
    max_cuts: int,
    start: tuple[np.ndarray, dict[str, np.ndarray], np.ndarray] | None,
) -> ReducedResult:
    times = np.asarray(times, dtype=float)
    q, state = steps.initial(start, k)
    stress, p = steps.outputs(state)
    out_q, out_s, out_p, iterations = [q.copy()], [stress], [p], []
    cuts = 0
    for t0, t1 in itertools.pairwise(times):
        t, level = t0, 0
        while t < t1 - 1e-12 * (t1 - t0):
            t_new = min(t + (t1 - t0) * 0.5**level, t1)
            try:
                q_new, state_new, its = steps.step(
                    q, state, t_new - t, force(t_new), lift_strain(t_new), rtol, max_iterations
                )
            except (_Failure, StepFailure) as exc:
                cuts += 1
                level += 1
                if level > max_cuts:
                    raise ReducedConvergenceError(
                        f"reduced Newton failed at t = {t_new:.6g} s even with the minimum "
                        f"step ({exc})"
                    ) from None
                continue
            q, state, t = q_new, state_new, t_new
            iterations.append(its)
        stress, p = steps.outputs(state)
        out_q.append(q.copy())
        out_s.append(stress)
        out_p.append(p)
    return ReducedResult(np.array(out_q), np.array(out_s), np.array(out_p), iterations, cuts)
