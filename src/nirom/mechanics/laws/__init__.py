"""Material laws for small-strain solid mechanics, vectorised over integration points.

Registered laws (see each class for its equations, parameters and units):

- ``"elastic"``: :class:`LinearElastic`, linear isotropic elasticity (E, nu);
- ``"plasticity"``: :class:`J2Plasticity`, rate-independent von Mises plasticity with
  linear isotropic (H) and Armstrong-Frederick kinematic (C, D) hardening;
- ``"viscoplasticity"``: :class:`NortonViscoplasticity`, Norton flow with a threshold R0
  and Armstrong-Frederick kinematic hardening.

The interface (:class:`MaterialLaw`, :class:`LawUpdate`, :func:`make_law`) is in
:mod:`nirom.mechanics.laws.base`; a uniaxial material-point driver is in
:mod:`nirom.mechanics.laws.material_point`.
"""

from nirom.mechanics.laws.base import (
    LawIntegrationError,
    LawParameter,
    LawUpdate,
    MaterialLaw,
    law_names,
    make_law,
)
from nirom.mechanics.laws.elastic import LinearElastic
from nirom.mechanics.laws.plasticity import J2Plasticity
from nirom.mechanics.laws.viscoplasticity import NortonViscoplasticity

__all__ = [
    "J2Plasticity",
    "LawIntegrationError",
    "LawParameter",
    "LawUpdate",
    "LinearElastic",
    "MaterialLaw",
    "NortonViscoplasticity",
    "law_names",
    "make_law",
]
