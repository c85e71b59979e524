"""How far apart two simulations' solution subspaces are: local POD bases and principal angles.

Each training simulation (one load history) gets its own POD basis ``V_i``
(the displacement series less its lifting, truncated at a relative energy
tolerance), orthonormal in the inner product ``M`` (the L2 product of the
displacement, or the Euclidean one). The cosines of the principal angles
between two bases are the singular values of ``V_i^T M V_j``; the
dissimilarity (ROM-net, Daniel et al. 2020) is their normalised chordal
(projection) distance

    d(i, j) = sqrt(1 - ||V_i^T M V_j||_F^2 / max(k_i, k_j))

in [0, 1]: zero exactly when the two subspaces are the same, symmetric, one
for orthogonal subspaces; a basis of fewer modes inside a larger one is at
``sqrt(1 - k_small / k_large)`` (the modes the smaller one lacks).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from nirom.errors import ParameterError


def local_basis(
    snapshots: np.ndarray,
    tolerance: float = 1e-3,
    matrix: sp.spmatrix | None = None,
    max_modes: int | None = None,
) -> np.ndarray:
    """The POD basis (n_dofs, k) of one simulation's snapshots (n_times, n_dofs), orthonormal
    in ``matrix`` (None: Euclidean), truncated at the relative tolerance ``tolerance``
    (discarded energy ``tolerance**2``), at least one mode and at most ``max_modes``."""
    X = np.asarray(snapshots, dtype=float)
    MX = X if matrix is None else (matrix @ X.T).T
    gram = X @ MX.T
    values, vectors = np.linalg.eigh((gram + gram.T) / 2)
    values, vectors = values[::-1], vectors[:, ::-1]
    total = float(np.sum(np.clip(values, 0, None)))
    if total <= 0:
        raise ParameterError("a simulation with zero displacements has no subspace")
    tail = np.cumsum(np.clip(values, 0, None)[::-1])[::-1] / total  # energy left from mode k on
    k = max(1, int(np.count_nonzero(tail > tolerance**2)))
    k = min(k, int(np.count_nonzero(values > values[0] * 1e-14)), max_modes or k)
    return (X.T @ vectors[:, :k]) / np.sqrt(values[:k])


def dissimilarity(a: np.ndarray, b: np.ndarray, matrix: sp.spmatrix | None = None) -> float:
    """The chordal distance of the subspaces spanned by the ``matrix``-orthonormal bases ``a``
    (n_dofs, k_a) and ``b`` (n_dofs, k_b), normalised to [0, 1] (module docstring)."""
    return _chordal(a, b, b if matrix is None else matrix @ b)


def dissimilarity_matrix(
    bases: Sequence[np.ndarray], matrix: sp.spmatrix | None = None
) -> np.ndarray:
    """The symmetric matrix (n, n) of pairwise :func:`dissimilarity` of ``bases``, zero
    diagonal."""
    n = len(bases)
    weighted = [b if matrix is None else matrix @ b for b in bases]
    D = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            D[i, j] = D[j, i] = _chordal(bases[i], bases[j], weighted[j])
    return D


def _chordal(a: np.ndarray, b: np.ndarray, mb: np.ndarray) -> float:
    """sqrt(1 - ||a^T M b||_F^2 / max(k_a, k_b)), ``mb = M b``."""
    cosines = np.linalg.svd(a.T @ mb, compute_uv=False)
    overlap = float(np.sum(np.clip(cosines, 0.0, 1.0) ** 2))
    return float(np.sqrt(max(0.0, 1.0 - overlap / max(a.shape[1], b.shape[1]))))
