"""Write the VTK fixtures of nirom's VTU reader with VTK's own XML writer.

Needs the ``vtk`` wheel (any Python that has it; nirom does not)::

    pip install --target /tmp/vtkpkg vtk
    PYTHONPATH=/tmp/vtkpkg python tests/data/vtk/make_fixtures.py

One small grid (2 triangles and 2 quads, interleaved; a scalar and a 3-vector
point field, an integer cell field, a ``TimeValue`` field data) in each
encoding VTK writes, and one 27-node Lagrange hexahedron:

- ``grid_raw_zlib.vtu``: VTK's default: appended raw data, zlib, UInt64 headers.
- ``grid_base64.vtu``: appended base64 data, no compression, UInt32 headers.
- ``grid_lzma.vtu``: inline base64 (binary) data, LZMA compression, UInt32 headers.
- ``grid_ascii.vtu``: ascii.
- ``hex27.vtu``: a Lagrange hexahedron of order 2 on [0,1]^3 (file version 2.3).

``grid.npz`` holds what was given to VTK: points, the cells in file order
(type, nodes), ``u``, ``v``, ``tag``; ``hex27.npz`` the hexahedron's points
(VTK's order) and ``u``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import vtk
from vtk.util.numpy_support import numpy_to_vtk

HERE = Path(__file__).resolve().parent


def grid() -> vtk.vtkUnstructuredGrid:
    points = np.array(
        [[0, 0, 0], [1, 0, 0], [2, 0, 0], [0, 1, 0], [1, 1, 0], [2, 1, 0], [3, 0.5, 0]],
        dtype=float,
    )
    cells = [(5, [0, 1, 4]), (9, [1, 2, 5, 4]), (5, [0, 4, 3]), (5, [2, 6, 5])]
    u = np.sin(points[:, 0]) + points[:, 1]
    v = np.column_stack([points[:, 1], -points[:, 0], points[:, 0] * points[:, 1]])
    tag = np.array([7, 8, 9, 10], dtype=np.int32)
    ug = vtk.vtkUnstructuredGrid()
    pts = vtk.vtkPoints()
    pts.SetData(numpy_to_vtk(points, deep=True))
    ug.SetPoints(pts)
    for kind, nodes in cells:
        ids = vtk.vtkIdList()
        for n in nodes:
            ids.InsertNextId(n)
        ug.InsertNextCell(kind, ids)
    for name, values in (("u", u), ("v", v)):
        array = numpy_to_vtk(values, deep=True)
        array.SetName(name)
        ug.GetPointData().AddArray(array)
    array = numpy_to_vtk(tag, deep=True)
    array.SetName("tag")
    ug.GetCellData().AddArray(array)
    time = numpy_to_vtk(np.array([2.5]), deep=True)
    time.SetName("TimeValue")
    ug.GetFieldData().AddArray(time)
    np.savez(
        HERE / "grid.npz",
        points=points,
        types=[k for k, _ in cells],
        cells=np.array([n + [-1] * (4 - len(n)) for _, n in cells]),
        u=u,
        v=v,
        tag=tag,
    )
    return ug


def write(ug: vtk.vtkUnstructuredGrid, name: str, setup) -> None:
    writer = vtk.vtkXMLUnstructuredGridWriter()
    writer.SetFileName(str(HERE / name))
    writer.SetInputData(ug)
    setup(writer)
    if not writer.Write():
        raise RuntimeError(f"VTK could not write {name}")


def hexahedron() -> vtk.vtkUnstructuredGrid:
    cell = vtk.vtkLagrangeHexahedron()
    cell.GetPointIds().SetNumberOfIds(27)
    cell.GetPoints().SetNumberOfPoints(27)
    cell.SetOrder(2, 2, 2)
    cell.Initialize()
    pcoords = cell.GetParametricCoords()
    points = np.array([pcoords[i] for i in range(81)]).reshape(27, 3)
    ug = vtk.vtkUnstructuredGrid()
    pts = vtk.vtkPoints()
    pts.SetData(numpy_to_vtk(points, deep=True))
    ug.SetPoints(pts)
    ids = vtk.vtkIdList()
    for n in range(27):
        ids.InsertNextId(n)
    ug.InsertNextCell(vtk.VTK_LAGRANGE_HEXAHEDRON, ids)
    u = points @ np.array([1.0, 10.0, 100.0])
    array = numpy_to_vtk(u, deep=True)
    array.SetName("u")
    ug.GetPointData().AddArray(array)
    np.savez(HERE / "hex27.npz", points=points, u=u)
    return ug


def main() -> None:
    ug = grid()
    write(ug, "grid_raw_zlib.vtu", lambda w: w.SetHeaderTypeToUInt64())

    def base64(w):
        w.SetEncodeAppendedData(True)
        w.SetCompressorTypeToNone()
        w.SetHeaderTypeToUInt32()

    def lzma(w):
        w.SetDataModeToBinary()
        w.SetCompressorTypeToLZMA()
        w.SetHeaderTypeToUInt32()

    write(ug, "grid_base64.vtu", base64)
    write(ug, "grid_lzma.vtu", lzma)
    write(ug, "grid_ascii.vtu", lambda w: w.SetDataModeToAscii())
    write(hexahedron(), "hex27.vtu", lambda w: w.SetDataModeToAscii())


if __name__ == "__main__":
    main()
