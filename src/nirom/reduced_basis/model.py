"""The Galerkin reduced model with its a-posteriori error bound.

Offline, for an X-orthonormal basis ``V`` (N, r) of the unknowns, the reduced
terms ``V^T A_q V`` (Q, r, r) and ``V^T f_p`` (P, r) and the residual data of
:mod:`nirom.reduced_basis.residual` are precomputed. Online, for parameters
``mu``: assemble ``sum_q theta_q(mu) V^T A_q V``, solve the r x r system,
bound the error, and (if asked) reconstruct the field at the mesh nodes.

The bound: ``||u(mu) - V c(mu)||_X <= ||r(mu)||_{X'} / alpha_LB(mu)``
(``alpha_LB``: :mod:`nirom.reduced_basis.coercivity`), and in the L2 norm of
the field ``||e||_L2 <= ||e||_X / sqrt(lambda_min)`` where ``lambda_min`` is the
smallest eigenvalue of ``X v = lambda M v`` (M: the P1 mass matrix on the
unknowns, computed once). Both hold for every ``mu``, up to round-off in
the residual norm (about machine precision times ``||f||``).

Interpolated operators (``A~``, ``f~`` from :mod:`nirom.reduced_basis.eim`):
the true system is ``A = A~ + E``, ``f = f~ + g``, and with
``d_A >= ||E||_{X->X'}``, ``d_f >= ||g||_{X'}``

    ||u - u_N||_X <= (||r~(mu)||_{X'} + d_f + d_A ||u_N||_X) / (alpha_LB(mu) - d_A)

(``r~``: the residual with the interpolated system; infinite where
``alpha_LB <= d_A``). ``d_A`` and ``d_f`` are known at the sampled parameters
only; the model keeps the largest relative values seen there,
``rho_A = max_i ||E_i|| / gamma_i`` (``gamma = max_q theta_q / theta_q(mu_ref)``,
an upper bound of ``||A~||_{X->X'}`` for positive semidefinite terms) and
``rho_f = max_i ||g_i||_{X'} / ||f~_i||_{X'}``, and uses
``d_A(mu) = rho_A gamma(mu)``, ``d_f(mu) = rho_f ||f~(mu)||_{X'}``: an estimate
away from the samples (exact for affine families, where ``E`` and ``g`` are
round-off), not a guarantee. See :func:`nirom.reduced_basis.pod_galerkin.interpolated_model`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from nirom.dataset.operators import unknowns_to_nodes
from nirom.errors import ModelError
from nirom.reduced_basis.coercivity import min_theta
from nirom.reduced_basis.galerkin import GalerkinModel, energy_product
from nirom.reduced_basis.residual import RieszResidual, dual_norms, leading_block
from nirom.saving import saveable
from nirom.solvers.operators import AffineDecomposition, coefficient_values


@saveable("reduced-model", "galerkin")
class ReducedBasisModel(GalerkinModel):
    """Galerkin reduced model of an affine linear system, certified by a residual bound.

    Build with :meth:`build`, grow with :meth:`extend`; ``solve``, ``bound``,
    ``reconstruct`` are the online stage (parameters in physical units,
    shape (n, dim), columns ``names``).
    """

    def __init__(
        self,
        names: Sequence[str],
        coefficient_map: np.ndarray,
        n_matrix_terms: int,
        theta_ref: np.ndarray,
        free: np.ndarray,
        dirichlet: np.ndarray,
        lambda_min: float,
        certified: bool = True,
        interpolated: bool = False,
        interpolation_errors: Sequence[float] = (0.0, 0.0),
    ) -> None:
        super().__init__(names, coefficient_map, n_matrix_terms, theta_ref, free, dirichlet)
        self.lambda_min = float(lambda_min)
        self.certified = bool(certified)
        self.interpolated = bool(interpolated)
        #: ``(rho_A, rho_f)``: relative interpolation errors of the operator and the load
        #: (see the module's docstring); zero for exact decompositions.
        self.interpolation_errors = (float(interpolation_errors[0]), float(interpolation_errors[1]))

    # -- offline ---------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        affine: AffineDecomposition,
        names: Sequence[str],
        theta_ref: np.ndarray,
        mass: sp.spmatrix | None = None,
        coefficient_map: np.ndarray | None = None,
        certified: bool | None = None,
        interpolated: bool = False,
    ) -> ReducedBasisModel:
        """An empty model of ``affine``, with the energy product at ``theta_ref`` (Q,).

        ``mass`` (N, N): the L2 mass matrix on the unknowns, for bounds in the
        L2 norm of the field (None: energy-norm bounds only).
        ``coefficient_map`` (dim + 1, Q + P): coefficients ``[x, 1] @ map``
        instead of the decomposition's named ones (empirical interpolation);
        such a model has no min-theta coercivity bound (``certified`` False).
        ``certified``: whether min-theta applies (default: named coefficients);
        ``interpolated``: the terms come from empirical interpolation.
        """
        theta_ref = np.asarray(theta_ref, dtype=float)
        product = energy_product(affine.matrices, theta_ref)
        lambda_min = np.nan if mass is None else smallest_eigenvalue(product, mass)
        if certified is None:
            certified = coefficient_map is None
        if coefficient_map is None:
            coefficient_map = linear_map(
                affine.matrix_coefficients + affine.vector_coefficients, names
            )
        model = cls(
            names,
            coefficient_map,
            len(affine.matrices),
            theta_ref,
            affine.free,
            affine.dirichlet,
            lambda_min,
            certified,
            interpolated,
        )
        model._offline = {
            "affine": affine,
            "product": product,
            "residual": RieszResidual(product, affine.vectors, affine.matrices),
        }
        if certified:
            min_theta(theta_ref[None], theta_ref)  # the coefficients must be positive
        return model

    def _project(self, offline: dict[str, Any]) -> None:
        v, affine = self.basis, offline["affine"]
        self.reduced_matrices = np.stack([v.T @ (a @ v) for a in affine.matrices])
        self.reduced_vectors = np.stack([v.T @ f for f in affine.vectors])

    # -- online ----------------------------------------------------------------------
    def solve(self, x: np.ndarray, size: int | None = None) -> np.ndarray:
        """Reduced coordinates (n, r) at ``x`` (n, dim), with the first ``size`` basis vectors."""
        r = self.n_basis if size is None else int(size)
        x = np.atleast_2d(np.asarray(x, dtype=float))
        if r == 0:
            raise ModelError("the reduced basis is empty")
        theta, phi = self.coefficients(x)
        terms = self.reduced_matrices[:, :r, :r].reshape(len(theta[0]), r * r)
        matrices = (theta @ terms).reshape(len(theta), r, r)
        rhs = phi @ self.reduced_vectors[:, :r]
        try:
            c = np.linalg.solve(matrices, rhs[..., None])[..., 0]
        except np.linalg.LinAlgError:  # find the parameters at fault
            c = np.full(rhs.shape, np.nan)
            for k in range(len(c)):
                try:
                    c[k] = np.linalg.solve(matrices[k], rhs[k])
                except np.linalg.LinAlgError:
                    break
        if not np.isfinite(c).all():
            bad = int(np.flatnonzero(~np.isfinite(c).all(axis=1))[0])
            raise ModelError(f"the reduced system is singular at parameters {x[bad].tolist()}")
        return c

    def bound(self, x: np.ndarray, c: np.ndarray) -> dict[str, np.ndarray]:
        """Error bounds (each (n,)) of the reduced solutions ``c`` (n, r) at ``x``.

        ``residual``: dual norm of the residual; ``alpha``: coercivity lower
        bound; ``energy``: bound of ``||u - u_N||_X``; ``norm``: ``||u_N||_X``;
        ``relative``: bound of ``||u - u_N||_X / ||u||_X`` (inf where the bound
        reaches ``||u_N||_X``); ``l2``: bound of the L2 norm of the error;
        ``interpolation``: the (estimated) interpolation term ``d_f + d_A ||u_N||_X``
        added to the residual (zero for exact decompositions).
        """
        theta, phi = self.coefficients(x)
        block = self._residual_block(c.shape[1])
        residual = dual_norms(block, phi, theta, c)
        # No coercivity lower bound for uncertified interpolated operators: NaN.
        alpha = min_theta(theta, self.theta_ref) if self.certified else np.full(len(c), np.nan)
        norm = np.linalg.norm(c, axis=1)  # V is X-orthonormal
        rho_a, rho_f = self.interpolation_errors
        interpolation = np.zeros(len(c))
        if rho_a or rho_f:
            d_a = rho_a * np.max(theta / self.theta_ref, axis=1)
            d_f = rho_f * dual_norms(block, phi, theta, np.zeros_like(c))  # ||f~||_X'
            interpolation = d_f + d_a * norm
            alpha = alpha - d_a
            alpha[alpha <= 0.0] = 0.0  # no coercivity left: the bound is infinite (NaN stays)
        with np.errstate(divide="ignore"):
            energy = (residual + interpolation) / alpha
            relative = np.where(norm > energy, energy / np.maximum(norm - energy, 1e-300), np.inf)
        return {
            "residual": residual,
            "alpha": alpha,
            "energy": energy,
            "norm": norm,
            "relative": relative,
            "l2": energy / np.sqrt(self.lambda_min),
            "interpolation": interpolation,
        }

    def _residual_block(self, size: int) -> np.ndarray:
        """The part of the residual matrix basis size ``size`` uses (cached per size)."""
        n_columns = self.coefficient_map.shape[1] - self.n_matrix_terms * (1 - size)
        key = (size, self.residual_T.shape)
        cache = self.__dict__.setdefault("_blocks", {})
        if key not in cache:
            cache[key] = leading_block(self.residual_T, n_columns)
        return cache[key]

    def unknowns(self, c: np.ndarray) -> np.ndarray:
        """The reduced solutions on the unknowns: (n, N)."""
        return c @ self.basis[:, : c.shape[1]].T

    def reconstruct(self, c: np.ndarray) -> np.ndarray:
        """Field values at the mesh nodes (n, n_nodes), Dirichlet values included."""
        r = c.shape[1]
        if getattr(self, "_node_basis", np.empty((0, 0))).shape[1] != self.n_basis:
            self._node_basis = unknowns_to_nodes(self.basis.T, self.free, 0 * self.dirichlet).T
            self._lift = self.dirichlet.copy()
            self._lift[self.free] = 0.0
        return (self._node_basis[:, :r] @ c.T).T + self._lift

    # -- saving ------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "names": self.names,
            "n_matrix_terms": self.n_matrix_terms,
            "lambda_min": self.lambda_min,
            "certified": self.certified,
            "interpolated": self.interpolated,
            "interpolation_errors": list(self.interpolation_errors),
        }

    def to_arrays(self) -> dict[str, np.ndarray]:
        return self._shared_arrays()

    @classmethod
    def from_saved(
        cls, state: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
    ) -> ReducedBasisModel:
        try:
            model = cls(
                *cls._shared_args(state, arrays),
                state["lambda_min"],
                state["certified"],
                state.get("interpolated", False),
                state.get("interpolation_errors", (0.0, 0.0)),
            )
            model.basis = np.asarray(arrays["basis"])
            model.reduced_matrices = np.asarray(arrays["reduced_matrices"])
            model.reduced_vectors = np.asarray(arrays["reduced_vectors"])
            model.residual_T = np.asarray(arrays["residual_T"])
        except KeyError as exc:
            raise ModelError(f"reduced model: missing {exc}") from None
        return model

    def summary(self) -> str:
        q = self.n_matrix_terms
        p = self.coefficient_map.shape[1] - q
        how = " (interpolated)" if self.interpolated else ""
        return f"{self.n_basis} basis functions, {q} operator{how} and {p} load terms"


def linear_map(coefficients: Sequence[str | None], names: Sequence[str]) -> np.ndarray:
    """The (dim + 1, K) matrix with ``[x, 1] @ map`` = the named coefficients' values."""
    dim = len(names)
    coefficient_values(coefficients, np.zeros((1, dim)), names)  # an unknown name raises
    out = np.zeros((dim + 1, len(coefficients)))
    for k, c in enumerate(coefficients):
        out[dim if c is None else list(names).index(c), k] = 1.0
    return out


def smallest_eigenvalue(product: sp.spmatrix, mass: sp.spmatrix) -> float:
    """Smallest eigenvalue of ``product v = lambda mass v`` (both SPD), by shift-invert."""
    n = product.shape[0]
    if n <= 200:
        import scipy.linalg as sla

        return float(sla.eigh(product.toarray(), mass.toarray(), eigvals_only=True)[0])
    values = spla.eigsh(sp.csc_matrix(product), k=1, M=sp.csc_matrix(mass), sigma=0.0)[0]
    return float(values[0])
