"""Material laws for small-strain solid mechanics, vectorised over integration points.

Registered laws (see each class for its equations, parameters and units):

- ``"elastic"``: :class:`LinearElastic`, linear isotropic elasticity (E, nu);
- ``"plasticity"``: :class:`J2Plasticity`, rate-independent von Mises plasticity with
  linear isotropic (H) and Armstrong-Frederick kinematic (C, D) hardening;
- ``"viscoplasticity"``: :class:`NortonViscoplasticity`, Norton flow with a threshold R0
  and Armstrong-Frederick kinematic hardening.

The interface (:class:`MaterialLaw`, :class:`LawUpdate`, :func:`make_law`) is in
:mod:`nirom.mechanics.laws.base`; the backward-Euler return mapping shared by the two
J2 laws (equations, consistent tangent, local Newton) in
:mod:`nirom.mechanics.laws.return_mapping`; a material-point driver (uniaxial and mixed
strain/stress control) in :mod:`nirom.mechanics.laws.material_point`.

Cost of one ``integrate`` call at 100k points (this 2-core machine, under load; run
``python tests/mechanics/laws/law_timings.py``): about 0.3-0.6 microseconds per point
for an elastic step of any law, 3-5 microseconds per flowing point (most of it the
(n, 6, 6) tangent and the 1-6 local Newton iterations).
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
