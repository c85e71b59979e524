"""Reduced bases orthonormal in an inner product ``X`` (sparse SPD, on the unknowns).

The basis grows by :func:`~nirom.reduction.numerics.extend_basis` (Gram-Schmidt
with one reorthogonalization pass, "twice is enough"), so it stays orthonormal
to machine precision as it grows one greedy snapshot at a time; the POD of
snapshots is truncated by :func:`~nirom.reduction.numerics.energy_rank`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from nirom.reduction.numerics import energy_rank, extend_basis


def pod_basis(
    snapshots: np.ndarray,
    product: sp.spmatrix,
    n_modes: int | None = None,
    discarded_energy: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """X-orthonormal POD modes (N, r) of ``snapshots`` (n, N), uncentred, and all singular values.

    Keeps ``n_modes`` or the fewest modes whose discarded energy fraction
    (sum of the squared singular values left out over the total) is at most
    ``discarded_energy`` (default 1e-10 when neither is given).

    The modes come from the snapshots' Gram matrix, which resolves singular
    values down to about 1e-7 of the largest only (its eigenvalues are their
    squares); smaller ones are dropped. When ``n_modes`` is at least the number
    of nonzero snapshots, nothing is to be discarded: the basis is then the
    snapshots' span itself, orthonormalized by Gram-Schmidt twice, which keeps
    directions down to 1e-10 (as the greedy's basis).
    """
    s = np.asarray(snapshots, dtype=float)
    nonzero = s[np.any(s != 0.0, axis=1)]
    gram = s @ (product @ s.T)
    gram = 0.5 * (gram + gram.T)
    values, vectors = np.linalg.eigh(gram)
    order = np.argsort(values)[::-1]
    values, vectors = np.clip(values[order], 0.0, None), vectors[:, order]
    if n_modes is None:
        tol = 1e-10 if discarded_energy is None else discarded_energy
        n_modes = energy_rank(np.sqrt(values), tol)
    if n_modes >= len(nonzero):
        basis, _ = extend_basis(np.empty((s.shape[1], 0)), product, nonzero)
        return basis, np.sqrt(values)
    keep = [k for k in range(min(n_modes, len(values))) if values[k] > 1e-14 * values[0]]
    modes = s.T @ vectors[:, keep] / np.sqrt(values[keep])
    basis, _ = extend_basis(np.empty((s.shape[1], 0)), product, modes.T)  # re-orthonormalize
    return basis, np.sqrt(values)
