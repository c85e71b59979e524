"""Uses of surrogates: uncertainty propagation, sensitivity, optimization, calibration.

Each works on any fitted :class:`~nirom.surrogates.Surrogate` through its public
interface only (``predict``, ``predict(return_std=True)``, ``capabilities.std``,
``space_``, ``fields_``, ``mesh_``), and each is a Python function, a CLI verb
and a study section. Scalar quantities of interest are written as text
(:mod:`nirom.apps.quantities`), input distributions too
(:mod:`nirom.apps.distributions`).
"""

from nirom.apps.calibration import (
    CalibrationResult,
    ObservationError,
    Observations,
    calibrate,
    read_observations,
    synthetic_observations,
)
from nirom.apps.distributions import Distribution, input_distributions, sample_inputs
from nirom.apps.optimization import (
    OptimizationResult,
    ParetoResult,
    optimize,
    optimize_verified,
    pareto_front,
)
from nirom.apps.quantities import Quantity, QuantityError, parse_quantities, parse_quantity
from nirom.apps.results import read_results
from nirom.apps.sensitivity import SensitivityResult, sobol_function, sobol_indices
from nirom.apps.uq import UQResult, propagate

__all__ = [
    "CalibrationResult",
    "Distribution",
    "ObservationError",
    "Observations",
    "OptimizationResult",
    "ParetoResult",
    "Quantity",
    "QuantityError",
    "SensitivityResult",
    "UQResult",
    "calibrate",
    "input_distributions",
    "optimize",
    "optimize_verified",
    "pareto_front",
    "parse_quantities",
    "parse_quantity",
    "propagate",
    "read_observations",
    "read_results",
    "sample_inputs",
    "sobol_function",
    "sobol_indices",
    "synthetic_observations",
]
