"""The Galerkin reduced model of a linear parabolic problem, with its trajectory error bound.

The high-fidelity scheme (:class:`~nirom.solvers.operators.TransientDecomposition`)
takes substeps ``j = 1..J``: with ``A = A(mu)``, ``f = sum_p phi_p(mu) w_jp f_p``,

    M (u_j - u_(j-1)) / tau_j + A u_j^theta = f_j,
    u_j^theta = theta_j u_j + (1 - theta_j) u_(j-1),

backward Euler for ``theta_j = 1`` (the Rannacher start-up half-steps) and
Crank-Nicolson for ``theta_j = 1/2``. The reduced model takes exactly the same
substeps in the span of an X-orthonormal basis ``V`` (Galerkin: ``V^T M V``,
``V^T A_q V``, ``V^T f_p``), from ``u_N,0 = V V^T X u_0``.

Error bound (a rigorous bound for this scheme). Let ``e_j = u_j - u_N,j`` and
``r_j(v) = f_j(v) - m((u_N,j - u_N,(j-1)) / tau_j, v) - a(u_N,j^theta, v)`` the
residual of substep ``j``. Subtracting, ``m((e_j - e_(j-1)) / tau_j, v) +
a(e_j^theta, v) = r_j(v)`` for all ``v``. Take ``v = e_j^theta``: for
``theta_j >= 1/2``,

    m(e_j - e_(j-1), e_j^theta) = (|e_j|^2 - |e_(j-1)|^2) / 2 + (theta_j - 1/2) |e_j - e_(j-1)|^2
                                >= (|e_j|^2 - |e_(j-1)|^2) / 2

(``|.|``: the M norm, the L2 norm of the field). With ``a(v, v) >= alpha
||v||_X^2`` (``alpha``: the min-theta lower bound, :mod:`~nirom.reduced_basis.coercivity`)
and ``r_j(v) <= ||r_j||_X' ||v||_X``,

    |e_j|^2 - |e_(j-1)|^2 + 2 tau_j alpha ||e_j^theta||_X^2 <= 2 tau_j ||r_j||_X' ||e_j^theta||_X.

Bounding the right side by its maximum over ``||e_j^theta||_X`` gives
``|e_j|^2 <= |e_(j-1)|^2 + tau_j ||r_j||^2 / (2 alpha)``; by Young's inequality
``2 rho x <= rho^2 / alpha + alpha x^2`` instead, ``|e_j|^2 - |e_(j-1)|^2 +
tau_j alpha ||e_j^theta||_X^2 <= tau_j ||r_j||^2 / alpha``. Summed over substeps:

- L2 at every substep (so at every output time and at the final time):
  ``|e_j| <= Delta_j = (|e_0|^2 + sum_(i<=j) tau_i ||r_i||_X'^2 / (2 alpha))^(1/2)``;
- energy norm, L2 in time: ``(sum_j tau_j ||e_j^theta||_X^2)^(1/2) <=
  ((|e_0|^2 + sum_j tau_j ||r_j||_X'^2 / alpha) / alpha)^(1/2)``, with
  ``e_j^theta`` the error at the scheme's evaluation point of the operator
  (the mid-step mean for Crank-Nicolson).

``|e_0|`` is the initial projection error (mu-independent, computed offline).
The field's error vanishes on the Dirichlet nodes, so ``|e_j|`` is the
finite-element L2 norm of the whole field's error. The dual norms come from
the Riesz representers of the functionals ``f_p``, ``M v_i``, ``A_q v_i``,
orthonormalized in X (:class:`~nirom.reduced_basis.residual.RieszResidual`:
no cancellation), so online a substep's ``||r_j||_X'`` is one small product;
up to round-off (about 1e-10 of the functionals' norms) the bounds hold for
every ``mu``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from nirom.dataset.operators import unknowns_to_nodes
from nirom.errors import ModelError
from nirom.reduced_basis.coercivity import min_theta
from nirom.reduced_basis.galerkin import GalerkinModel, energy_product
from nirom.reduced_basis.model import linear_map
from nirom.reduced_basis.residual import RieszResidual, leading_block
from nirom.saving import saveable
from nirom.solvers.operators import TransientDecomposition


@saveable("reduced-model", "transient-galerkin")
class TransientRBModel(GalerkinModel):
    """Galerkin reduced model of a linear parabolic problem, certified over the trajectory.

    Build with :meth:`build`, grow with :meth:`extend`; :meth:`solve`,
    :meth:`bound`, :meth:`outputs` are the online stage (parameters in
    physical units, shape (n, dim), columns ``names``).
    """

    _caches = ("_blocks", "_symmetric_sizes", "_inverse_factors")

    def __init__(
        self,
        names: Sequence[str],
        coefficient_map: np.ndarray,
        n_matrix_terms: int,
        theta_ref: np.ndarray,
        free: np.ndarray,
        dirichlet: np.ndarray,
        step_sizes: np.ndarray,
        step_thetas: np.ndarray,
        load_weights: np.ndarray,
        output_steps: np.ndarray,
    ) -> None:
        super().__init__(names, coefficient_map, n_matrix_terms, theta_ref, free, dirichlet)
        self.step_sizes = np.asarray(step_sizes, dtype=float)
        self.step_thetas = np.asarray(step_thetas, dtype=float)
        self.load_weights = np.asarray(load_weights, dtype=float)
        self.output_steps = np.asarray(output_steps, dtype=np.int64)
        if np.any(self.step_thetas < 0.5) or np.any(self.step_thetas > 1.0):
            raise ModelError("transient reduced basis: step weights theta must lie in [1/2, 1]")
        self.reduced_mass = np.zeros((0, 0))
        self.initial_coefficients = np.zeros(0)
        self.initial_error = 0.0

    # -- offline ---------------------------------------------------------------------
    @classmethod
    def build(
        cls, problem: TransientDecomposition, names: Sequence[str], theta_ref: np.ndarray
    ) -> TransientRBModel:
        """An empty model of ``problem``, the energy product ``X = sum theta_ref_q A_q``."""
        affine = problem.affine
        theta_ref = np.asarray(theta_ref, dtype=float)
        min_theta(theta_ref[None], theta_ref)  # the coefficients must be positive
        product = energy_product(affine.matrices, theta_ref)
        coefficient_map = linear_map(affine.matrix_coefficients + affine.vector_coefficients, names)
        model = cls(
            names,
            coefficient_map,
            len(affine.matrices),
            theta_ref,
            affine.free,
            affine.dirichlet,
            problem.step_sizes,
            problem.step_thetas,
            problem.load_weights,
            problem.output_steps,
        )
        mass = sp.csr_matrix(problem.mass)
        initial = np.asarray(problem.initial, dtype=float)
        model._offline = {
            "problem": problem,
            "product": product,
            "mass": mass,
            "initial": initial,
            # Residual functionals: the loads f_p, then per basis vector M v, A_q v.
            "residual": RieszResidual(product, affine.vectors, [mass, *affine.matrices]),
        }
        model.initial_error = float(np.sqrt(max(initial @ (mass @ initial), 0.0)))
        return model

    def _project(self, offline: dict[str, Any]) -> None:
        v, affine = self.basis, offline["problem"].affine
        mass, initial = offline["mass"], offline["initial"]
        self.reduced_mass = v.T @ (mass @ v)
        self.reduced_matrices = np.stack([v.T @ (a @ v) for a in affine.matrices])
        self.reduced_vectors = np.stack([v.T @ f for f in affine.vectors])
        self.initial_coefficients = v.T @ (offline["product"] @ initial)
        e0 = initial - v @ self.initial_coefficients
        self.initial_error = float(np.sqrt(max(e0 @ (mass @ e0), 0.0)))

    # -- online ----------------------------------------------------------------------
    @property
    def n_steps(self) -> int:
        """Substeps J of the scheme."""
        return int(self.step_sizes.size)

    def solve(self, x: np.ndarray, size: int | None = None) -> np.ndarray:
        """Reduced coordinates at every substep (n, J + 1, r) at ``x`` (n, dim), with the
        first ``size`` basis vectors (default all).

        Symmetric reduced terms (the heat equation's): in the eigenvectors of
        ``A_N z = lambda M_N z`` every substep is diagonal, ``y_j = b_j y_(j-1) +
        h_j`` with ``b = (1 - (1 - theta) tau lambda) / (1 + theta tau lambda)``, and a
        run of equal substeps has the closed form ``y = y_s + b^m (y_0 - y_s)``
        (``y_s = f / lambda``, its steady state): the same scheme, no loop over time.
        Otherwise the substeps are taken one by one with the r x r propagators.
        """
        r = self.n_basis if size is None else int(size)
        if r == 0:
            raise ModelError("the reduced basis is empty")
        x = np.atleast_2d(np.asarray(x, dtype=float))
        theta, phi = self.coefficients(x)
        stiffness = np.einsum("nq,qij->nij", theta, self.reduced_matrices[:, :r, :r])
        c = self._solve_modal(stiffness, phi, r) if self._symmetric(r) else None
        if c is None:
            c = self._solve_stepping(stiffness, phi, r)
        if not np.isfinite(c).all():
            bad = int(np.flatnonzero(~np.isfinite(c).all(axis=(1, 2)))[0])
            raise ModelError(f"the reduced time stepping diverged at parameters {x[bad].tolist()}")
        return c

    def _symmetric(self, r: int) -> bool:
        """Whether the reduced mass and operator terms of size ``r`` are symmetric (cached)."""
        cache = self.__dict__.setdefault("_symmetric_sizes", {})
        if r not in cache:
            terms = np.concatenate(
                [self.reduced_mass[None, :r, :r], self.reduced_matrices[:, :r, :r]]
            )
            scale = np.abs(terms).max(axis=(1, 2), keepdims=True)
            gap = np.abs(terms - terms.transpose(0, 2, 1)) / np.maximum(scale, 1e-300)
            cache[r] = bool(gap.max() <= 1e-10)
        return cache[r]

    def _runs(self) -> list[tuple[int, int, float, float, np.ndarray]]:
        """Runs of equal consecutive substeps: (first, length, tau, theta, load weights)."""
        if "_run_list" not in self.__dict__:
            runs: list[tuple[int, int, float, float, np.ndarray]] = []
            for j in range(self.n_steps):
                key = (self.step_sizes[j], self.step_thetas[j], self.load_weights[j])
                last = runs[-1] if runs else None
                if (
                    last is not None
                    and (last[2], last[3]) == key[:2]
                    and np.array_equal(last[4], key[2])
                ):
                    runs[-1] = (last[0], last[1] + 1, *last[2:])
                else:
                    runs.append((j, 1, float(key[0]), float(key[1]), key[2]))
            self._run_list = runs
        return self._run_list

    def _solve_modal(self, stiffness: np.ndarray, phi: np.ndarray, r: int) -> np.ndarray | None:
        """The scheme in the generalized eigenvectors (symmetric terms); None if some
        eigenvalue is not positive (no coercivity: the substeps are then taken one by one)."""
        mass = self.reduced_mass[:r, :r]
        cache = self.__dict__.setdefault("_inverse_factors", {})
        if r not in cache:
            try:  # M_N = L L^T, the same for every mu
                cache[r] = np.linalg.inv(np.linalg.cholesky(mass))
            except np.linalg.LinAlgError:
                cache[r] = None
        inv_l = cache[r]
        if inv_l is None:
            return None
        lam, w = np.linalg.eigh(inv_l @ stiffness @ inv_l.T)  # batched
        if not np.all(lam > 0):
            return None
        z = inv_l.T @ w  # (n, r, r): Z^T M Z = I, Z^T A Z = diag(lam)
        zt = z.transpose(0, 2, 1)
        n = len(stiffness)
        y = np.empty((n, self.n_steps + 1, r))
        y[:, 0] = zt @ (mass @ self.initial_coefficients[:r])
        modal_loads = np.einsum("pi,nik->npk", self.reduced_vectors[:, :r], z)  # (n, P, r)
        for first, length, tau, th, weights in self._runs():
            b = (1.0 - (1.0 - th) * tau * lam) / (1.0 + th * tau * lam)  # (n, r)
            steady = np.einsum("np,npk->nk", phi * weights, modal_loads) / lam
            powers = b[:, None, :] ** np.arange(1, length + 1)[None, :, None]
            start = y[:, first] - steady
            y[:, first + 1 : first + length + 1] = steady[:, None] + powers * start[:, None]
        return y @ zt

    def _solve_stepping(self, stiffness: np.ndarray, phi: np.ndarray, r: int) -> np.ndarray:
        """The substeps one by one with the r x r propagators (any reduced terms)."""
        n = len(stiffness)
        mass = self.reduced_mass[:r, :r]
        loads = self.reduced_vectors[:, :r]  # (P, r)
        # One propagator per kind of substep (sizes and weights repeat: two kinds here).
        kinds = np.stack([self.step_sizes, self.step_thetas], axis=1)
        unique, which = np.unique(kinds, axis=0, return_inverse=True)
        steppers = []
        for tau, th in unique:
            left = mass + th * tau * stiffness
            right = mass - (1.0 - th) * tau * stiffness
            rhs = np.concatenate([right, np.broadcast_to(tau * loads.T, (n, r, len(loads)))], 2)
            try:
                steppers.append(np.linalg.solve(left, rhs))  # [B | G]: (n, r, r + P)
            except np.linalg.LinAlgError:
                raise ModelError(
                    f"the reduced time-step matrix is singular (substep {tau:g}, theta {th:g})"
                ) from None
        c = np.empty((n, self.n_steps + 1, r))
        c[:, 0] = self.initial_coefficients[:r]
        kind = which.ravel()
        # The load part of every substep at once: g_j = G_kind(j) (phi * w_j), (n, J, r).
        weights = phi[:, None, :] * self.load_weights[None]  # (n, J, P)
        g = np.empty((n, self.n_steps, r))
        for k, step in enumerate(steppers):
            at = kind == k
            g[:, at] = np.einsum("nip,njp->nji", step[:, :, r:], weights[:, at])
        propagators = [np.ascontiguousarray(step[:, :, :r]) for step in steppers]
        for j in range(self.n_steps):
            c[:, j + 1] = (propagators[kind[j]] @ c[:, j, :, None])[..., 0] + g[:, j]
        return c

    def residual_norms(self, x: np.ndarray, c: np.ndarray) -> np.ndarray:
        """``||r_j(mu)||_X'`` (n, J) of the reduced trajectories ``c`` (n, J + 1, r) at ``x``."""
        theta, phi = self.coefficients(x)
        n, r = len(c), c.shape[2]
        tau = self.step_sizes[None, :, None]
        th = self.step_thetas[None, :, None]
        rate = (c[:, 1:] - c[:, :-1]) / tau  # (n, J, r)
        mean = th * c[:, 1:] + (1.0 - th) * c[:, :-1]
        per_basis = np.concatenate(
            [rate[..., None], mean[..., None] * theta[:, None, None, :]], axis=3
        ).reshape(n, self.n_steps, -1)  # (j, i, q') ordered as the representers
        loads = phi[:, None, :] * self.load_weights[None]
        a = np.concatenate([loads, -per_basis], axis=2)
        block = self._residual_block(r)
        return np.linalg.norm(a @ block.T, axis=2)

    def bound(self, x: np.ndarray, c: np.ndarray) -> dict[str, np.ndarray]:
        """Error bounds of the reduced trajectories ``c`` (n, J + 1, r) at ``x`` (n, dim).

        Each entry is (n,) unless said: ``l2_steps`` (n, J + 1): ``Delta_j``, bound of
        the field's L2 error at every substep; ``l2_times`` (n, T): the same at the
        output times; ``l2``: bound of ``(sum_k ||e(t_k)||_L2^2)^(1/2)`` over the
        output times (the norm evaluation uses for time series); ``l2_final``: at the
        final time; ``energy``: of ``(sum_j tau_j ||e_j^theta||_X^2)^(1/2)``;
        ``norm``: ``(sum_k ||u_N(t_k)||_L2^2)^(1/2)``; ``relative``: bound of ``l2``
        relative to the true solution's norm (inf where ``l2 >= norm``);
        ``residual``: ``(sum_j tau_j ||r_j||_X'^2)^(1/2)``; ``alpha``: the
        coercivity lower bound (see the module's docstring).
        """
        theta, _ = self.coefficients(x)
        alpha = min_theta(theta, self.theta_ref)
        rho2 = self.residual_norms(x, c) ** 2 * self.step_sizes[None]  # tau_j ||r_j||^2
        e0 = self.initial_error**2
        cumulative = np.concatenate([np.zeros((len(c), 1)), np.cumsum(rho2, axis=1)], axis=1)
        steps = np.sqrt(e0 + cumulative / (2.0 * alpha[:, None]))
        times = steps[:, self.output_steps]
        l2 = np.sqrt(np.sum(times**2, axis=1))
        out_c, r = c[:, self.output_steps], c.shape[2]
        norm = np.sqrt(
            np.maximum(np.einsum("nti,ij,ntj->n", out_c, self.reduced_mass[:r, :r], out_c), 0)
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = np.where(norm > l2, l2 / np.maximum(norm - l2, 1e-300), np.inf)
            relative = np.where((l2 == 0.0) & (norm == 0.0), 0.0, relative)
        return {
            "l2": l2,
            "l2_final": steps[:, -1],
            "l2_steps": steps,
            "l2_times": times,
            "energy": np.sqrt((e0 + cumulative[:, -1] / alpha) / alpha),
            "norm": norm,
            "relative": relative,
            "residual": np.sqrt(cumulative[:, -1]),
            "alpha": alpha,
        }

    def _residual_block(self, size: int) -> np.ndarray:
        """The part of the residual matrix basis size ``size`` uses (cached per size)."""
        n_columns = (
            self.coefficient_map.shape[1] - self.n_matrix_terms + size * (self.n_matrix_terms + 1)
        )
        cache = self.__dict__.setdefault("_blocks", {})
        if size not in cache:
            cache[size] = leading_block(self.residual_T, n_columns)
        return cache[size]

    def outputs(self, c: np.ndarray) -> np.ndarray:
        """The field at the nodes at the output times (n, T, n_nodes), from ``c`` (n, J + 1, r)."""
        r = c.shape[2]
        if getattr(self, "_node_basis", np.empty((0, 0))).shape[1] != self.n_basis:
            self._node_basis = unknowns_to_nodes(self.basis.T, self.free, 0 * self.dirichlet).T
            self._lift = self.dirichlet.copy()
            self._lift[self.free] = 0.0
        return c[:, self.output_steps] @ self._node_basis[:, :r].T + self._lift

    # -- saving ------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "names": self.names,
            "n_matrix_terms": self.n_matrix_terms,
            "initial_error": self.initial_error,
        }

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {
            **self._shared_arrays(),
            "reduced_mass": self.reduced_mass,
            "initial_coefficients": self.initial_coefficients,
            "step_sizes": self.step_sizes,
            "step_thetas": self.step_thetas,
            "load_weights": self.load_weights,
            "output_steps": self.output_steps,
        }

    @classmethod
    def from_saved(
        cls, state: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
    ) -> TransientRBModel:
        try:
            model = cls(
                *cls._shared_args(state, arrays),
                arrays["step_sizes"],
                arrays["step_thetas"],
                arrays["load_weights"],
                arrays["output_steps"],
            )
            for key in (
                "basis",
                "reduced_mass",
                "reduced_matrices",
                "reduced_vectors",
                "initial_coefficients",
                "residual_T",
            ):
                setattr(model, key, np.asarray(arrays[key]))
            model.initial_error = float(state["initial_error"])
        except KeyError as exc:
            raise ModelError(f"transient reduced model: missing {exc}") from None
        return model

    def summary(self) -> str:
        q = self.n_matrix_terms
        p = self.coefficient_map.shape[1] - q
        return (
            f"{self.n_basis} basis functions, {q} operator and {p} load terms, "
            f"{self.n_steps} substeps"
        )
