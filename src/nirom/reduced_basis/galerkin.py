"""What every Galerkin reduced model of an affine problem shares, stationary or transient.

An affine problem has operator terms ``A_q`` and load terms ``f_p`` with coefficients
``[x, 1] @ coefficient_map`` (``theta`` (n, Q), then ``phi`` (n, P)) at physical
parameters ``x``, and unknowns that sit at the mesh nodes ``free`` (the other node
values ``dirichlet``). :class:`GalerkinModel` holds the X-orthonormal basis ``V`` of
the unknowns (X: the energy product at ``theta_ref``, :func:`energy_product`), grows
it offline (:meth:`GalerkinModel.extend` projects the terms and adds the new basis
vectors to the residual's Riesz representers), and drops its offline data with
:meth:`GalerkinModel.finish`; the kinds (:mod:`~nirom.reduced_basis.model`,
:mod:`~nirom.reduced_basis.transient`) add what they project and how they solve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from nirom.errors import ModelError
from nirom.reduction.numerics import extend_basis
from nirom.saving import Saveable


def energy_product(matrices: Sequence[sp.spmatrix], theta_ref: np.ndarray) -> sp.csr_matrix:
    """The symmetric energy product ``X = sym(sum_q theta_ref_q A_q)`` on the unknowns."""
    product = sp.csr_matrix(sum(t * a for t, a in zip(theta_ref, matrices, strict=True)))
    return sp.csr_matrix(0.5 * (product + product.T))


class GalerkinModel(Saveable):
    """The shared state and offline growth of an affine Galerkin reduced model.

    Subclasses set ``_offline`` (a dict with at least ``product`` (X) and
    ``residual`` (a :class:`~nirom.reduced_basis.residual.RieszResidual`)) in their
    ``build``, implement :meth:`_project` and list in ``_caches`` the attributes
    their online stage caches per basis.
    """

    #: online caches that depend on the basis, dropped when it grows
    _caches: ClassVar[tuple[str, ...]] = ("_blocks",)

    def __init__(
        self,
        names: Sequence[str],
        coefficient_map: np.ndarray,
        n_matrix_terms: int,
        theta_ref: np.ndarray,
        free: np.ndarray,
        dirichlet: np.ndarray,
    ) -> None:
        self.names = list(names)
        self.coefficient_map = np.asarray(coefficient_map, dtype=float)
        self.n_matrix_terms = int(n_matrix_terms)
        self.theta_ref = np.asarray(theta_ref, dtype=float)
        self.free = np.asarray(free)
        self.dirichlet = np.asarray(dirichlet, dtype=float)
        q = self.n_matrix_terms
        p = self.coefficient_map.shape[1] - q
        self.basis = np.empty((self.free.size, 0))
        self.reduced_matrices = np.zeros((q, 0, 0))
        self.reduced_vectors = np.zeros((p, 0))
        self.residual_T = np.zeros((0, p))
        self._offline: dict[str, Any] | None = None

    # -- offline ---------------------------------------------------------------------
    @property
    def product(self) -> sp.csr_matrix:
        """The inner product X on the unknowns (offline data only)."""
        return self._need_offline()["product"]

    def extend(self, snapshots: np.ndarray) -> int:
        """Add the directions of ``snapshots`` (k, N) to the basis; return how many were new."""
        offline = self._need_offline()
        old = self.basis.shape[1]
        self.basis, added = extend_basis(self.basis, offline["product"], snapshots)
        if added:
            self._project(offline)
            offline["residual"].add_basis_vectors(self.basis[:, old:])
            self.residual_T = offline["residual"].T
            for cache in self._caches:
                self.__dict__.pop(cache, None)
        return added

    def _project(self, offline: dict[str, Any]) -> None:
        """Project the problem's terms on the current basis (the reduced terms)."""
        raise NotImplementedError

    def _need_offline(self) -> dict[str, Any]:
        if self._offline is None:
            raise ModelError("a loaded reduced model is online only: it cannot grow its basis")
        return self._offline

    def finish(self) -> None:
        """Drop the offline data (representers, matrices): online only from now on."""
        self._offline = None

    # -- online ----------------------------------------------------------------------
    @property
    def n_basis(self) -> int:
        return int(self.basis.shape[1])

    def coefficients(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """theta (n, Q) and phi (n, P) at physical parameters ``x`` (n, dim)."""
        x = np.atleast_2d(np.asarray(x, dtype=float))
        values = np.hstack([x, np.ones((len(x), 1))]) @ self.coefficient_map
        q = self.n_matrix_terms
        return values[:, :q], values[:, q:]

    # -- saving ------------------------------------------------------------------------
    @staticmethod
    def _shared_args(state: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> tuple:
        """The constructor's first six arguments from a saved model (``KeyError`` if one is
        missing)."""
        return (
            state["names"],
            arrays["coefficient_map"],
            state["n_matrix_terms"],
            arrays["theta_ref"],
            arrays["free"],
            arrays["dirichlet"],
        )

    def _shared_arrays(self) -> dict[str, np.ndarray]:
        return {
            "basis": self.basis,
            "reduced_matrices": self.reduced_matrices,
            "reduced_vectors": self.reduced_vectors,
            "residual_T": self.residual_T,
            "theta_ref": self.theta_ref,
            "coefficient_map": self.coefficient_map,
            "free": self.free,
            "dirichlet": self.dirichlet,
        }
