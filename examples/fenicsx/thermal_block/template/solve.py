"""Thermal block in FEniCSx (dolfinx 0.11), a program that knows nothing of nirom.

    -div(k grad u) = f on the unit square, u = 0 on its boundary, P1 triangles;
    k = k_i on block i of nx x ny equal blocks (numbered row by row from the bottom left).

Reads ``params.json`` ({"k": [k_0, ...], "source": f, "blocks": [nx, ny]}) and ``mesh.msh``
(Gmsh, triangles) from the working folder and writes

- ``result.xdmf`` (+ ``result.h5``): the temperature ``u`` at the mesh nodes (XDMFFile);
- with ``--vtu``: ``result.vtu``, the same nodes and values for readers of plain VTU;
- with ``--matrices block`` (or ``both``): ``A.petsc``, ``b.petsc`` (PETSc binary) the
  system on the unknowns off the boundary, and ``free.txt``, the node (in result.xdmf's
  node order) of each unknown, one a line; u = 0 on the other nodes;
- with ``--matrices full`` (or ``both``): ``A_full.petsc``, ``b_full.petsc``, the system on
  every node with identity rows (and zeroed columns) for the boundary, and ``nodes.txt``,
  the node of each row.

Run it with FEniCSx's Python: ``bash run.sh solve.py [--matrices block|full|both] [--vtu]``.
"""

import argparse
import json
import time

import numpy as np

t_start = time.perf_counter()
import meshio  # noqa: E402
import ufl  # noqa: E402
from dolfinx import fem, io  # noqa: E402
from dolfinx import mesh as dmesh  # noqa: E402
from dolfinx.fem.petsc import (  # noqa: E402
    apply_lifting,
    assemble_matrix,
    assemble_vector,
    set_bc,
)
from dolfinx.io.gmsh import ufl_mesh  # noqa: E402
from mpi4py import MPI  # noqa: E402
from petsc4py import PETSc  # noqa: E402

GMSH_TRIANGLE = 2
# Concurrent runs on a cold cache wait for one another's compilation (default: 10 s).
JIT = {"timeout": 600}


def read_mesh(path: str) -> dmesh.Mesh:
    """A dolfinx mesh from a Gmsh file of linear triangles, read with meshio."""
    data = meshio.read(path)
    cells = data.get_cells_type("triangle").astype(np.int64)
    return dmesh.create_mesh(
        MPI.COMM_WORLD, cells, ufl_mesh(GMSH_TRIANGLE, 2, np.float64), data.points[:, :2]
    )


def node_of_dof(V: fem.FunctionSpace) -> np.ndarray:
    """The geometry node (the order XDMFFile writes) of each P1 dof, on a P1 mesh."""
    geometry = V.mesh.geometry.dofmaps[0]
    dofs = V.dofmap.list
    out = np.empty(V.dofmap.index_map.size_local, dtype=np.int64)
    out[dofs.ravel()] = geometry.ravel()
    return out


def write_petsc(path: str, obj: PETSc.Mat | PETSc.Vec) -> None:
    """``obj`` in PETSc's binary format (no ``.info`` file beside it)."""
    PETSc.Options()["viewer_binary_skip_info"] = None
    viewer = PETSc.Viewer().createBinary(path, "w")
    obj.view(viewer)
    viewer.destroy()


parser = argparse.ArgumentParser(description="thermal block in dolfinx")
parser.add_argument("--matrices", choices=("none", "block", "full", "both"), default="none")
parser.add_argument("--vtu", action="store_true", help="also write result.vtu (meshio)")
args = parser.parse_args()
with open("params.json", encoding="utf-8") as fh:
    params = json.load(fh)
nx, ny = params["blocks"]
k_values = np.asarray(params["k"], dtype=float)
assert k_values.size == nx * ny, "one conductivity per block"

msh = read_mesh("mesh.msh")
t_setup = time.perf_counter()
V = fem.functionspace(msh, ("Lagrange", 1))
# Conductivity: piecewise constant, the block of each cell from its centroid.
tdim = msh.topology.dim
n_cells = msh.topology.index_map(tdim).size_local
centroids = msh.geometry.x[msh.geometry.dofmaps[0][:n_cells]].mean(axis=1)
bx = np.minimum((centroids[:, 0] * nx).astype(int), nx - 1)
by = np.minimum((centroids[:, 1] * ny).astype(int), ny - 1)
Q = fem.functionspace(msh, ("DG", 0))
k = fem.Function(Q)
k.x.array[Q.dofmap.list[:n_cells, 0]] = k_values[by * nx + bx]

msh.topology.create_connectivity(tdim - 1, tdim)
boundary = fem.locate_dofs_topological(V, tdim - 1, dmesh.exterior_facet_indices(msh.topology))
bc = fem.dirichletbc(0.0, boundary, V)
u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
a = fem.form(k * ufl.inner(ufl.grad(u), ufl.grad(v)) * ufl.dx, jit_options=JIT)
L = fem.form(fem.Constant(msh, float(params["source"])) * v * ufl.dx, jit_options=JIT)

t_solve = time.perf_counter()
A = assemble_matrix(a, bcs=[bc])
A.assemble()
b = assemble_vector(L)
apply_lifting(b, [a], bcs=[[bc]])
b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
set_bc(b, [bc])
solver = PETSc.KSP().create(msh.comm)
solver.setOperators(A)
solver.setType("preonly")
solver.getPC().setType("lu")
uh = fem.Function(V, name="u")
solver.solve(b, uh.x.petsc_vec)
uh.x.scatter_forward()
solve_time = time.perf_counter() - t_solve

with io.XDMFFile(msh.comm, "result.xdmf", "w") as xdmf:
    xdmf.write_mesh(msh)
    xdmf.write_function(uh)
if args.vtu:  # the same nodes, for readers of plain VTU (meshio)
    cells = msh.geometry.dofmaps[0][:n_cells]
    point_values = np.empty(len(msh.geometry.x))
    point_values[cells.ravel()] = uh.x.array[V.dofmap.list[:n_cells].ravel()]
    meshio.write(
        "result.vtu",
        meshio.Mesh(msh.geometry.x, [("triangle", cells)], point_data={"u": point_values}),
    )
with open("solve_time.json", "w", encoding="utf-8") as fh:
    json.dump({"solve_time_s": solve_time}, fh)

nodes = node_of_dof(V)
if args.matrices in ("full", "both"):
    write_petsc("A_full.petsc", A)
    write_petsc("b_full.petsc", b)
    np.savetxt("nodes.txt", nodes, fmt="%d")
if args.matrices in ("block", "both"):
    # The same forms without boundary conditions, restricted to the unknowns off the boundary.
    free = np.setdiff1d(np.arange(nodes.size, dtype=np.int32), boundary)
    A_all = assemble_matrix(a)
    A_all.assemble()
    b_all = assemble_vector(L)
    b_all.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    index = PETSc.IS().createGeneral(free, comm=msh.comm)
    write_petsc("A.petsc", A_all.createSubMatrix(index, index))
    write_petsc("b.petsc", b_all.getSubVector(index))
    np.savetxt("free.txt", nodes[free], fmt="%d")

print(
    f"thermal block: {nodes.size} nodes, {boundary.size} on the boundary; max u = "
    f"{uh.x.array.max():.6g}; solve {solve_time:.3f} s (setup {t_solve - t_setup:.2f} s, "
    f"imports + mesh {t_setup - t_start:.2f} s)"
)
