"""matplotlib, loaded when a plot is asked for, and the mesh it draws on.

The ground floor of every plot nirom writes: :mod:`nirom.report.plots` and
:mod:`nirom.apps.plots` both build on it, so neither imports the other.

- :func:`pyplot`: ``matplotlib.pyplot`` on the file-only ``Agg`` backend.
- :func:`triangulation`: a 2-D triangle or quad mesh as a matplotlib triangulation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nirom.mesh import Mesh


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the ``Agg`` backend (PNG files, no window)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def triangulation(mesh: Mesh) -> Any:
    """A ``matplotlib.tri.Triangulation`` of a 2-D triangle or quad mesh (each quad
    split into two triangles), in the mesh's own length unit."""
    import matplotlib.tri as mtri

    cell_type, conn = mesh.cells[0]
    if cell_type == "quad":  # split each quad into two triangles for plotting
        conn = np.vstack([conn[:, [0, 1, 2]], conn[:, [0, 2, 3]]])
    elif cell_type != "triangle" or mesh.dim != 2:
        raise ValueError("field plots need a 2-D triangle or quad mesh")
    return mtri.Triangulation(mesh.points[:, 0], mesh.points[:, 1], conn)
