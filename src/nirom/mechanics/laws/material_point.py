"""Material-point driver: a law under mixed strain/stress control, e.g. a uniaxial test.

:func:`drive` integrates one material point through a history where some strain
components are prescribed and the stress components of the others are prescribed,
solving at each step for the free strain components by Newton's method with the law's
consistent tangent. :func:`uniaxial` is the uniaxial-stress test (axial strain or axial
stress prescribed, lateral and shear stresses zero)::

    law = make_law("plasticity", {"E": 200e3, "nu": 0.3, "sigma_y": 250.0,
                                  "H": 0.0, "C": 20e3, "D": 0.0})
    t = np.linspace(0.0, 2.0, 201)
    history = uniaxial(law, t, strain=0.01 * np.sin(np.pi * t))
    history.stress[:, 0]     # axial stress (MPa), history.state["p"] the cumulated p

Components are Mandel (11, 22, 33, sqrt2 23, sqrt2 13, sqrt2 12), direction 1 axial;
times in s, stresses in the law's unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nirom.errors import ParameterError
from nirom.mechanics.laws.base import LawIntegrationError, MaterialLaw


@dataclass(frozen=True)
class MaterialPointHistory:
    """A material point's response at the times ``times`` (m + 1,), start included.

    ``strain`` and ``stress`` (m + 1, 6) Mandel; ``state`` the internal variables, each
    (m + 1, ...) ; ``iterations`` (m,) Newton iterations of each step (0 when no
    component is free).
    """

    times: np.ndarray
    strain: np.ndarray
    stress: np.ndarray
    state: dict[str, np.ndarray]
    iterations: np.ndarray


def _history(name: str, values: np.ndarray | None, m: int) -> np.ndarray:
    if values is None:
        return np.zeros((m, 6))
    values = np.asarray(values, dtype=float)
    if values.shape != (m, 6) or not np.isfinite(values).all():
        raise ParameterError(f"material point: {name} must be finite of shape {(m, 6)}")
    return values


def drive(
    law: MaterialLaw,
    times: np.ndarray,
    strain: np.ndarray | None = None,
    stress: np.ndarray | None = None,
    controlled: Sequence[bool] = (True,) * 6,
    rtol: float = 1e-10,
    atol: float = 1e-8,
    maxiter: int = 50,
) -> MaterialPointHistory:
    """Integrate ``law`` at one point under mixed control.

    Parameters
    ----------
    law : MaterialLaw
    times : ndarray of shape (m + 1,)
        Increasing times (s); the point is in its virgin state (zero strain, stress and
        internal variables) at ``times[0]``.
    strain, stress : ndarray of shape (m + 1, 6), optional
        Prescribed strain components (where ``controlled``) and stress components
        (elsewhere), zero at ``times[0]``; the other entries are ignored; missing means
        zeros.
    controlled : sequence of 6 bools
        Which strain components are prescribed.
    rtol, atol : float
        Newton stops when ``||stress_free - target|| <= rtol ||stress|| + atol``.
    maxiter : int
        Newton iterations per step before :class:`LawIntegrationError`.

    Returns
    -------
    MaterialPointHistory
    """
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or times.size < 2 or not (np.diff(times) > 0).all():
        raise ParameterError("material point: times must increase, with at least two entries")
    m = times.size
    eps_in, sig_in = _history("strain", strain, m), _history("stress", stress, m)
    fixed = np.asarray(controlled, dtype=bool)
    if fixed.shape != (6,):
        raise ParameterError("material point: controlled must have 6 entries")
    if np.any(np.where(fixed, eps_in[0], sig_in[0]) != 0):
        raise ParameterError("material point: the prescribed values at times[0] must be 0")
    free = np.flatnonzero(~fixed)
    state = law.initial_state(1)
    eps = np.zeros(6)
    first = law.integrate(eps[None], state, 1.0)
    eps_out, sig_out = [eps.copy()], [first.stress[0]]
    states = [state]
    iterations = np.zeros(m - 1, dtype=int)
    tangent = first.tangent[0]
    for k in range(1, m):
        dt = times[k] - times[k - 1]
        target = sig_in[k]
        eps = np.where(fixed, eps_in[k], eps_out[-1])
        if free.size:  # predictor with the last tangent
            d_fixed = np.where(fixed, eps_in[k] - eps_out[-1], 0.0)
            rhs = target[free] - sig_out[-1][free] - tangent[free] @ d_fixed
            eps[free] += np.linalg.solve(tangent[np.ix_(free, free)], rhs)
        for it in range(maxiter + 1):
            update = law.integrate(eps[None], state, dt)
            sigma, tangent = update.stress[0], update.tangent[0]
            r = sigma[free] - target[free]
            if np.linalg.norm(r) <= rtol * np.linalg.norm(sigma) + atol:
                break
            if it == maxiter:
                raise LawIntegrationError(
                    f"material point: no convergence at step {k} (t = {times[k]:g} s)"
                )
            eps[free] -= np.linalg.solve(tangent[np.ix_(free, free)], r)
        iterations[k - 1] = it
        state = update.state
        eps_out.append(eps.copy())
        sig_out.append(sigma)
        states.append(state)
    return MaterialPointHistory(
        times=times,
        strain=np.array(eps_out),
        stress=np.array(sig_out),
        state={key: np.concatenate([s[key] for s in states]) for key in law.state_shapes},
        iterations=iterations,
    )


def uniaxial(
    law: MaterialLaw,
    times: np.ndarray,
    strain: np.ndarray | None = None,
    stress: np.ndarray | None = None,
    **options: float,
) -> MaterialPointHistory:
    """Uniaxial-stress test along direction 1: give the axial ``strain`` or ``stress`` (m + 1,).

    The lateral and shear stresses are held at zero. With ``strain`` the axial strain is
    prescribed and the axial stress computed; with ``stress`` the reverse. ``options`` go
    to :func:`drive`.
    """
    if (strain is None) == (stress is None):
        raise ParameterError("material point: give the axial strain or the axial stress")
    times = np.asarray(times, dtype=float)
    history = np.zeros((times.size, 6))
    axial = np.asarray(strain if stress is None else stress, dtype=float)
    if axial.shape != times.shape:
        raise ParameterError(f"material point: the axial history must have shape {times.shape}")
    history[:, 0] = axial
    if stress is None:
        return drive(law, times, strain=history, controlled=(True,) + (False,) * 5, **options)
    return drive(law, times, stress=history, controlled=(False,) * 6, **options)
