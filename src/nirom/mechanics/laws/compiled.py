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
this module); :func:`warm_up` compiles or loads every kernel and says which.
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
def _elastic_point(lam, G, e, stress, tangent, i):
    """Hooke's law at row i: stress = lam tr(e) 1 + 2 G e, tangent the stiffness (e (6,))."""
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


@_inline
def _j2_point(kind, prm, strain, eps_p, X, p, dt, stress, tangent, eps_p_out, X_out, work, i):
    """One J2 point, row i of every array: writes stress, tangent, eps_p_out, X_out; returns
    (p_new, iterations, status). Rows, not views, so no reference counting per point."""
    lam, G, C, D = prm[0], prm[1], prm[2], prm[3]
    e, a, eta, N, x_n = work[0], work[1], work[2], work[3], work[4]
    for j in range(6):
        e[j] = strain[i, j] - eps_p[i, j]
        x_n[j] = X[i, j]
    _elastic_point(lam, G, e, stress, tangent, i)
    p_n = p[i]
    tr3 = (e[0] + e[1] + e[2]) / 3.0
    s_aa = 0.0
    s_ax = 0.0
    for j in range(6):
        d = e[j] - tr3 if j < 3 else e[j]
        a[j] = 2.0 * G * d
        s_aa += a[j] * a[j]
        s_ax += (a[j] - x_n[j]) * (a[j] - x_n[j])
    q_trial = math.sqrt(1.5 * s_ax)
    # R(0): sigma_y + H p, or R0 (K 0^(1/n) = 0): no power evaluated for an elastic point.
    r_start = prm[4] + prm[5] * (p_n + 0.0) if kind == PLASTICITY else prm[4]
    for j in range(6):
        eps_p_out[i, j] = eps_p[i, j]
        X_out[i, j] = x_n[j]
    if not q_trial > r_start:
        return p_n, 0, OK
    size = max(math.sqrt(1.5 * s_aa), q_trial)
    hi = (size - r_start) / (3.0 * G)
    over = q_trial - r_start
    if kind == PLASTICITY:
        x = over / (3.0 * G + prm[5] + C)
        exponent = 1.0
    else:
        exponent = prm[6]
        x = min(dt * (over / prm[5]) ** exponent, hi)
    x = min(max(x, 1e-300), hi)
    lo = 0.0
    iterations = 0
    for iteration in range(1, MAXITER + 1):
        iterations = iteration
        theta, J, q, dq = _kinematics(x, a, x_n, G, C, D, eta)
        R, dR = _flow(kind, prm, x, p_n, dt)
        r, dr = q - R, dq - dR
        if not (math.isfinite(r) and math.isfinite(x)):
            return p_n, iteration, NOT_FINITE
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
            break
        if iteration == MAXITER:
            return p_n, MAXITER, NO_CONVERGENCE
    dp = x
    theta, J, q, dq = _kinematics(dp, a, x_n, G, C, D, eta)
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
    return p_n + dp, iterations, OK


@_inline
def point(kind, prm, strain, eps_p, X, p, dt, stress, tangent, eps_p_out, X_out, work, i):
    """The law at row ``i`` of the arrays; returns (p_new, iterations, status)."""
    if kind == ELASTIC:
        for j in range(6):
            work[0, j] = strain[i, j]
        _elastic_point(prm[0], prm[1], work[0], stress, tangent, i)
        return p[i], 0, OK
    return _j2_point(kind, prm, strain, eps_p, X, p, dt, stress, tangent, eps_p_out, X_out, work, i)


@_jit
def integrate_points(kind, prm, strain, eps_p, X, p, dt, stress, tangent, eps_p_out, X_out, p_out):
    """The law at n points (arrays (n, 6), (n,), (n, 6, 6)); returns (iterations, status,
    failing points)."""
    work = np.empty((5, 6))
    iterations, status, failing = 0, OK, 0
    for i in range(strain.shape[0]):
        p_out[i], its, code = point(
            kind, prm, strain, eps_p, X, p, dt, stress, tangent, eps_p_out, X_out, work, i
        )
        iterations = max(iterations, its)
        if code != OK:
            failing += 1
            status = max(status, code)
    return iterations, status, failing


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
    """Compile (or load from numba's cache) every kernel; ``{"seconds", "compiled"}`` where
    ``compiled`` says whether any kernel was compiled rather than loaded."""
    from nirom.hyperreduction import kernels as reduced

    if not AVAILABLE:
        return {"seconds": 0.0, "compiled": False, "available": False}
    start = time.perf_counter()
    n = 2
    z6, z66 = np.zeros((n, 6)), np.zeros((n, 6, 6))
    for kind, prm in ((0, np.ones(2)), (1, np.ones(6)), (2, np.ones(7))):
        integrate_points(kind, prm, z6, z6, z6, np.zeros(n), 1.0, z6.copy(), z66.copy(),
                         z6.copy(), z6.copy(), np.zeros(n))  # fmt: skip
    reduced.warm_up()
    misses = sum(sum(f.stats.cache_misses.values()) for f in (integrate_points, *reduced.KERNELS))
    return {"seconds": time.perf_counter() - start, "compiled": misses > 0, "available": True}
