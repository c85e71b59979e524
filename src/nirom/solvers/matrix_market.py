"""System matrices an external program writes: MatrixMarket ``.mtx`` files and node maps.

Most finite-element codes can write their assembled matrix and load vector
in the MatrixMarket exchange format (Code_Aster, FreeFEM, PETSc, ...).
:func:`read_system` turns a program's files into a
:class:`~nirom.dataset.operators.LinearSystem`, each problem a
:class:`~nirom.solvers.base.SolverError` naming the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.io
import scipy.sparse as sp

from nirom.dataset.operators import LinearSystem
from nirom.solvers.base import SolverError


def read_matrix(path: Path) -> sp.csr_matrix:
    """A square sparse matrix from a MatrixMarket file (coordinate or array format)."""
    data = _mmread(path)
    matrix = sp.csr_matrix(data, dtype=float)
    rows, cols = matrix.shape
    if rows != cols:
        raise SolverError(f"{path}: system matrix is not square ({rows} x {cols})")
    return matrix


def read_vector(path: Path) -> np.ndarray:
    """A vector from a MatrixMarket file holding one column (or one row)."""
    data = _mmread(path)
    dense = data.toarray() if sp.issparse(data) else np.asarray(data)
    if dense.ndim == 2 and 1 not in dense.shape:
        raise SolverError(f"{path}: expected one column, got shape {dense.shape}")
    return np.asarray(dense, dtype=float).ravel()


def read_node_map(path: Path | None, n_unknowns: int, n_nodes: int) -> np.ndarray:
    """Mesh node of each unknown: integers one per line in ``path``; none: unknown i is node i."""
    if path is None:
        if n_unknowns != n_nodes:
            raise SolverError(
                f"{n_unknowns} unknowns on {n_nodes} nodes: give the unknown-to-node map ('free')"
            )
        return np.arange(n_nodes)
    try:
        free = np.loadtxt(path, dtype=np.int64, ndmin=1)
    except (OSError, ValueError) as exc:
        raise SolverError(f"{path}: unreadable unknown-to-node map ({exc})") from None
    if free.size != n_unknowns:
        raise SolverError(f"{path}: {free.size} entries for {n_unknowns} unknowns")
    if free.size and (free.min() < 0 or free.max() >= n_nodes or np.unique(free).size != free.size):
        raise SolverError(f"{path}: node indices must be distinct and in 0..{n_nodes - 1}")
    return free


def read_system(
    matrix: Path, rhs: Path, free: Path | None, node_values: np.ndarray
) -> LinearSystem:
    """The system a program wrote; Dirichlet values are ``node_values`` off the unknowns."""
    a = read_matrix(matrix)
    b = read_vector(rhs)
    if b.size != a.shape[0]:
        raise SolverError(f"{rhs}: {b.size} entries for a {a.shape[0]} x {a.shape[0]} matrix")
    nodes = read_node_map(free, a.shape[0], node_values.size)
    dirichlet = np.asarray(node_values, dtype=float).copy()
    dirichlet[nodes] = 0.0
    return LinearSystem(a, b, nodes, dirichlet)


def _mmread(path: Path) -> object:
    try:
        return scipy.io.mmread(str(path))
    except FileNotFoundError:
        raise SolverError(f"{path}: not written by the program") from None
    except (OSError, ValueError, IndexError) as exc:
        raise SolverError(f"{path}: not a readable MatrixMarket file ({exc})") from None
