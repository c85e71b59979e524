"""System matrices an external program writes: MatrixMarket or PETSc binary files, node maps.

Most finite-element codes can write their assembled matrix and load vector
in the MatrixMarket exchange format (Code_Aster, FreeFEM, ...); PETSc
programs (FEniCSx) write PETSc's binary format
(:mod:`nirom.solvers.petsc_binary`). Each file is told by its content: a
PETSc class id, else MatrixMarket. :func:`read_system` turns a program's
files into a :class:`~nirom.dataset.operators.LinearSystem`, each problem a
:class:`~nirom.solvers.base.SolverError` naming the file.

A program writes its system in one of two forms:

- **free**: the free-free block, one row per unknown, with the mesh node of
  each unknown (the ``free`` map); the output field's values on the other
  nodes are the Dirichlet values.
- **full**: the whole matrix, one row per node value, Dirichlet rows
  replaced by identity rows (only a diagonal entry d, other entries absent or
  zero) whose right-hand side holds d times the Dirichlet value, as
  ``dolfinx.fem.petsc.assemble_matrix(a, bcs)`` with ``apply_lifting`` and
  ``set_bc`` write it (columns zeroed too) and as codes that zero the rows
  only do. It is reduced to the free block: ``A_ff``, ``b_f - A_fd g``.

``form="auto"`` takes a matrix with a row per node value as full and any
other as free.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.io
import scipy.sparse as sp

from nirom.dataset.operators import LinearSystem
from nirom.solvers.base import SolverError
from nirom.solvers.petsc_binary import petsc_kind, read_petsc_matrix, read_petsc_vector

FORMS = ("auto", "free", "full")


def read_matrix(path: Path) -> sp.csr_matrix:
    """A square sparse matrix from a PETSc binary or MatrixMarket file (by content)."""
    data = read_petsc_matrix(path) if petsc_kind(path) is not None else _mmread(path)
    matrix = sp.csr_matrix(data, dtype=float)
    rows, cols = matrix.shape
    if rows != cols:
        raise SolverError(f"{path}: system matrix is not square ({rows} x {cols})")
    return matrix


def read_vector(path: Path) -> np.ndarray:
    """A vector from a PETSc binary Vec or a MatrixMarket file of one column (or one row)."""
    if petsc_kind(path) is not None:
        return read_petsc_vector(path)
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
    matrix: Path,
    rhs: Path,
    free: Path | None,
    node_values: np.ndarray,
    form: str = "auto",
) -> LinearSystem:
    """The system a program wrote, in either form (module doc).

    Parameters
    ----------
    matrix, rhs : path
        The matrix and right-hand side (PETSc binary or MatrixMarket).
    free : path, optional
        The mesh node (index into ``node_values``) of each row; default row i is node i.
    node_values : ndarray of shape (n_values,)
        The output field's values, flattened node-major: the Dirichlet values
        of the free form, a check of the full form's.
    form : {"auto", "free", "full"}

    Raises
    ------
    SolverError
        Naming the file at fault, or the rows whose Dirichlet values are not
        the output field's (a wrong row-to-node map).
    """
    if form not in FORMS:
        raise SolverError(f"form must be one of {', '.join(FORMS)}, got {form!r}")
    a = read_matrix(matrix)
    b = read_vector(rhs)
    if b.size != a.shape[0]:
        raise SolverError(f"{rhs}: {b.size} entries for a {a.shape[0]} x {a.shape[0]} matrix")
    values = np.asarray(node_values, dtype=float).ravel()
    nodes = read_node_map(free, a.shape[0], values.size)
    if form == "auto":
        form = "full" if a.shape[0] == values.size else "free"
    dirichlet = values.copy()
    if form == "free":
        dirichlet[nodes] = 0.0
        return LinearSystem(a, b, nodes, dirichlet)
    fixed, diagonal = dirichlet_rows(a)
    g = b[fixed] / diagonal
    scale = max(float(np.abs(values).max()) if values.size else 0.0, 1.0)
    gap = np.abs(g - values[nodes[fixed]])
    if gap.size and gap.max() > 1e-8 * scale:
        worst = int(np.argmax(gap))
        raise SolverError(
            f"{matrix}: {int(np.count_nonzero(gap > 1e-8 * scale))} Dirichlet row(s) impose "
            f"other values than the output field at their nodes (row {int(fixed[worst])}: "
            f"{g[worst]:.6g} vs {values[nodes[fixed[worst]]]:.6g}); check the row-to-node "
            "map ('free')"
        )
    keep = np.setdiff1d(np.arange(a.shape[0]), fixed)
    a_fd = a[keep][:, fixed]
    reduced = sp.csr_matrix(a[keep][:, keep])
    dirichlet[nodes[fixed]] = g
    dirichlet[nodes[keep]] = 0.0
    return LinearSystem(reduced, b[keep] - a_fd @ g, nodes[keep], dirichlet)


def dirichlet_rows(matrix: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose only nonzero entry is on the diagonal, and those diagonal entries.

    These are the Dirichlet rows of a whole matrix (module doc). A row of
    zeros is not one (the matrix would be singular).
    """
    a = sp.csr_matrix(matrix)
    a.eliminate_zeros()
    rows = np.repeat(np.arange(a.shape[0]), np.diff(a.indptr))
    off = np.bincount(rows[a.indices != rows], minlength=a.shape[0])
    diagonal = a.diagonal()
    fixed = np.flatnonzero((off == 0) & (diagonal != 0))
    return fixed, diagonal[fixed]


def _mmread(path: Path) -> object:
    try:
        return scipy.io.mmread(str(path))
    except FileNotFoundError:
        raise SolverError(f"{path}: not written by the program") from None
    except (OSError, ValueError, IndexError) as exc:
        raise SolverError(f"{path}: not a readable MatrixMarket file ({exc})") from None
