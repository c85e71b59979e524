"""ParaView collections (``.pvd``): the step files and their times, without reading them.

:func:`collection` is shared by :func:`nirom.readers.mesh_file.read_mesh` (a collection
of one step is that step's mesh) and :func:`nirom.readers.series.read_steps` (every
step), which reads each file with ``read_mesh``.
"""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

from nirom.errors import MeshError
from nirom.readers.formats import unreadable


def collection(path: Path) -> list[tuple[float, Path]]:
    """Each ``DataSet`` of part 0 of the collection ``path``: (time, file), by increasing
    time (the time in the collection's unit, usually s).

    Raises
    ------
    MeshError
        Naming the collection: not found, not a collection, steps without distinct times,
        or a step file not found.
    """
    try:
        root = ElementTree.parse(path).getroot()
        entries = [
            (float(d.attrib["timestep"]), path.parent / d.attrib["file"])
            for d in root.iter("DataSet")
            if d.attrib.get("part", "0") == "0"
        ]
    except FileNotFoundError:
        raise MeshError(f"{path}: file not found") from None
    except (ElementTree.ParseError, KeyError, ValueError) as exc:
        raise unreadable(path, f"not a ParaView collection: {exc}") from None
    entries.sort(key=lambda e: e[0])
    times = [t for t, _ in entries]
    if not entries or len(set(times)) != len(times):
        raise unreadable(path, "a collection needs steps with distinct times")
    for _, file in entries:
        if not file.is_file():
            raise MeshError(f"{path}: its step file {file.name} is not found in {file.parent}")
    return entries
