"""Linear isotropic elasticity: ``sigma = lambda tr(eps) 1 + 2 mu eps``."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from nirom.mechanics.laws.base import LawParameter, LawUpdate, MaterialLaw, elastic_tangent
from nirom.mechanics.tensors import elastic_stiffness, elastic_stress, lame_constants

#: Young's modulus and Poisson's ratio, shared by every law.
YOUNG = LawParameter("E", "MPa", "Young's modulus", lower=0.0, lower_open=True)
POISSON = LawParameter(
    "nu", "-", "Poisson's ratio", lower=-1.0, upper=0.5, lower_open=True, upper_open=True
)


class LinearElastic(MaterialLaw):
    """Linear isotropic elasticity (registry name ``"elastic"``).

    Parameters: ``E`` Young's modulus (MPa, > 0), ``nu`` Poisson's ratio (in (-1, 0.5)).
    ``sigma = C : eps`` with ``C = lambda 1 (x) 1 + 2 mu I``, ``lambda = E nu / ((1 + nu)
    (1 - 2 nu))``, ``mu = E / (2 (1 + nu))``; the tangent is ``C`` at every point. The state
    holds only ``"p"`` (cumulated plastic strain), which stays 0. ``stiffness`` is the
    (6, 6) stiffness (Mandel).
    """

    name: ClassVar[str] = "elastic"
    parameters: ClassVar[tuple[LawParameter, ...]] = (YOUNG, POISSON)
    state_shapes: ClassVar[dict[str, int]] = {"p": 1}

    def _setup(self) -> None:
        self._lam, self._mu = lame_constants(self._params["E"], self._params["nu"])
        self.stiffness = elastic_stiffness(self._params["E"], self._params["nu"])

    def _integrate(self, strain: np.ndarray, state: dict[str, np.ndarray], dt: float) -> LawUpdate:
        n = strain.shape[0]
        return LawUpdate(
            stress=elastic_stress(strain, self._lam, self._mu),
            tangent=elastic_tangent(self.stiffness, n),
            state={"p": state["p"].copy()},
        )
