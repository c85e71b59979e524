"""Backward-Euler return mapping of J2 flow with Armstrong-Frederick kinematic hardening.

Shared by the rate-independent (:mod:`~nirom.mechanics.laws.plasticity`) and the Norton
(:mod:`~nirom.mechanics.laws.viscoplasticity`) laws, which differ only in the flow stress
``R(dp)`` that the von Mises stress ``q = J2(s - X)`` must equal at the end of a plastic step.

Equations (Mandel notation, ``J2(t) = sqrt(3/2 t:t)`` for a deviator ``t``, G the shear
modulus). With the flow direction ``N = (3/2)(s - X)/q`` at the end of the step, the
plastic multiplier ``dp`` and the trial deviator ``a = dev(C : (eps - eps_p_n))``:

    eps_p = eps_p_n + dp N,     p = p_n + dp,
    X = theta (X_n + (2/3) C dp N),     theta = 1 / (1 + D dp)    (backward Euler of AF),
    s = a - 2 G dp N.

Then ``s - X`` is parallel to ``eta(dp) = a - theta X_n``, so ``N = (3/2) eta / J2(eta)``
and the whole step reduces to one scalar equation in ``dp``:

    psi(dp) = q(dp) - R(dp) = 0,     q(dp) = J2(a - theta X_n) - (3 G + C theta) dp.

``dq/ddp = (3/2) D theta^2 (eta : X_n) / J2(eta) - 3 G - C theta^2``, which is < 0
whenever ``J2(X_n) <= (C + 3 G / theta^2) / D`` (always so for back stresses reached by
AF, bounded by C/D), so ``psi`` decreases and its root is unique. With D = 0 the
direction is fixed (classical radial return) and ``psi`` is linear for linear hardening.

The root is found by :func:`solve_multiplier`, a Newton iteration kept inside a bracket
``[lo, hi]`` with ``psi(lo) > 0 >= psi(hi)`` (bisection when a Newton step leaves it),
vectorised over the points that are still iterating.

Consistent tangent (implicit differentiation of ``psi(dp, a) = 0``, with
``h = -d psi / d dp > 0``, ``P`` the deviatoric projector and
``Xp = X_n - (2/3)(N : X_n) N``):

    C_t = C - (4 G^2 / h) N (x) N - (6 G^2 dp / J2(eta)) (P - (2/3) N (x) N)
            - (6 G^2 dp D theta^2 / (J2(eta) h)) Xp (x) N.

The last term, present only for D > 0, is not symmetric.

References: J. C. Simo and T. J. R. Hughes, Computational Inelasticity (Springer, 1998),
ch. 3; J. L. Chaboche, Int. J. Plasticity 24 (2008) 1642-1693 for AF hardening.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from nirom.mechanics.laws.base import LawIntegrationError, LawUpdate, MaterialLaw, elastic_tangent
from nirom.mechanics.tensors import (
    deviator,
    elastic_stiffness,
    elastic_stress,
    lame_constants,
    outer,
)


def dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot products of (n, 6) arrays (double contraction in Mandel notation)."""
    return np.einsum("ij,ij->i", a, b)


def j2(t: np.ndarray) -> np.ndarray:
    """``sqrt(3/2 t : t)`` of deviators (n, 6): shape (n,)."""
    return np.sqrt(1.5 * dot(t, t))


@dataclass(frozen=True)
class Kinematics:
    """The end-of-step quantities that depend on ``dp`` alone, at m points.

    ``theta = 1/(1 + D dp)``, ``eta = a - theta X_n`` (m, 6), ``J = J2(eta)``,
    ``q = J - (3G + C theta) dp`` and its derivative ``dq = dq/ddp``.
    """

    theta: np.ndarray
    eta: np.ndarray
    J: np.ndarray
    q: np.ndarray
    dq: np.ndarray


def kinematics(
    dp: np.ndarray, a: np.ndarray, X: np.ndarray, G: float, C: float, D: float
) -> Kinematics:
    """:class:`Kinematics` for multipliers ``dp`` (m,), trial deviators and back stresses (m, 6)."""
    theta = 1.0 / (1.0 + D * dp)
    eta = a - theta[:, None] * X
    J = j2(eta)
    dJ = 1.5 * D * theta**2 * dot(eta, X) / J
    q = J - (3.0 * G + C * theta) * dp
    dq = dJ - 3.0 * G - C * theta**2
    return Kinematics(theta, eta, J, q, dq)


Residual = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def solve_multiplier(
    residual: Residual,
    x0: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    scale: np.ndarray,
    law: str,
    rtol: float = 1e-12,
    maxiter: int = 100,
    exponent: float = 1.0,
) -> tuple[np.ndarray, int]:
    """Roots of decreasing scalar functions, one per point, by bracketed Newton.

    The Newton step is taken in the variable ``y = x^(1/exponent)`` (``exponent = 1``:
    plain Newton in ``x``): for a Norton residual ``A - 3G x - K (x/dt)^(1/n)`` with
    ``exponent = n`` it is concave in ``y`` and Newton converges from above without
    overshoot whatever the regime. If that step leaves the bracket, the Newton step in
    ``x`` is tried, then bisection.

    Parameters
    ----------
    residual : callable
        ``residual(x, idx) -> (r, dr)``: the residual and its derivative at the values
        ``x`` (k,) of the points ``idx`` (indices into the m points).
    x0, lo, hi : ndarray of shape (m,)
        Start and bracket, ``r(lo) > 0 >= r(hi)``, ``lo < x0 <= hi``.
    scale : ndarray of shape (m,)
        Size of the terms of ``r``: converged when ``|r| <= rtol * scale`` (a last Newton
        step is then taken if it stays in the bracket), or when the bracket collapses.
    law : str
        Name for the error message.
    exponent : float
        See above (>= 1).

    Returns
    -------
    x : ndarray of shape (m,)
    iterations : int
        Residual evaluations of the slowest point.

    Raises
    ------
    LawIntegrationError
        A point has not converged after ``maxiter`` evaluations or a value is not finite.
    """
    x, lo, hi = x0.copy(), lo.copy(), hi.copy()
    active = np.arange(x.size)
    for iteration in range(1, maxiter + 1):
        xa = x[active]
        r, dr = residual(xa, active)
        if not (np.isfinite(r).all() and np.isfinite(xa).all()):
            raise LawIntegrationError(f"{law}: the local Newton iteration gave non-finite values")
        lo[active] = np.where(r > 0, xa, lo[active])
        hi[active] = np.where(r <= 0, xa, hi[active])
        la, ha = lo[active], hi[active]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            delta = -r / dr
            step = xa + delta
            if exponent != 1.0:
                base = 1.0 + delta / (exponent * xa)
                step_y = xa * np.where(base > 0, base, np.nan) ** exponent
                step = np.where((step_y > la) & (step_y < ha), step_y, step)
        inside = (step > la) & (step < ha)
        converged = (np.abs(r) <= rtol * scale[active]) | (ha - la <= 4e-16 * ha)
        x[active] = np.where(inside, step, np.where(converged, xa, 0.5 * (la + ha)))
        active = active[~converged]
        if active.size == 0:
            return x, iteration
    raise LawIntegrationError(
        f"{law}: the local Newton iteration did not converge in {maxiter} iterations "
        f"at {active.size} point(s)"
    )


def plastic_correction(
    dp: np.ndarray,
    kin: Kinematics,
    X: np.ndarray,
    h: np.ndarray,
    stiffness: np.ndarray,
    G: float,
    C: float,
    D: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The plastic part of the step at m points with multiplier ``dp`` (m,).

    ``kin`` are the :func:`kinematics` at ``dp``, ``X`` the back stress at the start of
    the step, ``h = -d psi / d dp``, ``stiffness`` the elastic (6, 6) one. Returns
    ``(d_eps_p, X_new, d_stress, tangent)``: the plastic strain increment ``dp N``, the
    back stress at the end of the step, the stress correction ``-2 G dp N`` and the
    consistent tangent (m, 6, 6).
    """
    N = 1.5 * kin.eta / kin.J[:, None]
    d_eps_p = dp[:, None] * N
    X_new = kin.theta[:, None] * (X + (2.0 / 3.0) * C * d_eps_p)
    ratio = 6.0 * G**2 * dp / kin.J
    # C - ratio P - (4G^2/h - 2/3 ratio) N (x) N in few passes over the (m, 6, 6) array,
    # P = I - (1/3) 1 (x) 1 touching only the diagonal and the normal block.
    tangent = outer(((2.0 / 3.0) * ratio - 4.0 * G**2 / h)[:, None] * N, N)
    tangent += stiffness
    diagonal = np.arange(6)
    tangent[:, diagonal, diagonal] -= ratio[:, None]
    tangent[:, :3, :3] += (ratio / 3.0)[:, None, None]
    if D > 0:
        X_perp = X - (2.0 / 3.0) * dot(N, X)[:, None] * N
        tangent -= outer((ratio * D * kin.theta**2 / h)[:, None] * X_perp, N)
    return d_eps_p, X_new, -2.0 * G * d_eps_p, tangent


class J2Law(MaterialLaw):
    """Base of the J2 laws with Armstrong-Frederick kinematic hardening.

    State: ``"eps_p"`` plastic strain (n, 6), ``"X"`` back stress (n, 6, stress unit),
    ``"p"`` cumulated plastic strain (n,). Subclasses give the flow stress ``R(dp)`` that
    ``J2(s - X)`` equals at the end of a plastic step (:meth:`_flow_stress`) and a first
    guess of ``dp`` (:meth:`_first_guess`); the step is elastic where the trial
    ``J2(s - X) <= R(0)``. ``stiffness`` is the (6, 6) elastic stiffness (Mandel).
    """

    state_shapes: ClassVar[dict[str, int]] = {"eps_p": 6, "X": 6, "p": 1}
    _exponent: float = 1.0  # the local Newton works on dp^(1/_exponent)

    def _setup(self) -> None:
        self._lam, self._G = lame_constants(self._params["E"], self._params["nu"])
        self.stiffness = elastic_stiffness(self._params["E"], self._params["nu"])
        self._C, self._D = self._params["C"], self._params["D"]

    @property
    def symmetric_tangent(self) -> bool:
        """False with Armstrong-Frederick recall (C > 0 and D > 0): see the module notes."""
        return self._C == 0 or self._D == 0

    @abstractmethod
    def _flow_stress(
        self, dp: np.ndarray, p: np.ndarray, dt: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """``R`` and ``dR/ddp`` (m,) for multipliers ``dp`` (m,) and cumulated ``p`` at start."""

    @abstractmethod
    def _first_guess(self, overstress: np.ndarray, hi: np.ndarray, dt: float) -> np.ndarray:
        """A start in (0, hi] for ``dp`` given the trial overstress ``J2(s_tr - X) - R(0)``."""

    def _integrate(self, strain: np.ndarray, state: dict[str, np.ndarray], dt: float) -> LawUpdate:
        eps_p, X, p = state["eps_p"].copy(), state["X"].copy(), state["p"].copy()
        stress = elastic_stress(strain - eps_p, self._lam, self._G)
        a = 2.0 * self._G * deviator(strain - eps_p)
        q_trial = j2(a - X)
        r_start = self._flow_stress(np.zeros_like(p), p, dt)[0]
        flows = q_trial > r_start
        plastic = np.flatnonzero(flows)
        if plastic.size == 0:
            tangent = elastic_tangent(self.stiffness, strain.shape[0])
            return LawUpdate(stress, tangent, {"eps_p": eps_p, "X": X, "p": p}, 0)

        aP, XP, pP = a[plastic], X[plastic], p[plastic]
        G, C, D = self._G, self._C, self._D
        size = np.maximum(j2(aP), q_trial[plastic])
        hi = (size - r_start[plastic]) / (3.0 * G)
        x0 = np.clip(self._first_guess(q_trial[plastic] - r_start[plastic], hi, dt), 1e-300, hi)

        def residual(x: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            kin = kinematics(x, aP[idx], XP[idx], G, C, D)
            R, dR = self._flow_stress(x, pP[idx], dt)
            return kin.q - R, kin.dq - dR

        dp, iterations = solve_multiplier(
            residual, x0, np.zeros_like(hi), hi, size, self.name, exponent=self._exponent
        )
        kin = kinematics(dp, aP, XP, G, C, D)
        h = self._flow_stress(dp, pP, dt)[1] - kin.dq
        d_eps_p, X_new, d_stress, tangent_p = plastic_correction(
            dp, kin, XP, h, self.stiffness, G, C, D
        )
        stress[plastic] += d_stress
        if plastic.size == strain.shape[0]:
            tangent = tangent_p
        else:
            tangent = np.empty((strain.shape[0], 6, 6))
            tangent[~flows] = self.stiffness
            tangent[plastic] = tangent_p
        eps_p[plastic] += d_eps_p
        X[plastic] = X_new
        p[plastic] += dp
        return LawUpdate(stress, tangent, {"eps_p": eps_p, "X": X, "p": p}, iterations)
