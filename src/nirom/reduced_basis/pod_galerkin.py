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
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from nirom.dataset import Dataset
from nirom.errors import DatasetError, ModelError
from nirom.reduced_basis.basis import pod_basis
from nirom.reduced_basis.eim import common_pattern, entries_on, interpolate
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


def interpolated_model(
    ds: Dataset, ids: Sequence[int], max_terms: int | None, tolerance: float
) -> tuple[ReducedBasisModel, dict[str, float]]:
    """An empty model whose operator is interpolated from the stored matrices (no solver)."""
    systems = [ds.system(i) for i in ids]
    pattern = common_pattern([s.matrix for s in systems])
    x = ds.parameters(ids)
    matrix = interpolate(
        np.stack([entries_on(pattern, s.matrix) for s in systems]),
        x,
        max_terms=max_terms,
        tolerance=tolerance,
    )
    rhs = interpolate(np.stack([s.rhs for s in systems]), x, tolerance=tolerance)
    matrices = [
        sp.csr_matrix((term, pattern.indices, pattern.indptr), shape=pattern.shape)
        for term in matrix.terms
    ]
    free, dirichlet = ds.operator_layout()
    affine = AffineDecomposition(
        matrices, [None] * len(matrices), list(rhs.terms), [None] * len(rhs.terms), free, dirichlet
    )
    coefficient_map = np.hstack([matrix.coefficient_map, rhs.coefficient_map])
    centre = ds.space.from_unit(np.full((1, ds.space.dim), 0.5))
    theta_ref = (np.hstack([centre, [[1.0]]]) @ matrix.coefficient_map)[0]
    mass = None
    if ds.mesh is not None:
        mass = ds.mesh.mass_matrix().tocsr()[free][:, free]
    model = ReducedBasisModel.build(
        affine, ds.space.scalar_names, theta_ref, mass=mass, coefficient_map=coefficient_map
    )
    info = {
        "matrix_terms": len(matrices),
        "matrix_error": matrix.max_error,
        "rhs_terms": len(rhs.terms),
        "rhs_error": rhs.max_error,
    }
    return model, info


def pod_galerkin(
    ds: Dataset,
    ids: Sequence[int] | None = None,
    *,
    n_modes: int | None = None,
    discarded_energy: float | None = None,
    operator: str = "affine",
    eim_terms: int | None = None,
    eim_tolerance: float = 1e-10,
) -> tuple[ReducedBasisModel, str]:
    """The Galerkin model on the POD of ``ds``'s snapshots, and the field's name.

    ``operator``: "affine" (the generating solver's exact decomposition,
    checked against the stored matrices) or "eim" (interpolated from the
    stored matrices alone: :mod:`nirom.reduced_basis.eim`; no coercivity
    bound, so the bound is NaN and only the residual is reported).
    """
    if ds.operators is None:
        raise DatasetError(f"{ds.path}: has no operators; generate it with --operators for rb")
    name = rb_field(list(ds.fields.values()), str(ds.path))
    ids = ds.sample_ids() if ids is None else list(ids)
    if not ids:
        raise DatasetError(f"{ds.path}: no done samples to fit on")
    if operator == "eim":
        model, _ = interpolated_model(ds, ids, eim_terms, eim_tolerance)
    elif operator == "affine":
        solver = dataset_solver(ds)
        affine = affine_of(solver)
        check_operators(ds, affine, ids[:1] + ids[-1:])
        model = empty_model(solver, ds.space)
    else:
        raise ModelError(f"unknown operator source {operator!r}; choose 'affine' or 'eim'")
    snapshots = ds.field(name, ids)[:, model.free]
    modes, _ = pod_basis(snapshots, model.product, n_modes, discarded_energy)
    model.extend(modes.T)
    return model, name
