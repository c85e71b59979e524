"""Readers (nirom's Python: numpy, h5py, scipy) for what the FEniCSx programs here write.

- :func:`read_xdmf`: a dolfinx ``XDMFFile`` (mesh + functions, one or many times) through
  h5py: node coordinates, cells and ``{name: [(time, values), ...]}``;
- :func:`read_petsc`: a PETSc binary matrix (``Mat``, as scipy CSR) or vector (``Vec``);
- :func:`match_nodes`: the permutation matching two node sets by coordinates (KD-tree).

Used by the checks ``check_thermal.py`` and ``check_plate.py``; nirom's own readers are
meant to replace them (issue 19 items 5 and 8).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import h5py
import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

MAT_FILE_CLASSID = 1211216
VEC_FILE_CLASSID = 1211214


def _dataset(folder: Path, item: ET.Element) -> np.ndarray:
    file, _, name = item.text.strip().partition(":")
    with h5py.File(folder / file, "r") as fh:
        return fh[name][()]


def read_xdmf(path: str | Path) -> tuple[np.ndarray, np.ndarray, dict[str, list]]:
    """``(points (n, gdim), cells (m, k) in the file's node order, {name: [(t, values)]})``."""
    path = Path(path)
    root = ET.parse(path).getroot()
    domain = root.find("Domain")
    mesh = domain.find("Grid[@GridType='Uniform']")
    points = _dataset(path.parent, mesh.find("Geometry/DataItem"))
    cells = _dataset(path.parent, mesh.find("Topology/DataItem"))
    series: dict[str, list] = {}
    for collection in domain.findall("Grid[@GridType='Collection']"):
        for grid in collection.findall("Grid"):
            time = float(grid.find("Time").get("Value"))
            for attribute in grid.findall("Attribute"):
                values = _dataset(path.parent, attribute.find("DataItem"))
                series.setdefault(attribute.get("Name"), []).append((time, values))
    return points, cells, series


def read_petsc(path: str | Path) -> sp.csr_matrix | np.ndarray:
    """A matrix (scipy CSR) or vector (1-D array) in PETSc's binary format (big-endian)."""
    raw = Path(path).read_bytes()
    header = np.frombuffer(raw, ">i4", count=1)[0]
    if header == VEC_FILE_CLASSID:
        n = int(np.frombuffer(raw, ">i4", count=1, offset=4)[0])
        return np.frombuffer(raw, ">f8", count=n, offset=8).astype(float)
    if header != MAT_FILE_CLASSID:
        raise ValueError(f"{path}: not a PETSc binary Mat or Vec (class id {header})")
    _, m, n, nnz = np.frombuffer(raw, ">i4", count=4)
    offset = 16
    row_lengths = np.frombuffer(raw, ">i4", count=m, offset=offset)
    offset += 4 * m
    columns = np.frombuffer(raw, ">i4", count=nnz, offset=offset)
    offset += 4 * nnz
    values = np.frombuffer(raw, ">f8", count=nnz, offset=offset)
    indptr = np.concatenate([[0], np.cumsum(row_lengths)])
    return sp.csr_matrix(
        (values.astype(float), columns.astype(np.int64), indptr), shape=(int(m), int(n))
    )


def match_nodes(reference: np.ndarray, other: np.ndarray, tolerance: float) -> np.ndarray:
    """``perm`` with ``other[perm[i]]`` at ``reference[i]`` (to ``tolerance``), one to one."""
    dim = reference.shape[1]
    distance, perm = cKDTree(other[:, :dim]).query(reference)
    if distance.max() > tolerance or np.unique(perm).size != perm.size:
        raise ValueError(
            f"node sets differ: worst distance {distance.max():.3g} (tolerance {tolerance:.3g})"
        )
    return perm
