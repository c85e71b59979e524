"""Write nirom's thermal-block mesh (2 x 2 blocks, resolution 48) as template/mesh.msh.

Run once with nirom's Python (the file is shipped; rerun only to change the resolution):
    python examples/fenicsx/thermal_block/make_mesh.py [--resolution 48]
The FEniCSx program reads it, so both codes solve on the same nodes and triangles.
"""

import argparse
from pathlib import Path

import meshio
import numpy as np

from nirom.solvers import make_solver

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--resolution", type=int, default=48)
args = parser.parse_args()

solver = make_solver(
    "thermal-block", {"nx_blocks": 2, "ny_blocks": 2, "resolution": args.resolution}
)
mesh = solver.fem_mesh
triangles = np.ascontiguousarray(mesh.t.T, dtype=np.int64)
out = Path(__file__).parent / "template" / "mesh.msh"
meshio.write(
    out,
    meshio.Mesh(
        np.column_stack([mesh.p.T, np.zeros(mesh.p.shape[1])]),
        [("triangle", triangles)],
        cell_data={
            "gmsh:physical": [np.ones(len(triangles), dtype=np.int32)],
            "gmsh:geometrical": [np.ones(len(triangles), dtype=np.int32)],
        },
        field_data={"domain": np.array([1, 2])},
    ),
    file_format="gmsh22",
    binary=False,
)
print(f"wrote {out}: {mesh.p.shape[1]} nodes, {len(triangles)} triangles")
