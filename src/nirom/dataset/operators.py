"""Per-sample system matrices in a dataset: ``A(mu) x = f(mu)`` of a linear solver.

Written on request (``nirom generate ... --operators``) for reduced-basis
models built from the solver's matrices. Layout, beside the fields::

    DATASET/
      operators/free         (n,) int64: mesh node of each unknown
      operators/dirichlet    (n_nodes,) float: values of the constrained nodes
      samples/s00000017/
        operators/indptr, operators/indices, operators/data   A(mu) as CSR (n x n)
        operators/rhs        (n,) f(mu)

For a field with ``c`` components per node (elasticity's displacement), the
node values are the field's array (n_nodes, c) flattened row by row: entry
``c * node + component``; ``free`` and ``dirichlet`` index that flattening
(``dirichlet`` then has ``c * n_nodes`` entries).

The root attribute ``nirom.operators`` (``{"unknowns": n}``) marks a dataset
that stores them. Readers that do not know operators ignore these arrays and
the attribute, so the format version is unchanged (1 or 2). Each sample's
matrix is read only when asked for (:meth:`Dataset.system`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import zarr

from nirom.dataset.layout import read_array, write_array
from nirom.errors import DatasetError


@dataclass
class LinearSystem:
    """``matrix @ x = rhs`` for the unknowns; mesh node ``free[i]`` holds unknown ``i``.

    ``dirichlet`` (n_nodes * c,) are the node values of the constrained nodes
    (its entries at ``free`` are ignored), flattened node-major for a field of
    ``c`` components; units are the solver's.
    """

    matrix: sp.csr_matrix
    rhs: np.ndarray
    free: np.ndarray
    dirichlet: np.ndarray

    def to_nodes(self, x: np.ndarray) -> np.ndarray:
        """Node values (..., n_nodes) from unknowns ``x`` (..., n_unknowns)."""
        return unknowns_to_nodes(x, self.free, self.dirichlet)


def unknowns_to_nodes(x: np.ndarray, free: np.ndarray, dirichlet: np.ndarray) -> np.ndarray:
    """Node values (..., n_nodes): ``dirichlet`` with the unknowns ``x`` placed at ``free``."""
    x = np.asarray(x)
    out = np.broadcast_to(dirichlet, (*x.shape[:-1], dirichlet.size)).copy()
    out[..., free] = x
    return out


def check_system(system: LinearSystem, n_nodes: int | None, where: str = "") -> LinearSystem:
    """The system with CSR float64 matrix, or a DatasetError naming what does not fit."""
    matrix = system.matrix
    if not sp.issparse(matrix):
        raise DatasetError(f"{where}system matrix must be a sparse matrix, got {type(matrix)}")
    rows, cols = matrix.shape
    if rows != cols:
        raise DatasetError(f"{where}system matrix is not square ({rows} x {cols})")
    rhs = np.asarray(system.rhs, dtype=float).ravel()
    free = np.asarray(system.free, dtype=np.int64).ravel()
    dirichlet = np.asarray(system.dirichlet, dtype=float).ravel()
    if rhs.size != rows:
        raise DatasetError(f"{where}right-hand side has {rhs.size} entries, the matrix {rows} rows")
    if free.size != rows:
        raise DatasetError(
            f"{where}unknown-to-node map has {free.size} entries, the matrix {rows} rows"
        )
    if n_nodes is not None and (dirichlet.size == 0 or dirichlet.size % n_nodes):
        raise DatasetError(
            f"{where}dirichlet values: {dirichlet.size} entries for {n_nodes} nodes "
            "(expected the nodes times the field's components)"
        )
    if free.size and (free.min() < 0 or free.max() >= dirichlet.size):
        raise DatasetError(
            f"{where}unknown-to-node map points outside the {dirichlet.size} node values"
        )
    data = sp.csr_matrix(matrix, dtype=float)
    if not (np.isfinite(data.data).all() and np.isfinite(rhs).all()):
        raise DatasetError(f"{where}system matrix or right-hand side has NaN or infinite values")
    return LinearSystem(data, rhs, free, dirichlet)


def write_layout(root: zarr.Group, system: LinearSystem) -> dict[str, int]:
    """Store the unknown-to-node map and Dirichlet values; return the root attribute."""
    write_array(root, "operators/free", system.free)
    write_array(root, "operators/dirichlet", system.dirichlet)
    return {"unknowns": int(system.free.size)}


def write_system(group: zarr.Group, system: LinearSystem) -> None:
    """Store one sample's matrix (CSR arrays) and right-hand side under ``operators/``."""
    matrix = system.matrix
    matrix.sort_indices()
    write_array(group, "operators/indptr", matrix.indptr.astype(np.int64))
    write_array(group, "operators/indices", matrix.indices.astype(np.int64))
    write_array(group, "operators/data", matrix.data)
    write_array(group, "operators/rhs", system.rhs)


def read_layout(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The unknown-to-node map and Dirichlet values of dataset ``path``."""
    free = read_array(path / "operators" / "free", f"{path}: operators/free")
    dirichlet = read_array(path / "operators" / "dirichlet", f"{path}: operators/dirichlet")
    return free, dirichlet


def read_system(
    sample_dir: Path, sample_id: int, free: np.ndarray, dirichlet: np.ndarray
) -> LinearSystem:
    """One sample's stored system; a DatasetError if it has none or it is damaged."""
    where = sample_dir / "operators"
    if not (where / "rhs").is_dir():
        raise DatasetError(f"sample {sample_id} has no operators (generated without --operators?)")
    parts = {
        key: read_array(where / key, f"sample {sample_id}, operators/{key}")
        for key in ("indptr", "indices", "data", "rhs")
    }
    n = free.size
    if parts["indptr"].size != n + 1 or parts["rhs"].size != n:
        raise DatasetError(f"sample {sample_id}: operators do not have the dataset's {n} unknowns")
    matrix = sp.csr_matrix((parts["data"], parts["indices"], parts["indptr"]), shape=(n, n))
    return LinearSystem(matrix, parts["rhs"], free, dirichlet)
