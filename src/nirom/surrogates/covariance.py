"""The predictive covariance of a field in low rank: what a model with a POD basis and
independent (or jointly Gaussian) coefficients knows about the joint error of its values,
without forming it on the mesh (:meth:`nirom.surrogates.base.Surrogate.predict_covariance`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LowRankCovariance:
    """The predictive covariance of one field's values for a batch of parameter sets, in
    low rank: for parameter set ``i``, ``Cov_i = basis @ C_i @ basis.T + diag(residual)``.

    ``basis`` (n_rows, r): the rows of the basis (POD modes as columns) for the values
    asked (flat indices ``rows`` into one sample's field array, None: all, in order);
    ``coefficient``: the coefficients' covariance, (n, r) variances when they are
    independent (one GP per mode) or (n, r, r); ``residual`` (n_rows,): the variance the
    basis cannot carry (the POD truncation), independent per value. Units: the field's,
    squared. ``n`` is 1 for one parameter set (the batch axis is kept).
    """

    basis: np.ndarray
    coefficient: np.ndarray
    residual: np.ndarray
    rows: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.coefficient)

    @property
    def independent(self) -> bool:
        """Whether the coefficients are independent (``coefficient`` holds variances)."""
        return self.coefficient.ndim == 2

    def restrict(self, rows: np.ndarray) -> LowRankCovariance:
        """The covariance of the values ``rows`` (indices into this one's rows) only."""
        rows = np.asarray(rows, dtype=int)
        full = rows if self.rows is None else self.rows[rows]
        return LowRankCovariance(self.basis[rows], self.coefficient, self.residual[rows], full)

    def sets(self, index: slice | np.ndarray) -> LowRankCovariance:
        """The covariance of the parameter sets ``index`` of this batch only."""
        return LowRankCovariance(self.basis, self.coefficient[index], self.residual, self.rows)

    def variance(self) -> np.ndarray:
        """The diagonal (n, n_rows): each value's predictive variance."""
        if self.independent:
            return self.coefficient @ (self.basis**2).T + self.residual
        return np.einsum("ka,nab,kb->nk", self.basis, self.coefficient, self.basis) + self.residual

    def project(self, weights: np.ndarray) -> np.ndarray:
        """Covariance (n, m, m) of ``m`` linear combinations of the values: ``weights``
        (m, n_rows), or (n, m, n_rows) per parameter set, gives ``W Cov_i W^T``."""
        w = np.asarray(weights, dtype=float)
        a = w @ self.basis  # (m, r) or (n, m, r)
        if a.ndim == 2:
            a = np.broadcast_to(a, (len(self), *a.shape))
        if self.independent:
            low = np.einsum("nir,nr,njr->nij", a, self.coefficient, a)
        else:
            low = np.einsum("nir,nrs,njs->nij", a, self.coefficient, a)
        ws = w * self.residual
        res = ws @ np.swapaxes(w, -1, -2)
        return low + (res if res.ndim == 3 else res[None])

    def dense(self) -> np.ndarray:
        """The full covariance (n, n_rows, n_rows): for a few rows (tests, small meshes)."""
        return self.project(np.eye(len(self.residual)))
