"""Write nirom's quarter plate with a hole (P2, curved hole edge) as template/mesh.msh.

Run once with nirom's Python (the file is shipped; rerun only to change the resolution):
    python examples/fenicsx/plate_hole/make_mesh.py [--resolution 9] [--out template/mesh.msh]
The mesh is nirom's own (``plate_with_hole(10, 50, 100, resolution)`` made quadratic
with its hole's edge nodes on the circle): 6-node triangles (physical group "plate")
and 3-node boundary lines in the physical groups hole, left, bottom, right, top.
Nodes keep nirom's order (vertices, then edge nodes).
"""

import argparse
from pathlib import Path

import meshio
import numpy as np

from nirom.mechanics.meshes import plate_with_hole, quadratic
from nirom.mechanics.space import DisplacementSpace

RADIUS, WIDTH, HEIGHT = 10.0, 50.0, 100.0
GROUPS = ("hole", "left", "bottom", "right", "top")

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--resolution", type=int, default=9)
parser.add_argument("--out", type=Path, default=Path(__file__).parent / "template" / "mesh.msh")
args = parser.parse_args()

linear = plate_with_hole(RADIUS, WIDTH, HEIGHT, args.resolution)
mesh = quadratic(linear, {"hole": (0.0, 0.0, RADIUS)})
space = DisplacementSpace(mesh, 2)
points = space.mesh.points[:, :2]
triangles = np.asarray(space.mesh.cells[0][1], dtype=np.int64)  # meshio's triangle6 order
n_vertices = linear.p.shape[1]
lines, tags = [], []
for tag, name in enumerate(GROUPS, start=1):
    facets = np.asarray(mesh.boundaries[name])
    # Gmsh line3: the two vertices, then the edge node (node n_vertices + facet, as in nirom).
    lines.append(np.column_stack([linear.facets[:, facets].T, n_vertices + facets]))
    tags.append(np.full(facets.size, tag, dtype=np.int32))
lines_all = np.vstack(lines)
tags_all = np.concatenate(tags)
domain = len(GROUPS) + 1
out = args.out
meshio.write(
    out,
    meshio.Mesh(
        np.column_stack([points, np.zeros(len(points))]),
        [("line3", lines_all), ("triangle6", triangles)],
        cell_data={
            "gmsh:physical": [tags_all, np.full(len(triangles), domain, dtype=np.int32)],
            "gmsh:geometrical": [tags_all, np.full(len(triangles), domain, dtype=np.int32)],
        },
        field_data={
            **{name: np.array([tag, 1]) for tag, name in enumerate(GROUPS, start=1)},
            "plate": np.array([domain, 2]),
        },
    ),
    file_format="gmsh22",
    binary=False,
)
print(
    f"wrote {out}: {len(points)} nodes ({2 * len(points)} dofs), {len(triangles)} triangles, "
    f"{len(lines_all)} boundary edges"
)
