"""One mesh file of any format nirom reads.

``.vtu`` and ``.pvtu`` go to :mod:`nirom.readers.vtk_xml` (every VTU version,
Lagrange cells, parallel pieces); XDMF to meshio, or to
:mod:`nirom.readers.xdmf` where meshio stops (several grids, a temporal
collection of one step); a ``.pvd`` or XDMF series of one step gives that
step; every other format goes to meshio (Gmsh, Abaqus, MED, Exodus, legacy
VTK, ...). A file none of them reads is a :class:`~nirom.errors.MeshError`
of one line (:func:`nirom.readers.formats.unreadable`): the file, the format
found in its first bytes, the reason, and what to write instead.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import meshio

from nirom.errors import MeshError
from nirom.readers import pvd
from nirom.readers.formats import unreadable


def read_mesh(path: str | Path) -> meshio.Mesh:
    """The mesh and data of one file (a series must have one step).

    Raises
    ------
    MeshError
        Naming the file, the format found and what to write instead.
    """
    path = Path(path)
    if path.is_dir():
        raise MeshError(
            f"{path}: a folder, not a mesh file (ADIOS2 .bp output, as dolfinx's VTXWriter "
            "writes, is not read); write VTKFile (.pvd) or XDMFFile output"
        )
    if not path.is_file():
        raise MeshError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix in (".vtu", ".pvtu"):
        from nirom.readers import vtk_xml

        return vtk_xml.read(path)
    if suffix == ".pvd" or (suffix in (".xdmf", ".xmf") and _xdmf_series(path)):
        return _one_step(path)
    try:
        return read_with_meshio(path)
    except MeshError:
        if suffix not in (".xdmf", ".xmf"):
            raise
        from nirom.readers import xdmf

        return xdmf.read_grid(path)  # several grids: dolfinx's mesh + tags, for one


def _one_step(path: Path) -> meshio.Mesh:
    """The mesh of the one step of a ``.pvd`` collection or XDMF time series."""
    from nirom.readers import xdmf

    if path.suffix.lower() == ".pvd":
        files = [file for _, file in pvd.collection(path)]
        _check_one_step(path, len(files))
        return read_mesh(files[0])
    series = xdmf.read_series(path)
    _check_one_step(path, len(series))
    return series[0][1]


def _check_one_step(path: Path, n_steps: int) -> None:
    """MeshError unless the series ``path`` has one step."""
    if n_steps != 1:
        raise MeshError(
            f"{path}: a time series of {n_steps} steps; read it with "
            "nirom.dataset.transfer.read_series, or give one step's file"
        )


def _xdmf_series(path: Path) -> bool:
    from nirom.readers import xdmf

    return xdmf.is_time_series(path)


def read_with_meshio(path: Path) -> meshio.Mesh:
    """meshio's reading of ``path``; its printed errors and ``sys.exit`` become a MeshError."""
    printed = io.StringIO()
    try:
        # meshio prints reader errors and calls sys.exit when no reader succeeds.
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            return meshio.read(path)
    except (Exception, SystemExit) as exc:  # many types for foreign or truncated files
        text = printed.getvalue() if isinstance(exc, SystemExit) else str(exc)
        reason = next((ln.strip() for ln in text.split("\n") if ln.strip()), type(exc).__name__)
        raise unreadable(path, reason) from None
