"""POD-Galerkin from an existing dataset that stores its system matrices.

The snapshots of the dataset's field, restricted to the unknowns, give an
X-orthonormal POD basis; the operator terms come from the generating solver's
exact affine decomposition (rebuilt from the dataset's provenance), checked
against the matrices the dataset stores: a dataset whose matrices the
decomposition does not reproduce is refused, naming the sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from nirom.dataset import Dataset
from nirom.errors import DatasetError, ModelError
from nirom.reduced_basis.basis import pod_basis
from nirom.reduced_basis.eim import common_pattern, entries_on, interpolate
from nirom.reduced_basis.model import ReducedBasisModel, smallest_eigenvalue
from nirom.reduced_basis.problem import (
    affine_of,
    empty_model,
    rb_field,
    snapshot_values,
    value_mass,
)
from nirom.solvers import Solver, recorded_solver
from nirom.solvers.operators import AffineDecomposition, LinearSystem

#: Relative Frobenius-norm difference allowed between a stored matrix and the
#: decomposition's at the same parameters (round-off of assembly and storage).
MATRIX_TOLERANCE = 1e-10
#: Interpolated terms smaller than this fraction of the largest are dropped (zero).
NEGLIGIBLE = 1e-10
#: A term is accepted as positive semidefinite when no generalized eigenvalue
#: (in the energy product at the centre) lies below minus this.
PSD_TOLERANCE = 1e-9


def dataset_solver(ds: Dataset) -> Solver:
    """The solver that generated ``ds`` (from its provenance), or a ModelError."""
    try:
        return recorded_solver(ds, "rebuilding the operators")
    except DatasetError as exc:
        raise ModelError(str(exc)) from None


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
) -> tuple[ReducedBasisModel, dict[str, Any]]:
    """An empty model whose operator is interpolated from the stored matrices (no solver).

    The interpolant ``sum_m beta_m(mu) B_m`` with ``beta = [mu, 1] @ W`` is
    affine in ``[mu, 1]``: its terms ``R_j = sum_m W_jm B_m`` (negligible ones
    dropped) are the operator's terms, one per parameter plus a constant.
    When every kept ``R_j`` is positive semidefinite (no generalized eigenvalue
    in the energy product below -1e-9, by inertia) and every parameter it multiplies has a
    positive range, min-theta applies and the model is certified; otherwise its
    bound is NaN. The interpolation error is added to the bound as the model's
    ``interpolation_errors`` (:func:`interpolation_errors`: measured at the
    sampled systems, an estimate elsewhere; :mod:`nirom.reduced_basis.model`).
    """
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
    names = [*ds.space.scalar_names, None]
    reach = np.append(np.abs(x).max(axis=0), 1.0)  # largest |value| of each [mu, 1] entry
    matrix_terms, matrix_names = _parameter_terms(
        matrix.coefficient_map @ matrix.terms, names, reach
    )
    rhs_terms, rhs_names = _parameter_terms(rhs.coefficient_map @ rhs.terms, names, reach)
    matrices = [
        sp.csr_matrix((term, pattern.indices, pattern.indptr), shape=pattern.shape)
        for term in matrix_terms
    ]
    free, dirichlet = ds.operator_layout()
    affine = AffineDecomposition(matrices, matrix_names, rhs_terms, rhs_names, free, dirichlet)
    centre = ds.space.from_unit(np.full((1, ds.space.dim), 0.5))
    theta_ref = affine.matrix_thetas(centre, ds.space.scalar_names)[0]
    positive = all(name is None or ds.space[name].low > 0 for name in matrix_names) and np.all(
        theta_ref > 0
    )
    mass = None
    if ds.mesh is not None:
        mass = value_mass(ds.mesh.mass_matrix(), dirichlet.size)[free][:, free]
    product = sp.csr_matrix(sum(t * a for t, a in zip(theta_ref, matrices, strict=True)))
    shift = PSD_TOLERANCE
    negative = [negative_eigenvalues(a, product, shift) for a in matrices] if positive else []
    certified = positive and not any(negative)
    model = ReducedBasisModel.build(
        affine,
        ds.space.scalar_names,
        theta_ref,
        mass=mass,
        certified=certified,
        interpolated=True,
    )
    model.interpolation_errors = interpolation_errors(
        model, affine, systems, pattern, x, ds.space.scalar_names
    )
    info = {
        "matrix_terms": len(matrix.terms),
        "matrix_error": matrix.max_error,
        "interpolation_errors": model.interpolation_errors,
        "rhs_terms": len(rhs.terms),
        "rhs_error": rhs.max_error,
        "negative_term_eigenvalues": negative,
        "certified": certified,
    }
    return model, info


def interpolation_errors(
    model: ReducedBasisModel,
    affine: AffineDecomposition,
    systems: Sequence[LinearSystem],
    pattern: sp.csr_matrix,
    x: np.ndarray,
    names: Sequence[str],
) -> tuple[float, float]:
    """``(rho_A, rho_f)``: the interpolant's largest relative errors at the sampled systems.

    At sample ``i``, ``E_i = A_i - A~(mu_i)`` and ``g_i = f_i - f~(mu_i)`` (the
    interpolant as the model uses it, negligible terms dropped). ``||g_i||_X'``
    is computed exactly (one solve with X); ``||E_i||_{X->X'}`` is bounded by
    ``sqrt(||E_i||_1 ||E_i||_inf) / lambda_min(X)`` (``lambda_min``: the smallest
    eigenvalue of X), an upper bound with no eigensolve per sample. Relative to
    ``gamma_i = max_q theta_q(mu_i) / theta_q(mu_ref)`` and ``||f~(mu_i)||_X'``
    (see :mod:`nirom.reduced_basis.model`).
    """
    product = model.product
    n = product.shape[0]
    lambda_x = smallest_eigenvalue(product, sp.identity(n, format="csr"))
    lu = spla.splu(sp.csc_matrix(product))
    gamma = np.max(affine.matrix_thetas(x, names) / model.theta_ref, axis=1)
    rows = np.repeat(np.arange(n), np.diff(pattern.indptr))
    rho_a, g, f_tilde = 0.0, [], []
    for k, system in enumerate(systems):
        mu = dict(zip(names, x[k], strict=True))
        fitted = affine.system(mu)
        e = np.abs(entries_on(pattern, system.matrix) - entries_on(pattern, fitted.matrix))
        norm_inf = np.bincount(rows, weights=e, minlength=n).max()
        norm_1 = np.bincount(pattern.indices, weights=e, minlength=n).max()
        rho_a = max(rho_a, float(np.sqrt(norm_1 * norm_inf)) / lambda_x / gamma[k])
        g.append(system.rhs - fitted.rhs)
        f_tilde.append(fitted.rhs)

    def dual(vectors: list[np.ndarray]) -> np.ndarray:  # ||v||_X' = sqrt(v^T X^-1 v), each
        v = np.array(vectors).T
        return np.sqrt(np.maximum(np.einsum("ij,ij->j", v, lu.solve(v)), 0.0))

    dual_g, dual_f = dual(g), dual(f_tilde)
    rho_f = float(np.max(dual_g / np.maximum(dual_f, np.finfo(float).tiny)))
    return rho_a, rho_f


def _parameter_terms(
    terms: np.ndarray, names: list[str | None], reach: np.ndarray
) -> tuple[list[np.ndarray], list[str | None]]:
    """The terms (rows, one per ``[mu, 1]`` entry) that are not negligible, and their names.

    A term's size is its largest entry times the largest value its coefficient
    took (``reach``), so parameters in Pa and the constant 1 compare.
    """
    size = np.abs(terms).max(axis=1) * reach
    keep = np.flatnonzero(size > NEGLIGIBLE * size.max())
    return [terms[k] for k in keep], [names[k] for k in keep]


def negative_eigenvalues(term: sp.spmatrix, product: sp.spmatrix, shift: float) -> int:
    """How many eigenvalues of ``term v = lambda X v`` lie below ``-shift`` (X SPD).

    Sylvester's law of inertia: the count of negative pivots of a symmetric
    factorization of ``term + shift X`` (SuperLU with diagonal pivots in a
    symmetric ordering, so ``U = D L^T``); one factorization, no eigensolver.
    A zero pivot counts as negative.
    """
    a = sp.csc_matrix(0.5 * (term + term.T) + shift * product)
    if a.shape[0] <= 400:
        return int(np.count_nonzero(np.linalg.eigvalsh(a.toarray()) <= 0.0))
    try:
        lu = spla.splu(
            a, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True}
        )
    except RuntimeError:  # exactly singular
        return 1
    return int(np.count_nonzero(lu.U.diagonal() <= 0.0))


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
    stored matrices alone: :mod:`nirom.reduced_basis.eim`; certified by
    min-theta when the interpolant's terms allow it, see :func:`interpolated_model`).
    """
    if ds.operators is None:
        raise DatasetError(f"{ds.path}: has no operators; generate it with --operators for rb")
    name = rb_field(list(ds.fields.values()), str(ds.path)).name
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
    snapshots = snapshot_values(ds.field(name, ids), model.dirichlet.size, str(ds.path))
    snapshots = snapshots[:, model.free]
    modes, _ = pod_basis(snapshots, model.product, n_modes, discarded_energy)
    model.extend(modes.T)
    return model, name
