"""Compiled (numba) kernels of the material laws: one integration point at a time.

The NumPy laws (:mod:`~nirom.mechanics.laws.return_mapping`,
:mod:`~nirom.mechanics.laws.elastic`) are the reference; these kernels run the
same arithmetic point by point, with no Python between points, so a call costs
its arithmetic (about 0.1-0.5 us a point) instead of the 1-2 ms of fixed
interpreter cost the vectorised NumPy path pays per call. They agree with the
NumPy path to round-off (tested on random states for every law, plastic
loading, unloading and viscoplastic steps).

A law is a ``kind`` and a parameter vector ``prm`` (:func:`law_code`):

========  =====================  ==========================================
kind      law                    prm
========  =====================  ==========================================
0         elastic                lam, G
1         plasticity (J2)        lam, G, C, D, sigma_y, H
2         viscoplasticity        lam, G, C, D, R0, K, n
========  =====================  ==========================================

Conventions as in :mod:`nirom.mechanics.laws.base` (Mandel notation, 3D, the
state ``eps_p``, ``X``, ``p``). The kernels return a status instead of raising
(numba cannot format the messages): 0 success, 1 non-finite local values,
2 no convergence of the local Newton iteration; the Python wrapper
(:func:`integrate`) raises :class:`~nirom.mechanics.laws.base.LawIntegrationError`
with the NumPy path's message.

Compiled once per machine and cached on disk (numba's ``cache=True``, beside
this module); :func:`warm_up` compiles or loads every kernel and says which
(:func:`nirom.hyperreduction.kernels.warm_up` the reduced ones too).
"""

from __future__ import annotations

import math
import os
import time
from typing import Any

import numpy as np

try:  # numba is a dependency; the NumPy path serves where it cannot be imported
    import numba

    AVAILABLE = os.environ.get("NIROM_KERNELS", "compiled") != "numpy"
except ImportError:  # pragma: no cover - exercised only without numba
    numba = None
    AVAILABLE = False

ELASTIC, PLASTICITY, VISCOPLASTICITY = 0, 1, 2
RTOL = 1e-12  # local Newton tolerance (as solve_multiplier's default)
MAXITER = 100
OK, NOT_FINITE, NO_CONVERGENCE = 0, 1, 2


def _jit(fn: Any) -> Any:
    """A compiled kernel (cached on disk); the plain function where numba is missing."""
    if numba is None:  # pragma: no cover
        return fn
    return numba.njit(cache=True, error_model="numpy", nogil=True)(fn)


def _inline(fn: Any) -> Any:
    """A kernel's helper, inlined into its callers: a call that passes a dozen arrays would
    otherwise cost more in reference counting (about 100 ns) than the arithmetic it does."""
    if numba is None:  # pragma: no cover
        return fn
    return numba.njit(cache=True, error_model="numpy", nogil=True, inline="always")(fn)


@_inline
def _flow(kind, prm, dp, p, dt):
    """Flow stress R and dR/ddp at multiplier dp (J2 laws)."""
    if kind == PLASTICITY:
        return prm[4] + prm[5] * (p + dp), prm[5]
    K, n = prm[5], prm[6]
    rate = dp / dt
    return prm[4] + K * rate ** (1.0 / n), (K / (n * dt)) * rate ** (1.0 / n - 1.0)


@_inline
def _kinematics(dp, a, X, G, C, D, eta):
    """theta, J, q, dq at dp (eta written in place), as return_mapping.kinematics."""
    theta = 1.0 / (1.0 + D * dp)
    s_ee = 0.0
    s_ex = 0.0
    for i in range(6):
        eta[i] = a[i] - theta * X[i]
        s_ee += eta[i] * eta[i]
    for i in range(6):
        s_ex += eta[i] * X[i]
    J = math.sqrt(1.5 * s_ee)
    dJ = 1.5 * D * theta**2 * s_ex / J
    q = J - (3.0 * G + C * theta) * dp
    dq = dJ - 3.0 * G - C * theta**2
    return theta, J, q, dq


@_inline
def trial(kind, prm, strain, eps_p, X, p, stress, tangent, eps_p_out, X_out, p_out, A, e, i):
    """The elastic trial of point i (row i of every array): elastic stress and tangent,
    state copied, and for J2 laws the trial deviator ``A[i]``; ``e`` a (6,) work vector.
    Returns whether the point flows (its trial von Mises stress passes the flow stress
    R(0)). Simple separate loops over contiguous rows: the compiler vectorises them."""
    lam, G = prm[0], prm[1]
    for j in range(6):
        e[j] = strain[i, j] - eps_p[i, j]
    tr = e[0] + e[1] + e[2]
    for j in range(6):
        stress[i, j] = 2.0 * G * e[j]
    for j in range(3):
        stress[i, j] += lam * tr
    for j in range(6):
        for m in range(6):
            tangent[i, j, m] = 0.0
        tangent[i, j, j] = 2.0 * G
    for j in range(3):
        for m in range(3):
            tangent[i, j, m] += lam
    for j in range(6):
        eps_p_out[i, j] = eps_p[i, j]
    for j in range(6):
        X_out[i, j] = X[i, j]
    p_out[i] = p[i]
    if kind == ELASTIC:
        return False
    tr3 = tr / 3.0
    s_ax = 0.0
    for j in range(6):
        a = 2.0 * G * (e[j] - tr3 if j < 3 else e[j])
        A[i, j] = a
        s_ax += (a - X[i, j]) * (a - X[i, j])
    # R(0): sigma_y + H p, or R0 (K 0^(1/n) = 0): no power evaluated for an elastic point.
    r_start = prm[4] + prm[5] * (p[i] + 0.0) if kind == PLASTICITY else prm[4]
    return math.sqrt(1.5 * s_ax) > r_start


@_jit
def correct(
    kind, prm, flowing, A, X, p, dt, stress, tangent, eps_p, eps_p_out, X_out, p_out, guess
):
    """The plastic correction of the points ``flowing`` from their elastic trial (deviator
    ``A``, back stress ``X`` and ``p`` at the step's start): the multiplier by the bracketed
    local Newton, then stress, state and consistent tangent corrected in place. Returns
    (largest local iterations, status, failing points).

    ``guess`` (n,): a point's local Newton starts there when it is a number in the bracket
    (the multiplier of the previous global iteration of the same step, which the reduced
    Newton keeps: it converges in one or two local iterations instead of three to six),
    else from the law's own first guess; the converged multiplier is written back.

    Compiled apart from the trial pass and called once per batch (see
    :func:`integrate_points`)."""
    a, x_n, eta, N = np.empty(6), np.empty(6), np.empty(6), np.empty(6)
    iterations, status, failing = 0, OK, 0
    for i in flowing:
        j2_a, s_ax = 0.0, 0.0
        for j in range(6):
            a[j], x_n[j] = A[i, j], X[i, j]
            j2_a += a[j] * a[j]
            s_ax += (a[j] - x_n[j]) * (a[j] - x_n[j])
        q_trial = math.sqrt(1.5 * s_ax)
        p_n = p[i]
        r_start = prm[4] + prm[5] * (p_n + 0.0) if kind == PLASTICITY else prm[4]
        dp, its, code = _multiplier(kind, prm, a, x_n, eta, p_n, q_trial, math.sqrt(1.5 * j2_a),
                                    r_start, dt, guess[i])  # fmt: skip
        iterations = max(iterations, its)
        if code != OK:
            failing += 1
            status = max(status, code)
            continue
        _plastic_update(prm, a, x_n, eta, N, dp, p_n, dt, kind, stress, tangent, eps_p,
                        eps_p_out, X_out, i)  # fmt: skip
        p_out[i] = p_n + dp
        guess[i] = dp
    return iterations, status, failing


@_inline
def _multiplier(kind, prm, a, x_n, eta, p_n, q_trial, j2_a, r_start, dt, guess):
    """The plastic multiplier dp by the bracketed local Newton (solve_multiplier's steps):
    returns (dp, iterations, status)."""
    G, C, D = prm[1], prm[2], prm[3]
    size = max(j2_a, q_trial)
    hi = (size - r_start) / (3.0 * G)
    over = q_trial - r_start
    if kind == PLASTICITY:
        x = over / (3.0 * G + prm[5] + C)
        exponent = 1.0
    else:
        exponent = prm[6]
        x = min(dt * (over / prm[5]) ** exponent, hi)
    x = min(max(x, 1e-300), hi)
    if guess > 0.0 and guess <= hi:  # NaN (no guess) fails both tests
        x = guess
    lo = 0.0
    for iteration in range(1, MAXITER + 1):
        _, _, q, dq = _kinematics(x, a, x_n, G, C, D, eta)
        R, dR = _flow(kind, prm, x, p_n, dt)
        r, dr = q - R, dq - dR
        if not (math.isfinite(r) and math.isfinite(x)):
            return 0.0, iteration, NOT_FINITE
        if r > 0:
            lo = x
        else:
            hi = x
        delta = -r / dr
        step = x + delta
        if exponent != 1.0:
            base = 1.0 + delta / (exponent * x)
            step_y = x * base**exponent if base > 0 else math.nan
            if step_y > lo and step_y < hi:
                step = step_y
        inside = step > lo and step < hi
        converged = abs(r) <= RTOL * size or hi - lo <= 4e-16 * hi
        if inside:
            x = step
        elif not converged:
            x = 0.5 * (lo + hi)
        if converged:
            return x, iteration, OK
    return 0.0, MAXITER, NO_CONVERGENCE


@_inline
def _plastic_update(
    prm, a, x_n, eta, N, dp, p_n, dt, kind, stress, tangent, eps_p, eps_p_out, X_out, i
):
    """Stress, plastic strain, back stress and consistent tangent of point i after the
    multiplier dp (corrections of the trial values already in the arrays)."""
    G, C, D = prm[1], prm[2], prm[3]
    theta, J, _, dq = _kinematics(dp, a, x_n, G, C, D, eta)
    h = _flow(kind, prm, dp, p_n, dt)[1] - dq
    ratio = 6.0 * G**2 * dp / J
    s_nx = 0.0
    for j in range(6):
        N[j] = 1.5 * eta[j] / J
        s_nx += N[j] * x_n[j]
    c_nn = (2.0 / 3.0) * ratio - 4.0 * G**2 / h
    for j in range(6):
        d_eps = dp * N[j]
        X_out[i, j] = theta * (x_n[j] + (2.0 / 3.0) * C * d_eps)
        stress[i, j] += -2.0 * G * d_eps
        eps_p_out[i, j] = eps_p[i, j] + d_eps
        for m in range(6):
            tangent[i, j, m] += c_nn * N[j] * N[m]
        tangent[i, j, j] -= ratio
    for j in range(3):
        for m in range(3):
            tangent[i, j, m] += ratio / 3.0
    if D > 0:
        c_x = ratio * D * theta**2 / h
        for j in range(6):
            xp = x_n[j] - (2.0 / 3.0) * s_nx * N[j]
            for m in range(6):
                tangent[i, j, m] -= c_x * xp * N[m]


def _trials_of(kind: int) -> Any:
    """The trial pass compiled for one law kind: with ``kind`` a constant, the elastic
    point's loops vectorise (a kind known only at run time made them four times slower:
    63 ns a point against 14 ns, measured)."""

    @_jit
    def trials(prm, strain, eps_p, X, p, stress, tangent, eps_p_out, X_out, p_out, A, flowing):
        """The elastic trial at every point (:func:`trial`); the flowing points' indices
        are written to ``flowing``, their number returned."""
        m = 0
        e = np.empty(6)
        for i in range(strain.shape[0]):
            if trial(kind, prm, strain, eps_p, X, p, stress, tangent, eps_p_out, X_out, p_out,
                     A, e, i):  # fmt: skip
                flowing[m] = i
                m += 1
        return m

    return trials


#: The trial pass of each law kind.
TRIALS = {kind: _trials_of(kind) for kind in (ELASTIC, PLASTICITY, VISCOPLASTICITY)}


def integrate_points(
    kind: int,
    prm: np.ndarray,
    strain: np.ndarray,
    eps_p: np.ndarray,
    X: np.ndarray,
    p: np.ndarray,
    dt: float,
    stress: np.ndarray,
    tangent: np.ndarray,
    eps_p_out: np.ndarray,
    X_out: np.ndarray,
    p_out: np.ndarray,
) -> tuple[int, int, int]:
    """The law at n points (arrays (n, 6), (n,), (n, 6, 6); outputs written in place);
    returns (local iterations, status, failing points). Two compiled calls: the trial of
    every point, then the correction of the flowing ones; one function holding both ran
    every point six times slower (the correction's control flow defeats numba's
    reference-count pruning: 118 ns a point against 18 ns, measured)."""
    n = strain.shape[0]
    A, flowing, guess = np.empty((n, 6)), np.empty(n, dtype=np.int64), np.full(n, np.nan)
    m = TRIALS[kind](prm, strain, eps_p, X, p, stress, tangent, eps_p_out, X_out, p_out, A, flowing)
    if m == 0:
        return 0, OK, 0
    return correct(kind, prm, flowing[:m], A, X, p, dt, stress, tangent, eps_p, eps_p_out,
                   X_out, p_out, guess)  # fmt: skip


def law_code(name: str, params: dict[str, float]) -> tuple[int, np.ndarray]:
    """``(kind, prm)`` of a registered law's name and parameter values."""
    from nirom.mechanics.tensors import lame_constants

    lam, G = lame_constants(params["E"], params["nu"])
    if name == "elastic":
        return ELASTIC, np.array([lam, G])
    C, D = params["C"], params["D"]
    if name == "plasticity":
        return PLASTICITY, np.array([lam, G, C, D, params["sigma_y"], params["H"]])
    if name == "viscoplasticity":
        return VISCOPLASTICITY, np.array([lam, G, C, D, params["R0"], params["K"], params["n"]])
    raise KeyError(name)


def failure_message(law: str, status: int, failing: int) -> str:
    """The NumPy path's message for a kernel status."""
    if status == NOT_FINITE:
        return f"{law}: the local Newton iteration gave non-finite values"
    return (
        f"{law}: the local Newton iteration did not converge in {MAXITER} iterations "
        f"at {failing} point(s)"
    )


def warm_up() -> dict[str, Any]:
    """Compile (or load from numba's cache) every law kernel; ``{"seconds", "compiled",
    "available"}`` where ``compiled`` says whether any kernel was compiled rather than
    loaded (the reduced kernels: :func:`nirom.hyperreduction.kernels.warm_up`)."""
    if not AVAILABLE:
        return {"seconds": 0.0, "compiled": False, "available": False}
    start = time.perf_counter()
    n = 2
    z6, z66 = np.zeros((n, 6)), np.zeros((n, 6, 6))
    for kind, prm in ((0, np.ones(2)), (1, np.ones(6)), (2, np.ones(7))):
        integrate_points(kind, prm, z6, z6, z6, np.zeros(n), 1.0, z6.copy(), z66.copy(),
                         z6.copy(), z6.copy(), np.zeros(n))  # fmt: skip
    misses = sum(sum(f.stats.cache_misses.values()) for f in (*TRIALS.values(), correct))
    return {"seconds": time.perf_counter() - start, "compiled": misses > 0, "available": True}
