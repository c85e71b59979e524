"""What a reduced-basis model is built from: a solver's affine decomposition and field.

:func:`rb_field` picks the one field the unknowns are (the steady point field:
a temperature, or a displacement with its components; other fields, such as
elasticity's cell field ``von_mises``, are not reduced); :func:`empty_model`
builds the empty Galerkin model with the energy product at the centre of the
parameter space (for log-uniform parameters, the geometric mean: ``k = 1`` on
[0.1, 10]). A field of ``c`` components is handled flattened row by row
(entry ``c * node + component``), as the stored systems lay out their
unknowns (:mod:`nirom.dataset.operators`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from nirom.dataset.schema import FieldSpec
from nirom.errors import DatasetError, ModelError
from nirom.parameters import ParameterSpace
from nirom.reduced_basis.model import ReducedBasisModel
from nirom.solvers.base import Solver
from nirom.solvers.operators import AffineDecomposition


def rb_field(fields: Sequence[FieldSpec], owner: str) -> FieldSpec:
    """The single steady point field (any number of components), or a ModelError.

    Other fields (cell, global, time series) are left out of the reduced model.
    """
    ok = [f for f in fields if f.location == "point" and f.times is None]
    if len(ok) != 1:
        found = [
            f"{f.name} ({f.location}{', series' if f.times is not None else ''})" for f in fields
        ]
        raise ModelError(
            f"{owner}: reduced basis needs exactly one steady point field (the unknowns), "
            f"got {found}"
        )
    return ok[0]


def value_mass(mass: sp.spmatrix, n_values: int) -> sp.csr_matrix:
    """The nodal mass matrix for a field of ``n_values // n_nodes`` components, flattened
    node-major (``kron(M, I_c)``), or ``mass`` itself for a scalar field."""
    n_nodes = mass.shape[0]
    if n_values == n_nodes:
        return sp.csr_matrix(mass)
    if n_nodes == 0 or n_values % n_nodes:
        raise ModelError(f"mass matrix of {n_nodes} nodes does not fit {n_values} field values")
    return sp.csr_matrix(sp.kron(mass, sp.identity(n_values // n_nodes)))


def snapshot_values(values: np.ndarray, n_values: int, owner: str) -> np.ndarray:
    """Stacked field samples (n, n_nodes[, c]) flattened to (n, n_values), or a DatasetError."""
    flat = np.asarray(values).reshape(len(values), -1)
    if flat.shape[1] != n_values:
        raise DatasetError(
            f"{owner}: field has {flat.shape[1]} values per sample, the operators "
            f"{n_values} node values (another mesh or problem)"
        )
    return flat


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
        mass = value_mass(mass, affine.dirichlet.size)[affine.free][:, affine.free]
    theta_ref = reference_coefficients(affine, space)
    return ReducedBasisModel.build(affine, space.scalar_names, theta_ref, mass=mass)
