"""J2 plasticity of a plate with a hole in FEniCSx (dolfinx 0.11); it knows nothing of nirom.

Quarter of a plate (50 x 100 mm half-sizes) with a central hole (radius 10 mm), plane
strain, read from ``mesh.msh`` (Gmsh: 6-node triangles, 3-node boundary lines in the
physical groups hole, left, bottom, right, top). Symmetry: u_x = 0 on "left", u_y = 0 on
"bottom"; traction (0, load * sin(2 pi t / period)) MPa on "top", one cycle in ``steps``
equal steps. Small strains, von Mises plasticity with linear isotropic hardening
(E, nu, sigma_y, H), integrated by backward Euler (radial return) with the consistent
tangent; sigma_zz is carried, the out-of-plane strain is 0.

Discretisation: isoparametric P2 displacement; stresses, tangents and internal variables
live at three points per cell, (1/6, 1/6), (2/3, 1/6), (1/6, 2/3) with weights 1/6 on the
reference triangle (basix custom quadrature elements), the rule the residual and tangent
are integrated with. Newton per step: ||R_free|| <= rtol * max(||f_ext||, ||f_int||),
the step halved on failure (back to full steps after two successes).

Reads ``params.json`` ({"load", "E", "nu", "sigma_y", "H", "period", "steps", and optional
"rtol", "max_iterations", "max_cuts"}) and writes, at every step (t = 0 included):

- ``result.xdmf`` (+ ``result.h5``): ``u`` (P2 vector) and ``p``, the cumulated plastic
  strain, L2-projected from its quadrature values onto scalar P2 (consistent mass matrix);
- ``solve_time.json``: {"solve_time_s": the time-stepping alone (no imports, mesh reading,
  form compilation or file writing)}.

Run it with FEniCSx's Python: ``bash run.sh solve.py``.
"""

import json
import time

import numpy as np

t_start = time.perf_counter()
import basix.ufl  # noqa: E402
import meshio  # noqa: E402
import ufl  # noqa: E402
from dolfinx import fem, io  # noqa: E402
from dolfinx import mesh as dmesh  # noqa: E402
from dolfinx.fem.petsc import assemble_matrix, assemble_vector, create_matrix  # noqa: E402
from dolfinx.graph import adjacencylist  # noqa: E402
from dolfinx.io.gmsh import cell_perm_array, ufl_mesh  # noqa: E402
from dolfinx.io.utils import distribute_entity_data  # noqa: E402
from mpi4py import MPI  # noqa: E402
from petsc4py import PETSc  # noqa: E402

GMSH_TRIANGLE6 = 9
SQRT2 = np.sqrt(2.0)
# Concurrent runs on a cold cache wait for one another's compilation (default: 10 s).
JIT = {"timeout": 600}
# The reference rule of the stresses and internal variables (scikit-fem's 3-point rule).
POINTS = np.array([[1 / 6, 1 / 6], [2 / 3, 1 / 6], [1 / 6, 2 / 3]])
WEIGHTS = np.array([1 / 6, 1 / 6, 1 / 6])


def read_mesh(path: str) -> tuple[dmesh.Mesh, dmesh.MeshTags, dict[str, int]]:
    """The P2 mesh, its facet tags and the physical group names -> tags, read with meshio."""
    data = meshio.read(path)
    cells = data.get_cells_type("triangle6").astype(np.int64)
    perm = cell_perm_array(dmesh.CellType.triangle, 6)  # Gmsh -> dolfinx node order
    msh = dmesh.create_mesh(
        MPI.COMM_WORLD,
        cells[:, perm],
        ufl_mesh(GMSH_TRIANGLE6, 2, np.float64),
        data.points[:, :2].copy(),
    )
    lines = data.get_cells_type("line3").astype(np.int64)
    values = data.get_cell_data("gmsh:physical", "line3").astype(np.int32)
    entities, local_values = distribute_entity_data(msh, 1, lines, values)
    msh.topology.create_connectivity(1, 2)
    tags = dmesh.meshtags_from_entities(msh, 1, adjacencylist(entities), local_values)
    groups = {name: int(tag) for name, (tag, dim) in data.field_data.items() if dim == 1}
    return msh, tags, groups


class J2LinearHardening:
    """Radial return for von Mises plasticity with linear isotropic hardening, plane strain.

    Strains and stresses in Mandel notation restricted to (11, 22, 33, sqrt2 12); the
    solver uses the in-plane components (11, 22, sqrt2 12), eps_33 = 0.
    """

    def __init__(self, E: float, nu: float, sigma_y: float, H: float) -> None:
        self.lam = E * nu / ((1 + nu) * (1 - 2 * nu))
        self.G = E / (2 * (1 + nu))
        self.sigma_y, self.H = sigma_y, H
        one = np.array([1.0, 1.0, 1.0, 0.0])
        self.stiffness = self.lam * np.outer(one, one) + 2 * self.G * np.eye(4)
        self.projector = np.eye(4) - np.outer(one, one) / 3

    def integrate(
        self, strain: np.ndarray, eps_p: np.ndarray, p: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """From in-plane strains (n, 3) and the state at the step's start: stress (n, 4),
        in-plane tangent (n, 3, 3) and the state at its end (eps_p (n, 4), p (n,))."""
        G, H = self.G, self.H
        eps = np.zeros((strain.shape[0], 4))
        eps[:, [0, 1, 3]] = strain
        elastic = eps - eps_p
        trace = elastic[:, :3].sum(axis=1)
        stress = 2 * G * elastic
        stress[:, :3] += self.lam * trace[:, None]
        a = 2 * G * elastic
        a[:, :3] -= (2 * G * trace / 3)[:, None]  # deviator of the trial stress
        q = np.sqrt(1.5 * np.einsum("ij,ij->i", a, a))
        r = self.sigma_y + H * p
        plastic = q > r
        tangent = np.broadcast_to(self.stiffness, (len(q), 4, 4)).copy()
        eps_p, p = eps_p.copy(), p.copy()
        if plastic.any():
            qp, ap = q[plastic], a[plastic]
            dp = (qp - r[plastic]) / (3 * G + H)
            N = 1.5 * ap / qp[:, None]
            stress[plastic] -= 2 * G * dp[:, None] * N
            eps_p[plastic] += dp[:, None] * N
            p[plastic] += dp
            ratio = 6 * G**2 * dp / qp
            h = H + 3 * G
            tangent[plastic] -= ratio[:, None, None] * self.projector
            tangent[plastic] -= ((4 * G**2 / h - 2 * ratio / 3)[:, None, None]) * (
                N[:, :, None] * N[:, None, :]
            )
        active = [0, 1, 3]
        return stress, tangent[:, active][:, :, active], eps_p, p


def mandel_strain(w: ufl.core.expr.Expr) -> ufl.core.expr.Expr:
    """(eps_11, eps_22, sqrt2 eps_12) of a displacement."""
    e = ufl.sym(ufl.grad(w))
    return ufl.as_vector([e[0, 0], e[1, 1], SQRT2 * e[0, 1]])


def main() -> None:
    with open("params.json", encoding="utf-8") as fh:
        params = json.load(fh)
    load, period, steps = float(params["load"]), float(params["period"]), int(params["steps"])
    rtol = float(params.get("rtol", 1e-11))
    max_iterations = int(params.get("max_iterations", 25))
    max_cuts = int(params.get("max_cuts", 10))
    law = J2LinearHardening(params["E"], params["nu"], params["sigma_y"], params["H"])

    msh, facet_tags, groups = read_mesh("mesh.msh")
    t_setup = time.perf_counter()
    V = fem.functionspace(msh, ("Lagrange", 2, (2,)))
    S = fem.functionspace(msh, ("Lagrange", 2))
    cell = msh.basix_cell()

    def quadrature_space(shape: tuple[int, ...]) -> fem.FunctionSpace:
        element = basix.ufl.quadrature_element(
            cell, value_shape=shape, scheme="custom", points=POINTS, weights=WEIGHTS
        )
        return fem.functionspace(msh, element)

    W_strain, W_tangent, W_scalar = (quadrature_space(s) for s in ((3,), (3, 3), ()))
    n_qp = W_scalar.dofmap.index_map.size_local
    # One numbering of the points for all three spaces (the law works point by point).
    assert np.array_equal(W_strain.dofmap.list, W_scalar.dofmap.list)
    assert np.array_equal(W_tangent.dofmap.list, W_scalar.dofmap.list)
    dx = ufl.Measure(
        "dx",
        domain=msh,
        metadata={
            "quadrature_rule": "custom",
            "quadrature_points": POINTS,
            "quadrature_weights": WEIGHTS,
        },
    )
    ds = ufl.Measure("ds", domain=msh, subdomain_data=facet_tags)

    u = fem.Function(V, name="u")
    du, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    stress_q = fem.Function(W_strain)  # active Mandel stress at the points
    tangent_q = fem.Function(W_tangent)
    strain_q = fem.Function(W_strain)
    p_q = fem.Function(W_scalar)
    strain_expr = fem.Expression(
        mandel_strain(u), W_strain.element.interpolation_points, jit_options=JIT
    )
    traction = fem.Constant(msh, np.array([0.0, load]))
    internal = fem.form(ufl.inner(stress_q, mandel_strain(v)) * dx, jit_options=JIT)
    external = fem.form(ufl.inner(traction, v) * ds(groups["top"]), jit_options=JIT)
    jacobian = fem.form(
        ufl.inner(ufl.dot(tangent_q, mandel_strain(du)), mandel_strain(v)) * dx, jit_options=JIT
    )

    tdim = msh.topology.dim
    left = fem.locate_dofs_topological(V.sub(0), tdim - 1, facet_tags.find(groups["left"]))
    bottom = fem.locate_dofs_topological(V.sub(1), tdim - 1, facet_tags.find(groups["bottom"]))
    zero = PETSc.ScalarType(0.0)
    bcs = [fem.dirichletbc(zero, left, V.sub(0)), fem.dirichletbc(zero, bottom, V.sub(1))]
    fixed = np.concatenate([bc.dof_indices()[0] for bc in bcs])

    # L2 projection of p: consistent P2 mass (6-point degree-4 rule), right-hand side on
    # the points of p.
    s, w = ufl.TrialFunction(S), ufl.TestFunction(S)
    mass_form = s * w * ufl.dx(metadata={"quadrature_degree": 4})
    mass = assemble_matrix(fem.form(mass_form, jit_options=JIT))
    mass.assemble()
    projection_rhs = fem.form(p_q * w * dx, jit_options=JIT)
    projector = PETSc.KSP().create(msh.comm)
    projector.setOperators(mass)
    projector.setType("preonly")
    projector.getPC().setType("lu")
    linear = PETSc.KSP().create(msh.comm)
    linear.setType("preonly")
    linear.getPC().setType("lu")
    linear.getPC().setFactorSolverType("mumps")

    f_unit = assemble_vector(external).array.copy()  # the traction (0, load) on "top"
    K = create_matrix(jacobian)  # one sparsity pattern: the LU's symbolic analysis is kept
    linear.setOperators(K)
    du_vec = fem.Function(V)

    def evaluate(eps_p: np.ndarray, p: np.ndarray) -> tuple:
        strain_q.interpolate(strain_expr)
        sigma, tangent, eps_p_new, p_new = law.integrate(
            strain_q.x.array.reshape(n_qp, 3), eps_p, p
        )
        stress_q.x.array[:] = sigma[:, [0, 1, 3]].ravel()
        tangent_q.x.array[:] = tangent.ravel()
        f_int = assemble_vector(internal).array.copy()
        return f_int, sigma, eps_p_new, p_new

    def newton(t_new: float, eps_p: np.ndarray, p: np.ndarray) -> tuple | None:
        """Equilibrium at t_new from the state (u, eps_p, p) at the step's start."""
        u_start = u.x.array.copy()
        f_ext = np.sin(2.0 * np.pi * (t_new / period)) * f_unit
        first = None
        for it in range(max_iterations + 1):
            f_int, sigma, eps_p_new, p_new = evaluate(eps_p, p)
            residual = f_int - f_ext
            residual[fixed] = 0.0
            norm = np.linalg.norm(residual)
            reference = max(np.linalg.norm(f_ext), np.linalg.norm(f_int))
            first = norm if first is None else first
            if not np.isfinite(norm) or (it > 0 and norm > 1e6 * first):
                break
            if norm <= rtol * reference:
                return eps_p_new, p_new, sigma, it
            if it == max_iterations:
                break
            K.zeroEntries()
            assemble_matrix(K, jacobian, bcs=bcs)
            K.assemble()
            rhs = PETSc.Vec().createWithArray(-residual)
            linear.solve(rhs, du_vec.x.petsc_vec)
            u.x.array[:] += du_vec.x.array
        u.x.array[:] = u_start
        return None

    times = period * np.arange(steps + 1) / steps
    eps_p, p = np.zeros((n_qp, 4)), np.zeros(n_qp)
    out_u, out_p = [u.x.array.copy()], [np.zeros(S.dofmap.index_map.size_local)]
    p_nodal = fem.Function(S, name="p")
    iterations, cuts = 0, 0
    t_loop = time.perf_counter()
    t = times[0]
    for target in times[1:]:
        span = target - t
        level, successes = 0, 0
        while t < target - 1e-12 * span:
            dt = min(span * 0.5**level, target - t)
            t_new = target if target - (t + dt) < 1e-12 * span else t + dt
            done = newton(t_new, eps_p, p)
            if done is None:
                if level >= max_cuts:
                    raise SystemExit(f"Newton failed at t = {t_new:.6g} even with the minimum step")
                level, successes, cuts = level + 1, 0, cuts + 1
                continue
            eps_p, p, _, its = done
            iterations += its
            t, successes = t_new, successes + 1
            if successes >= 2 and level > 0:
                level, successes = level - 1, 0
        p_q.x.array[:] = p
        rhs = assemble_vector(projection_rhs)
        projector.solve(rhs, p_nodal.x.petsc_vec)
        out_u.append(u.x.array.copy())
        out_p.append(p_nodal.x.array.copy())
    solve_time = time.perf_counter() - t_loop

    t_write = time.perf_counter()
    with io.XDMFFile(msh.comm, "result.xdmf", "w") as xdmf:
        xdmf.write_mesh(msh)
        for time_value, u_values, p_values in zip(times, out_u, out_p, strict=True):
            u.x.array[:] = u_values
            p_nodal.x.array[:] = p_values
            xdmf.write_function(u, time_value)
            xdmf.write_function(p_nodal, time_value)
    with open("solve_time.json", "w", encoding="utf-8") as fh:
        json.dump({"solve_time_s": solve_time}, fh)
    print(
        f"plate with a hole: {V.dofmap.index_map.size_local * 2} dofs, {n_qp} points, "
        f"{steps} steps, {iterations} Newton iterations, {cuts} cuts; max p at the points "
        f"{p.max():.4g}; "
        f"solve {solve_time:.3f} s (imports + mesh {t_setup - t_start:.2f} s, setup "
        f"{t_loop - t_setup:.2f} s, writing {time.perf_counter() - t_write:.2f} s)"
    )


if __name__ == "__main__":
    main()
