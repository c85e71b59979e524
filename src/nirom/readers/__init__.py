"""Readers for what real codes write, where meshio falls short.

- :mod:`nirom.readers.formats`: the format a file shows (``found_format``)
  and the one-line error when no reader takes it (``unreadable``).
- :mod:`nirom.readers.mesh_file`: one file of any format (``read_mesh``).
- :mod:`nirom.readers.vtk_xml`: VTU of any format version (ascii, base64,
  appended raw data, zlib / LZMA compression, UInt32 / UInt64 headers, VTK
  Lagrange cells) and PVTU pieces merged into one mesh.
- :mod:`nirom.readers.xdmf`: XDMF time series (dolfinx's one collection per
  function) and multi-grid XDMF files.
- :mod:`nirom.readers.series`: ``.pvd`` collections, XDMF series and
  numbered files as a list of steps (``read_steps``).

Everything returns meshio meshes; :func:`nirom.mesh.read` and
:func:`nirom.dataset.transfer.read_series` turn them into nirom's meshes and
fields.
"""

from nirom.readers.formats import found_format
from nirom.readers.mesh_file import read_mesh
from nirom.readers.series import Step, is_pattern, read_steps

__all__ = ["Step", "found_format", "is_pattern", "read_mesh", "read_steps"]
