"""Time series of meshes: a ParaView ``.pvd``, an XDMF time series, or numbered files.

:func:`read_steps` gives each step as a :class:`Step` (time, file, meshio
mesh with that step's data), by increasing time:

- ``.pvd``: a ParaView collection; each ``DataSet`` (part 0) a ``.vtu``,
  ``.pvtu`` or any mesh file, at its ``timestep``.
- ``.xdmf`` / ``.xmf`` holding a temporal collection (:mod:`nirom.readers.xdmf`).
- a pattern such as ``result_*.vtu``: the files matching it in the
  pattern's folder, ordered by the number the ``*`` stands for
  (``result_2`` before ``result_10``), at ``times`` (one per file), or at
  each file's VTK ``TimeValue`` field data when ``times`` is not given.

Any other file is one step without a time (``Step.time is None``).
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import meshio
import numpy as np

from nirom.errors import MeshError
from nirom.readers import pvd, xdmf
from nirom.readers.mesh_file import read_mesh

PATTERN_CHARS = "*?"


@dataclass(frozen=True)
class Step:
    """One step of a series: its time (None for a steady file), file, mesh and data."""

    time: float | None
    source: Path
    mesh: meshio.Mesh


def is_pattern(source: str | os.PathLike[str]) -> bool:
    """Whether ``source`` names numbered files (a ``*`` or ``?`` in its file name)."""
    return any(c in Path(source).name for c in PATTERN_CHARS)


def read_steps(source: str | os.PathLike[str], times: Sequence[float] | None = None) -> list[Step]:
    """The steps of a time series (module doc), or the one step of a steady file.

    Parameters
    ----------
    source : path or pattern
        A ``.pvd``, an XDMF file, a pattern of numbered files, or any mesh file.
    times : sequence of float, optional
        The time of each numbered file (patterns only; a ``.pvd`` or XDMF
        file carries its own).

    Raises
    ------
    MeshError
        Naming the file or pattern at fault.
    """
    path = Path(source)
    if is_pattern(path):
        return _numbered(path, times)
    if times is not None:
        raise MeshError(f"{path}: times are given for numbered files (a pattern like result_*.vtu)")
    suffix = path.suffix.lower()
    if suffix == ".pvd":
        return _pvd(path)
    if suffix in (".xdmf", ".xmf") and xdmf.is_time_series(path):
        return [Step(t, path, m) for t, m in xdmf.read_series(path)]
    return [Step(None, path, read_mesh(path))]


def _pvd(path: Path) -> list[Step]:
    """Each ``DataSet`` of part 0 of a ParaView collection, by increasing time."""
    return [Step(t, file, read_mesh(file)) for t, file in pvd.collection(path)]


def _numbered(pattern: Path, times: Sequence[float] | None) -> list[Step]:
    if any(c in str(pattern.parent) for c in PATTERN_CHARS):
        raise MeshError(f"{pattern}: only the file name may hold * or ?")
    files = sorted(pattern.parent.glob(pattern.name), key=lambda p: _natural(p.name))
    if not files:
        raise MeshError(f"{pattern}: no file matches")
    meshes = [read_mesh(f) for f in files]
    if times is None:
        found = [m.field_data.get("TimeValue") for m in meshes]
        if any(v is None or np.size(v) != 1 for v in found):
            raise MeshError(
                f"{pattern}: give the times of the {len(files)} files "
                "(they carry no TimeValue field data)"
            )
        times = [float(np.ravel(v)[0]) for v in found]
    times = [float(t) for t in times]
    if len(times) != len(files):
        raise MeshError(f"{pattern}: {len(files)} files match for {len(times)} times")
    if any(b <= a for a, b in itertools.pairwise(times)):
        raise MeshError(f"{pattern}: the times must increase, got {times}")
    return [Step(t, f, m) for t, f, m in zip(times, files, meshes, strict=True)]


def _natural(name: str) -> list:
    """Sort key with numbers compared as numbers: result_2 before result_10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]
