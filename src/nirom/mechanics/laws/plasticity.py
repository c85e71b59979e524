"""Rate-independent von Mises (J2) plasticity with isotropic and kinematic hardening."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from nirom.mechanics.laws.base import LawParameter
from nirom.mechanics.laws.elastic import POISSON, YOUNG
from nirom.mechanics.laws.return_mapping import J2Law

#: Armstrong-Frederick kinematic hardening moduli, shared with the viscoplastic law.
KINEMATIC_MODULUS = LawParameter(
    "C", "MPa", "kinematic hardening modulus (Armstrong-Frederick)", lower=0.0
)
RECALL = LawParameter(
    "D", "-", "dynamic recall of the back stress (Armstrong-Frederick; 0: linear)", lower=0.0
)


class J2Plasticity(J2Law):
    """Rate-independent J2 plasticity (registry name ``"plasticity"``).

    Parameters: ``E`` (MPa, > 0), ``nu`` (in (-1, 0.5)), ``sigma_y`` initial yield stress
    (MPa, > 0), ``H`` linear isotropic hardening modulus (MPa, >= 0), ``C`` kinematic
    hardening modulus (MPa, >= 0), ``D`` dynamic recall (dimensionless, per unit p, >= 0).

    Yield function ``f = J2(sigma - X) - (sigma_y + H p)`` with ``J2(t) = sqrt(3/2
    dev(t):dev(t))``; associated flow ``eps_p' = p' (3/2) dev(sigma - X) / J2(sigma - X)``;
    Armstrong-Frederick back stress ``X' = (2/3) C eps_p' - D X p'`` (D = 0: linear
    kinematic hardening, Prager; C = D = 0: none). Integrated by backward Euler (radial
    return; with D > 0 a safeguarded scalar Newton on the multiplier) with the consistent
    tangent, see :mod:`nirom.mechanics.laws.return_mapping`.

    Uniaxial response (monotonic, from the virgin state): yield at ``sigma_y``, then
    ``sigma = sigma_y + H p + (C / D)(1 - exp(-D p))`` (``+ C p`` for D = 0), so an
    elastoplastic tangent ``E (H + C) / (E + H + C)`` for linear hardening; with linear
    kinematic hardening alone, reverse yield at ``sigma_max - 2 sigma_y``.
    The tangent is symmetric unless C > 0 and D > 0.
    """

    name: ClassVar[str] = "plasticity"
    parameters: ClassVar[tuple[LawParameter, ...]] = (
        YOUNG,
        POISSON,
        LawParameter("sigma_y", "MPa", "initial yield stress", lower=0.0, lower_open=True),
        LawParameter("H", "MPa", "linear isotropic hardening modulus", lower=0.0),
        KINEMATIC_MODULUS,
        RECALL,
    )

    def _flow_stress(
        self, dp: np.ndarray, p: np.ndarray, dt: float
    ) -> tuple[np.ndarray, np.ndarray]:
        H = self._params["H"]
        return self._params["sigma_y"] + H * (p + dp), np.full_like(dp, H)

    def _first_guess(self, overstress: np.ndarray, hi: np.ndarray, dt: float) -> np.ndarray:
        # The exact multiplier when D = 0.
        return overstress / (3.0 * self._G + self._params["H"] + self._C)
