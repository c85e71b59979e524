"""POD-Galerkin from an existing dataset that stores its system matrices.

The snapshots of the dataset's field, restricted to the unknowns, give an
X-orthonormal POD basis; the operator terms come from the generating solver's
exact affine decomposition (rebuilt from the dataset's provenance), checked
against the matrices the dataset stores: a dataset whose matrices the
decomposition does not reproduce is refused, naming the sample.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse.linalg as spla

from nirom.dataset import Dataset
from nirom.errors import DatasetError, ModelError
from nirom.reduced_basis.basis import pod_basis
from nirom.reduced_basis.model import ReducedBasisModel
from nirom.reduced_basis.problem import affine_of, empty_model, rb_field
from nirom.solvers import Solver, make_solver
from nirom.solvers.operators import AffineDecomposition

#: Relative Frobenius-norm difference allowed between a stored matrix and the
#: decomposition's at the same parameters (round-off of assembly and storage).
MATRIX_TOLERANCE = 1e-10


def dataset_solver(ds: Dataset) -> Solver:
    """The solver that generated ``ds`` (from its provenance), or a ModelError."""
    record = ds.provenance.get("generation") or ds.provenance.get("greedy") or {}
    recipe = record.get("solver") or {}
    if not recipe.get("name") or recipe.get("options") is None:
        raise ModelError(f"{ds.path}: no solver recipe in its provenance to rebuild the operators")
    return make_solver(recipe["name"], recipe["options"])


def check_operators(ds: Dataset, affine: AffineDecomposition, ids: Sequence[int]) -> None:
    """Stored systems of ``ids`` must be the decomposition's (layout, matrix, rhs)."""
    free, _ = ds.operator_layout()
    if free.shape != affine.free.shape or not np.array_equal(free, affine.free):
        raise DatasetError(f"{ds.path}: unknown-to-node map differs from the solver's")
    for i in ids:
        stored = ds.system(i)
        mu = ds.read_meta(i)["mu"]
        exact = affine.system(mu)
        diff = spla.norm(stored.matrix - exact.matrix) / max(spla.norm(exact.matrix), 1e-300)
        diff_f = np.linalg.norm(stored.rhs - exact.rhs) / max(np.linalg.norm(exact.rhs), 1e-300)
        if max(diff, diff_f) > MATRIX_TOLERANCE:
            raise DatasetError(
                f"{ds.path}: sample {i}: stored system differs from the solver's affine "
                f"decomposition (relative difference {max(diff, diff_f):.2e})"
            )


def pod_galerkin(
    ds: Dataset,
    ids: Sequence[int] | None = None,
    *,
    n_modes: int | None = None,
    discarded_energy: float | None = None,
) -> tuple[ReducedBasisModel, str]:
    """The Galerkin model on the POD of ``ds``'s snapshots, and the field's name."""
    if ds.operators is None:
        raise DatasetError(f"{ds.path}: has no operators; generate it with --operators for rb")
    name = rb_field(list(ds.fields.values()), str(ds.path))
    ids = ds.sample_ids() if ids is None else list(ids)
    if not ids:
        raise DatasetError(f"{ds.path}: no done samples to fit on")
    solver = dataset_solver(ds)
    affine = affine_of(solver)
    check_operators(ds, affine, ids[:1] + ids[-1:])
    model = empty_model(solver, ds.space)
    snapshots = ds.field(name, ids)[:, affine.free]
    modes, _ = pod_basis(snapshots, model.product, n_modes, discarded_energy)
    model.extend(modes.T)
    return model, name
