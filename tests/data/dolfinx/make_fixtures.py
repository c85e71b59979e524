"""Write the dolfinx fixtures of nirom's readers with dolfinx's own writers (FEniCSx 0.11).

Run from anywhere with FEniCSx's Python (the files land beside this script)::

    LD_LIBRARY_PATH=/root/.venvs/nirom-fenicsx/lib \\
        /root/.venvs/nirom-fenicsx/bin/python tests/data/dolfinx/make_fixtures.py

The serial run writes every fixture, then starts itself on two processes
(``mpiexec -n 2`` from the same environment) for the partitioned one. Each
fixture has a ``.npz`` of what dolfinx wrote, taken from dolfinx's own
objects (geometry ``x``, dof coordinates, ``Function.x.array``, PETSc
matrices), never from the files:

- ``heat.pvd`` (VTKFile: .pvd -> .pvtu -> VTU 2.2 per step): P1 scalar ``u`` and
  P1 vector ``v`` on triangles, 3 steps. ``heat.npz``: points (geometry order),
  cells (meshio order), u (3, n), v (3, n, 3 as written: 2-D vectors padded).
- ``p2.pvd``: a P2 scalar ``w`` on a P1 triangle mesh (VTKFile builds the P2
  grid from the dof coordinates). ``p2.npz``: points (dof coordinates), w.
- ``tet.pvd``: a P2 scalar ``w`` on tetrahedra. ``tet.npz``: points, w.
- ``par.pvd``: 2 processes, P1 ``u`` at 2 steps: a PVTU of two pieces per step
  with ghost cells and points. ``par.npz``: points and u (2, n) of every rank's
  owned nodes, ranks concatenated.
- ``series.xdmf`` + ``.h5`` (XDMFFile): the mesh once, then ``u`` (P1 scalar)
  and ``v`` (P1 vector) at 3 times, one temporal collection per function.
  ``series.npz``: points, cells, times, u, v.
- ``p2geom.xdmf`` + ``.h5``: a P2 function on a mesh with P2 (straight)
  geometry, 2 times: ``Triangle_6`` topology. ``p2geom.npz``: points, w.
- ``system_A.petsc`` / ``system_b.petsc`` (petsc4py binary viewer, big-endian)
  and ``system_A.mtx`` / ``system_b.mtx`` (the same CSR through SciPy): a P1
  Poisson system assembled with a Dirichlet condition, so the Dirichlet rows
  are identity rows and the right-hand side holds the Dirichlet values.
  ``system_nodes.txt``: the mesh node (geometry index) of each dof.
  ``system.npz``: points, cells, u (the solution at the nodes), g (the
  boundary values at the nodes), dirichlet_nodes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import basix.ufl
import dolfinx
import dolfinx.fem as fem
import dolfinx.fem.petsc
import dolfinx.io
import dolfinx.mesh as dmesh
import numpy as np
import ufl
from mpi4py import MPI
from petsc4py import PETSc

HERE = Path(__file__).resolve().parent
COMM = MPI.COMM_WORLD
# VTK's node order (meshio's) from basix's for P1 cells and P2 triangles / tetrahedra.
TO_VTK = {
    (dmesh.CellType.triangle, 3): [0, 1, 2],
    (dmesh.CellType.triangle, 6): [0, 1, 2, 5, 3, 4],
    (dmesh.CellType.tetrahedron, 4): [0, 1, 2, 3],
}


def f_scalar(x: np.ndarray, t: float) -> np.ndarray:
    """A smooth non-polynomial field, so that values at the wrong node show."""
    return np.sin(2.0 * x[0] + 0.3) * np.cos(1.5 * x[1]) + t + x[2]


def f_vector(x: np.ndarray, t: float) -> np.ndarray:
    return np.stack([np.cos(x[0] * x[1]) + t, x[0] ** 2 - t * x[1]])


def geometry(mesh: dmesh.Mesh) -> tuple[np.ndarray, np.ndarray]:
    """Points (geometry order) and cells in VTK / meshio node order."""
    dofmap = mesh.geometry.dofmaps[0]
    perm = TO_VTK[(mesh.topology.cell_type, dofmap.shape[1])]
    return mesh.geometry.x.copy(), dofmap[:, perm].copy()


def at_nodes(u: fem.Function) -> np.ndarray:
    """Values of ``u`` (same Lagrange degree as the geometry) at the geometry nodes."""
    mesh = u.function_space.mesh
    bs = u.function_space.dofmap.bs
    out = np.zeros((mesh.geometry.x.shape[0], bs))
    cells = mesh.geometry.dofmaps[0]
    dofs = u.function_space.dofmap.list
    values = u.x.array.reshape(-1, bs)
    for c in range(cells.shape[0]):
        out[cells[c]] = values[dofs[c]]
    return out[:, 0] if bs == 1 else out


def padded(v: np.ndarray) -> np.ndarray:
    """2-D vectors with the zero third component the writers add."""
    return np.concatenate([v, np.zeros((*v.shape[:-1], 1))], axis=-1)


def vtk_p1() -> None:
    mesh = dmesh.create_unit_square(COMM, 3, 3, dmesh.CellType.triangle)
    u = fem.Function(fem.functionspace(mesh, ("Lagrange", 1)), name="u")
    v = fem.Function(fem.functionspace(mesh, ("Lagrange", 1, (2,))), name="v")
    times = (0.0, 0.25, 0.5)
    us, vs = [], []
    with dolfinx.io.VTKFile(COMM, HERE / "heat.pvd", "w") as out:
        for t in times:
            u.interpolate(lambda x, t=t: f_scalar(x, t))
            v.interpolate(lambda x, t=t: f_vector(x, t))
            out.write_function([u, v], t)
            us.append(at_nodes(u))
            vs.append(padded(at_nodes(v)))
    points, cells = geometry(mesh)
    np.savez(HERE / "heat.npz", points=points, cells=cells, times=times, u=us, v=vs)


def vtk_p2(name: str, mesh: dmesh.Mesh) -> None:
    """A P2 function on a P1 mesh: VTKFile writes the P2 grid of the dof coordinates."""
    space = fem.functionspace(mesh, ("Lagrange", 2))
    w = fem.Function(space, name="w")
    w.interpolate(lambda x: f_scalar(x, 0.0))
    with dolfinx.io.VTKFile(COMM, HERE / f"{name}.pvd", "w") as out:
        out.write_function(w, 0.0)
    np.savez(HERE / f"{name}.npz", points=space.tabulate_dof_coordinates(), w=w.x.array)


def xdmf_series() -> None:
    mesh = dmesh.create_unit_square(COMM, 3, 2, dmesh.CellType.triangle)
    u = fem.Function(fem.functionspace(mesh, ("Lagrange", 1)), name="u")
    v = fem.Function(fem.functionspace(mesh, ("Lagrange", 1, (2,))), name="v")
    times = (0.0, 0.5, 1.0)
    us, vs = [], []
    with dolfinx.io.XDMFFile(COMM, HERE / "series.xdmf", "w") as out:
        out.write_mesh(mesh)
        for t in times:
            u.interpolate(lambda x, t=t: f_scalar(x, t))
            v.interpolate(lambda x, t=t: f_vector(x, t))
            out.write_function(u, t)
            out.write_function(v, t)
            us.append(at_nodes(u))
            vs.append(padded(at_nodes(v)))
    points, cells = geometry(mesh)
    np.savez(HERE / "series.npz", points=points, cells=cells, times=times, u=us, v=vs)


def xdmf_p2_geometry() -> None:
    """A P2 function on a mesh with a straight P2 geometry (sheared unit square)."""
    linear = dmesh.create_unit_square(COMM, 2, 2, dmesh.CellType.triangle)
    space = fem.functionspace(linear, ("Lagrange", 2))
    x = space.tabulate_dof_coordinates()
    x = np.column_stack([x[:, 0] + 0.3 * x[:, 1], 0.8 * x[:, 1]])  # affine: edges stay straight
    domain = ufl.Mesh(basix.ufl.element("Lagrange", "triangle", 2, shape=(2,)))
    mesh = dmesh.create_mesh(COMM, space.dofmap.list.astype(np.int64), domain, x)
    w = fem.Function(fem.functionspace(mesh, ("Lagrange", 2)), name="w")
    ws = []
    with dolfinx.io.XDMFFile(COMM, HERE / "p2geom.xdmf", "w") as out:
        out.write_mesh(mesh)
        for t in (0.0, 1.0):
            w.interpolate(lambda x, t=t: f_scalar(x, t))
            out.write_function(w, t)
            ws.append(at_nodes(w))
    points, cells = geometry(mesh)
    np.savez(HERE / "p2geom.npz", points=points, cells=cells, times=(0.0, 1.0), w=ws)


def petsc_system() -> None:
    """-Lap u = 1 + x on the unit square, u = g on the boundary, P1; Dirichlet rows identity."""
    mesh = dmesh.create_unit_square(COMM, 3, 3, dmesh.CellType.triangle)
    space = fem.functionspace(mesh, ("Lagrange", 1))
    uu, vv = ufl.TrialFunction(space), ufl.TestFunction(space)
    x = ufl.SpatialCoordinate(mesh)
    a = fem.form(ufl.inner(ufl.grad(uu), ufl.grad(vv)) * ufl.dx)
    rhs = fem.form((1.0 + x[0]) * vv * ufl.dx)
    g = fem.Function(space)
    g.interpolate(lambda x: 0.5 + x[0] * x[1])
    mesh.topology.create_connectivity(1, 2)
    facets = dmesh.exterior_facet_indices(mesh.topology)
    dofs = fem.locate_dofs_topological(space, 1, facets)
    bc = fem.dirichletbc(g, dofs)
    matrix = dolfinx.fem.petsc.assemble_matrix(a, bcs=[bc])
    matrix.assemble()
    vector = dolfinx.fem.petsc.assemble_vector(rhs)
    dolfinx.fem.petsc.apply_lifting(vector, [a], bcs=[[bc]])
    vector.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    dolfinx.fem.petsc.set_bc(vector, [bc])
    for obj, name in ((matrix, "system_A.petsc"), (vector, "system_b.petsc")):
        viewer = PETSc.Viewer().createBinary(str(HERE / name), "w")
        obj.view(viewer)
        viewer.destroy()
        info = HERE / f"{name}.info"  # PETSc's option companion file: not needed
        if info.exists():
            info.unlink()
    indptr, indices, data = matrix.getValuesCSR()
    rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    write_mtx(HERE / "system_A.mtx", matrix.getSize(), rows, indices, data)
    write_mtx(HERE / "system_b.mtx", (vector.getSize(), 1), None, None, vector.array)
    solution = fem.Function(space)
    solver = PETSc.KSP().create(COMM)
    solver.setOperators(matrix)
    solver.setType("preonly")
    solver.getPC().setType("lu")
    solver.solve(vector, solution.x.petsc_vec)
    # The mesh node of each dof (P1: the geometry node of the same cell-local vertex).
    node_of_dof = np.empty(space.dofmap.index_map.size_local, dtype=np.int64)
    for c in range(mesh.geometry.dofmaps[0].shape[0]):
        node_of_dof[space.dofmap.cell_dofs(c)] = mesh.geometry.dofmaps[0][c]
    np.savetxt(HERE / "system_nodes.txt", node_of_dof, fmt="%d")
    points, cells = geometry(mesh)
    dirichlet_nodes = np.sort(node_of_dof[dofs])
    np.savez(
        HERE / "system.npz",
        points=points,
        cells=cells,
        u=at_nodes(solution),
        g=at_nodes(g),
        dirichlet_nodes=dirichlet_nodes,
    )


def write_mtx(path: Path, shape: tuple[int, int], rows, cols, values) -> None:
    """MatrixMarket by hand (coordinate for a matrix, array for a vector): no SciPy here."""
    values = [repr(float(v)) for v in values]
    if rows is None:
        body = [f"{shape[0]} {shape[1]}", *values]
        head = "%%MatrixMarket matrix array real general"
    else:
        body = [f"{shape[0]} {shape[1]} {len(values)}"]
        body += [f"{i + 1} {j + 1} {v}" for i, j, v in zip(rows, cols, values, strict=True)]
        head = "%%MatrixMarket matrix coordinate real general"
    path.write_text("\n".join([head, *body]) + "\n")


def partitioned() -> None:
    """On 2 processes: a PVTU series of two pieces per step, ghosts included."""
    mesh = dmesh.create_unit_square(
        COMM, 3, 3, dmesh.CellType.triangle, ghost_mode=dmesh.GhostMode.shared_facet
    )
    u = fem.Function(fem.functionspace(mesh, ("Lagrange", 1)), name="u")
    times = (0.0, 1.0)
    us = []
    with dolfinx.io.VTKFile(COMM, HERE / "par.pvd", "w") as out:
        for t in times:
            u.interpolate(lambda x, t=t: f_scalar(x, t))
            out.write_function(u, t)
            us.append(at_nodes(u))
    owned = mesh.geometry.index_map().size_local
    points = COMM.gather(mesh.geometry.x[:owned], root=0)
    values = COMM.gather(np.array(us)[:, :owned], root=0)
    if COMM.rank == 0:
        np.savez(
            HERE / "par.npz",
            points=np.concatenate(points),
            times=times,
            u=np.concatenate(values, axis=1),
        )


def main() -> None:
    if COMM.size == 2:
        partitioned()
        return
    vtk_p1()
    vtk_p2("p2", dmesh.create_unit_square(COMM, 2, 2, dmesh.CellType.triangle))
    vtk_p2("tet", dmesh.create_unit_cube(COMM, 1, 1, 1, dmesh.CellType.tetrahedron))
    xdmf_series()
    xdmf_p2_geometry()
    petsc_system()
    mpiexec = Path(sys.executable).parent / "mpiexec"
    subprocess.run(
        [str(mpiexec), "-n", "2", sys.executable, __file__], check=True, env=dict(os.environ)
    )


if __name__ == "__main__":
    main()
