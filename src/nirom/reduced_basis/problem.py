"""What a reduced-basis model is built from: a solver's affine decomposition and field.

:func:`rb_field` picks the one field the unknowns are (a steady scalar point
field); :func:`empty_model` builds the empty Galerkin model with the energy
product at the centre of the parameter space (for log-uniform parameters, the
geometric mean: ``k = 1`` on [0.1, 10]).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nirom.dataset.schema import FieldSpec
from nirom.errors import ModelError
from nirom.parameters import ParameterSpace
from nirom.reduced_basis.model import ReducedBasisModel
from nirom.solvers.base import Solver
from nirom.solvers.operators import AffineDecomposition


def rb_field(fields: Sequence[FieldSpec], owner: str) -> str:
    """The name of the single steady scalar point field, or a ModelError naming the fields."""
    ok = [f.name for f in fields if f.location == "point" and f.components == 1 and f.times is None]
    if len(ok) != 1 or len(fields) != 1:
        raise ModelError(
            f"{owner}: reduced basis needs exactly one steady scalar point field, got "
            f"{[f.name for f in fields]}"
        )
    return ok[0]


def affine_of(solver: Solver) -> AffineDecomposition:
    """The solver's affine decomposition, or a ModelError saying it has none."""
    affine = solver.affine_decomposition()
    if affine is None:
        raise ModelError(
            f"solver {solver.name!r} gives no affine decomposition of its operator; "
            "reduced basis needs one"
        )
    return affine


def reference_coefficients(affine: AffineDecomposition, space: ParameterSpace) -> np.ndarray:
    """theta_q at the centre of the unit cube of ``space`` (Q,)."""
    centre = space.from_unit(np.full((1, space.dim), 0.5))
    return affine.matrix_thetas(centre, space.scalar_names)[0]


def empty_model(solver: Solver, space: ParameterSpace) -> ReducedBasisModel:
    """An empty model of ``solver``'s affine system, with L2 bounds when it has a mass matrix."""
    affine = affine_of(solver)
    mass = solver.mass_matrix()
    if mass is not None:
        mass = mass.tocsr()[affine.free][:, affine.free]
    theta_ref = reference_coefficients(affine, space)
    return ReducedBasisModel.build(affine, space.scalar_names, theta_ref, mass=mass)
