"""What a file is, from its first bytes, and the one-line error for a file nirom cannot read.

Every reader of :mod:`nirom.readers` refuses a file with :func:`unreadable`:
the file, the format found in it, the reason, and what to write instead.
"""

from __future__ import annotations

import re
from pathlib import Path

from nirom.errors import MeshError

WRITE_INSTEAD = (
    "write a VTU (.vtu / .pvtu), a .pvd or XDMF time series, or another format meshio reads"
)


def unreadable(path: str | Path, reason: str, instead: str = WRITE_INSTEAD) -> MeshError:
    """``PATH: cannot read FORMAT (REASON); INSTEAD`` as a :class:`MeshError`."""
    return MeshError(f"{path}: cannot read {found_format(path)} ({reason}); {instead}")


def found_format(path: str | Path) -> str:
    """What a file looks like from its first bytes, e.g. 'a VTK XML PolyData file, version 1.0'."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(1024)
    except OSError:
        return "an unreadable file"
    if not head.strip():
        return "an empty file"
    text = head.decode("latin-1")
    vtk = re.search(r"<VTKFile\b([^>]*)>", text)
    if vtk:
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', vtk.group(1)))
        return f"a VTK XML {attrs.get('type', '?')} file, version {attrs.get('version', '?')}"
    if re.search(r"<Xdmf\b", text):
        return "an XDMF file"
    legacy = re.match(r"# vtk DataFile Version ([\d.]+)", text)
    if legacy:
        return f"a legacy VTK file, version {legacy.group(1)}"
    if head.startswith(b"\x89HDF"):
        return "an HDF5 file"
    if text.lstrip().startswith("$MeshFormat"):
        return "a Gmsh file"
    root = re.search(r"<([A-Za-z_][\w.-]*)", text)
    if text.lstrip().startswith("<") and root:
        return f"an XML file with root <{root.group(1)}>"
    kind = "text" if all(32 <= b < 127 or b in (9, 10, 13) for b in head) else "binary"
    return f"a {kind} file with extension {path.suffix or '(none)'}"
