"""Nonintrusive hyper-reduced models of nonlinear solid mechanics.

From displacement time series (any code's) and nirom's material laws:
POD of the displacements, stresses replayed by the law when not stored
(:mod:`.snapshots`), empirical cubature of the reduced internal forces
(:mod:`.ecm`), Gappy-POD of the dual quantities (:mod:`.gappy`), reduced loads
and liftings (:mod:`.loading`), a reduced Newton with the same law code at the
reduced points (:mod:`.newton`), an online error indicator (:mod:`.indicator`),
the Dask-distributed offline stage (:mod:`.offline`) and the model
(:mod:`.model`). The surrogate ``hrom`` (:mod:`nirom.surrogates.hrom`) wraps
them for ``nirom fit``.
"""

from nirom.hyperreduction.ecm import Cubature, empirical_cubature
from nirom.hyperreduction.gappy import GappyPOD, select_points
from nirom.hyperreduction.model import ReducedModel
from nirom.hyperreduction.newton import ReducedConvergenceError
from nirom.hyperreduction.offline import build

__all__ = [
    "Cubature",
    "GappyPOD",
    "ReducedConvergenceError",
    "ReducedModel",
    "build",
    "empirical_cubature",
    "select_points",
]
