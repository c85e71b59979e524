"""PETSc's binary matrix and vector files, as ``MatView`` / ``VecView`` write them.

What petsc4py writes with ``PETSc.Viewer().createBinary(path, "w")`` and
``A.view(viewer)`` (FEniCSx programs have no MatrixMarket writer at hand).
Big-endian throughout; the integers are PETSc's ``PetscInt`` (4 bytes, or 8
in a build with 64-bit indices, told apart by the class id):

- Mat: class id 1211216, rows M, columns N, nonzeros nz; M row lengths;
  nz column indices; nz values (AIJ), or with nz = -1 the M x N values of a
  dense matrix, row by row.
- Vec: class id 1211214, length n; n values.

Values are float64 (a real double-precision build) or float32 (single);
complex builds are refused. A file holding several objects is read from
its first. Errors are :class:`~nirom.solvers.base.SolverError` naming the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from nirom.solvers.base import SolverError

MAT_CLASSID = 1211216
VEC_CLASSID = 1211214
KINDS = {MAT_CLASSID: "Mat", VEC_CLASSID: "Vec"}


def petsc_kind(path: str | Path) -> str | None:
    """ "Mat" or "Vec" for a PETSc binary file (by its class id), None for anything else."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError:
        return None
    return _header(head)[0] if len(head) >= 4 else None


def _header(head: bytes) -> tuple[str | None, np.dtype]:
    """The object kind and PetscInt type the first bytes show."""
    if len(head) >= 4:
        kind = KINDS.get(int(np.frombuffer(head[:4], ">i4")[0]))
        if kind:
            return kind, np.dtype(">i4")
    if len(head) >= 8:
        kind = KINDS.get(int(np.frombuffer(head[:8], ">i8")[0]))
        if kind:
            return kind, np.dtype(">i8")
    return None, np.dtype(">i4")


def read_petsc_matrix(path: str | Path) -> sp.csr_matrix:
    """The first matrix of a PETSc binary file, as CSR float64."""
    path = Path(path)
    data, index = _read(path, "Mat", "matrix")
    head = _ints(path, data, 0, 4, index)
    rows, cols, nz = (int(v) for v in head[1:])
    if rows < 0 or cols < 0:
        raise SolverError(f"{path}: PETSc matrix of {rows} x {cols}")
    start = 4 * index.itemsize
    if nz == -1:  # dense
        values = _scalars(path, data, start, rows * cols)
        return sp.csr_matrix(values.reshape(rows, cols))
    lengths = _ints(path, data, start, rows, index)
    if lengths.sum() != nz or np.any(lengths < 0):
        raise SolverError(f"{path}: PETSc matrix row lengths add up to {lengths.sum()}, not {nz}")
    start += rows * index.itemsize
    columns = _ints(path, data, start, nz, index)
    if nz and (columns.min() < 0 or columns.max() >= cols):
        raise SolverError(f"{path}: PETSc matrix column index outside 0..{cols - 1}")
    values = _scalars(path, data, start + nz * index.itemsize, nz)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    return sp.csr_matrix((values, columns, indptr), shape=(rows, cols))


def read_petsc_vector(path: str | Path) -> np.ndarray:
    """The first vector of a PETSc binary file, as float64."""
    path = Path(path)
    data, index = _read(path, "Vec", "vector")
    n = int(_ints(path, data, 0, 2, index)[1])
    if n < 0:
        raise SolverError(f"{path}: PETSc vector of length {n}")
    return _scalars(path, data, 2 * index.itemsize, n)


def _read(path: Path, kind: str, what: str) -> tuple[bytes, np.dtype]:
    """The bytes of ``path`` and its PetscInt type, refusing a file not of ``kind``."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SolverError(f"{path}: not written by the program") from None
    found, index = _header(data[:8])
    if found != kind:
        raise SolverError(
            f"{path}: not a PETSc binary {what} (found {found or 'no PETSc class id'})"
        )
    return data, index


def _ints(path: Path, data: bytes, start: int, count: int, dtype: np.dtype) -> np.ndarray:
    stop = start + count * dtype.itemsize
    if stop > len(data):
        raise SolverError(f"{path}: truncated PETSc binary file ({len(data)} bytes)")
    return np.frombuffer(data[start:stop], dtype).astype(np.int64)


def _scalars(path: Path, data: bytes, start: int, count: int) -> np.ndarray:
    """``count`` values from ``start``: float64, or float32 when the file ends exactly so."""
    rest = len(data) - start
    if count and rest == 16 * count:
        raise SolverError(
            f"{path}: complex PETSc values are not read (a real build writes float64)"
        )
    size = 4 if (count and rest == 4 * count) else 8
    if rest < size * count:
        raise SolverError(f"{path}: truncated PETSc binary file ({len(data)} bytes)")
    dtype = np.dtype(">f4" if size == 4 else ">f8")
    return np.frombuffer(data[start : start + size * count], dtype).astype(float)
