"""A linear solver's algebraic system: the matrix and right-hand side it solves, and how
its unknowns sit on the mesh.

A linear stationary solver solves ``A(mu) x = f(mu)`` for the unknowns ``x``
(the degrees of freedom left free by the Dirichlet conditions); the field at
the mesh nodes is then ``u = dirichlet`` with ``u[free] = x``. Two records:

- :class:`~nirom.dataset.operators.LinearSystem`: ``A(mu)`` (CSR, n x n), ``f(mu)`` (n,) for one
  parameter set, what ``nirom generate --operators`` stores per sample;
- :class:`TransientDecomposition`: a linear parabolic problem ``M du/dt + A(mu) u = f(mu, t)``
  (an affine decomposition, the mass matrix, the initial state) and the substeps of its
  time scheme, for time-dependent reduced bases;
- :class:`AffineDecomposition`: the exact ``A(mu) = sum_q theta_q(mu) A_q`` and
  ``f(mu) = sum_p phi_p(mu) f_p`` of solvers that know it. A coefficient is the
  value of one scalar parameter (its name) or the constant 1 (None), which is
  JSON and covers conductivities, Lame parameters and load amplitudes.

Both carry the unknown-to-node map ``free`` (node index of each unknown) and
the node values ``dirichlet`` imposed on the other nodes (mu-independent). For
a field of ``c`` components (a displacement), "node values" are the field's
array (n_nodes, c) flattened row by row: ``free[i] = c * node + component``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from nirom.dataset.operators import LinearSystem, unknowns_to_nodes
from nirom.errors import ParameterError

__all__ = ["AffineDecomposition", "LinearSystem", "coefficient_values", "unknowns_to_nodes"]

Coefficient = str | None


@dataclass
class AffineDecomposition:
    """``A(mu) = sum_q theta_q(mu) A_q`` and ``f(mu) = sum_p phi_p(mu) f_p``, exactly.

    ``matrix_coefficients[q]`` / ``vector_coefficients[p]``: the name of the
    scalar parameter the term is proportional to, or None for a constant term.
    """

    matrices: list[sp.csr_matrix]
    matrix_coefficients: list[Coefficient]
    vectors: list[np.ndarray]
    vector_coefficients: list[Coefficient]
    free: np.ndarray
    dirichlet: np.ndarray

    @property
    def n_unknowns(self) -> int:
        return int(self.matrices[0].shape[0])

    def matrix_thetas(self, x: np.ndarray, names: Sequence[str]) -> np.ndarray:
        """theta_q at scalar parameters ``x`` (n, dim), columns named ``names``: (n, Q)."""
        return coefficient_values(self.matrix_coefficients, x, names)

    def vector_thetas(self, x: np.ndarray, names: Sequence[str]) -> np.ndarray:
        """phi_p at scalar parameters ``x`` (n, dim): (n, P)."""
        return coefficient_values(self.vector_coefficients, x, names)

    def system(self, mu: Mapping[str, float]) -> LinearSystem:
        """The assembled system at ``mu`` (a mapping holding every named parameter)."""
        names = sorted({c for c in self.matrix_coefficients + self.vector_coefficients if c})
        x = np.array([[float(mu[n]) for n in names]])
        theta = self.matrix_thetas(x, names)[0]
        phi = self.vector_thetas(x, names)[0]
        matrix = sum(t * a for t, a in zip(theta, self.matrices, strict=True))
        rhs = sum(p * f for p, f in zip(phi, self.vectors, strict=True))
        return LinearSystem(sp.csr_matrix(matrix), np.asarray(rhs), self.free, self.dirichlet)


def coefficient_values(
    coefficients: Sequence[Coefficient], x: np.ndarray, names: Sequence[str]
) -> np.ndarray:
    """Values (n, len(coefficients)) of parameter-or-constant coefficients at ``x`` (n, dim)."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    columns = []
    for c in coefficients:
        if c is None:
            columns.append(np.ones(len(x)))
        elif c in names:
            columns.append(x[:, list(names).index(c)])
        else:
            raise ParameterError(f"affine coefficient {c!r} is not a parameter of {list(names)}")
    return np.stack(columns, axis=1)


@dataclass
class TransientDecomposition:
    """A linear parabolic problem ``M du/dt + A(mu) u = f(mu, t)`` and its time scheme.

    ``affine``: ``A(mu) = sum_q theta_q(mu) A_q`` and the load terms
    ``f(mu) = sum_p phi_p(mu) f_p`` on the unknowns (unknown-to-node map
    ``free``, node values ``dirichlet`` elsewhere); ``mass`` (N, N): the mass
    matrix on the unknowns; ``initial`` (N,): the mu-independent initial state.
    The scheme: substep ``j = 1..J`` solves

        (M + theta_j tau_j A) u_j = (M - (1 - theta_j) tau_j A) u_(j-1)
                                    + tau_j sum_p phi_p(mu) w_jp f_p

    with ``step_sizes`` ``tau_j``, ``step_thetas`` ``theta_j`` in [1/2, 1]
    (1: backward Euler, 1/2: Crank-Nicolson) and ``load_weights`` ``w_jp``
    (J, P): the time functions of the loads as the scheme samples them (all 1
    for loads constant in time). ``output_steps``: the substep of each output
    time ``times`` (0: the initial state).
    """

    affine: AffineDecomposition
    mass: sp.csr_matrix
    initial: np.ndarray
    step_sizes: np.ndarray
    step_thetas: np.ndarray
    load_weights: np.ndarray
    output_steps: np.ndarray
    times: np.ndarray
