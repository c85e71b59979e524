"""Elasticity solver: convergence orders by manufactured solution, and basic physics."""

from __future__ import annotations

import numpy as np
import pytest
import skfem

from nirom import ParameterError
from nirom.solvers import Elasticity, SolverError, make_solver

MU = {"E": 100e9, "nu": 0.3, "load": 5e5, "angle": 250.0}
C = 1e-5  # amplitude of the manufactured displacement, m


def exact(x, y):
    """Manufactured displacement u = C (sin(pi x) sin(pi y), x^2 y)."""
    return C * np.sin(np.pi * x) * np.sin(np.pi * y), C * x**2 * y


def exact_grad(x, y):
    """Rows: grad u_x, grad u_y."""
    s, c = np.sin, np.cos
    return (
        (C * np.pi * c(np.pi * x) * s(np.pi * y), C * np.pi * s(np.pi * x) * c(np.pi * y)),
        (C * 2 * x * y, C * x**2),
    )


def lame(E, nu):
    """Plane-stress lam* and mu."""
    return E * nu / (1 - nu**2), E / (2 * (1 + nu))


def body_force(x, y):
    """f = -div sigma(u) for the manufactured u (derived by hand, checked with sympy).

    -div sigma = -((lam + mu) grad div u + mu Lap u), with
    div u = C (pi cos(pi x) sin(pi y) + x^2).
    """
    lam, mu = lame(MU["E"], MU["nu"])
    s, c = np.sin, np.cos
    fx = (lam + 3 * mu) * np.pi**2 * s(np.pi * x) * s(np.pi * y) - 2 * (lam + mu) * x
    fy = -((lam + mu) * np.pi**2 * c(np.pi * x) * c(np.pi * y) + 2 * mu * y)
    return C * fx, C * fy


def l2_and_h1_errors(solver: Elasticity, displacement: np.ndarray) -> tuple[float, float]:
    """Errors against the manufactured u in the L2 norm and the H1 seminorm."""

    @skfem.Functional
    def err_l2(w):
        ux, uy = exact(*w.x)
        return (w["uh"][0] - ux) ** 2 + (w["uh"][1] - uy) ** 2

    @skfem.Functional
    def err_h1(w):
        g = exact_grad(*w.x)
        return sum((w["uh"].grad[i][j] - g[i][j]) ** 2 for i in range(2) for j in range(2))

    # A higher-order quadrature so the error integral itself is accurate.
    basis = skfem.Basis(solver.fem_mesh, solver.basis.elem, intorder=6)
    uh = np.zeros(basis.N)
    uh[basis.nodal_dofs] = displacement.T
    uh_q = basis.interpolate(uh)
    return np.sqrt(err_l2.assemble(basis, uh=uh_q)), np.sqrt(err_h1.assemble(basis, uh=uh_q))


def test_p1_converges_at_order_2_in_l2_and_1_in_h1() -> None:
    errors = []
    for refine in (3, 4, 5, 6):
        solver = Elasticity(refine=refine, body_force=body_force, dirichlet=exact)
        errors.append(l2_and_h1_errors(solver, solver.solve(MU)["displacement"]))
    errors = np.array(errors)
    rates = np.log2(errors[:-1] / errors[1:])
    assert np.all(np.abs(rates[:, 0] - 2.0) < 0.15), rates
    assert np.all(np.abs(rates[:, 1] - 1.0) < 0.15), rates
    # The load has no effect once the whole boundary is Dirichlet.
    np.testing.assert_array_equal(
        solver.solve({**MU, "load": 1e6, "angle": 0.0})["displacement"],
        solver.solve(MU)["displacement"],
    )


@pytest.fixture(scope="module")
def solver() -> Elasticity:
    return Elasticity(refine=4)


def test_shapes_mesh_and_clamp(solver: Elasticity) -> None:
    out = solver.solve(MU)
    assert out["displacement"].shape == (solver.mesh.n_points, 2) == (833, 2)
    assert out["von_mises"].shape == (solver.mesh.n_cells,) == (1536,)
    assert solver.free.size == 1632
    x, y = solver.mesh.points.T
    on_clamp = np.isclose(y, 1.0) & (x <= 0.5 + 1e-12)
    assert on_clamp.sum() == 17
    assert np.all(out["displacement"][on_clamp] == 0.0)
    assert np.abs(out["displacement"][~on_clamp]).min(axis=1).max() > 0.0
    # Bracket [0, 1]^2 without the upper-right quarter: area 3/4.
    ones = np.ones(solver.mesh.n_points)
    assert ones @ solver.mass_matrix() @ ones == pytest.approx(0.75)


def test_linear_in_load_and_inverse_in_E(solver: Elasticity) -> None:
    u = solver.solve(MU)["displacement"]
    for scale in (0.7, 1.9):
        u_load = solver.solve({**MU, "load": MU["load"] * scale})["displacement"]
        np.testing.assert_allclose(u_load, scale * u, rtol=1e-10, atol=1e-10 * np.abs(u).max())
        u_e = solver.solve({**MU, "E": MU["E"] * scale})["displacement"]
        np.testing.assert_allclose(u_e, u / scale, rtol=1e-10, atol=1e-10 * np.abs(u).max())


def test_half_turn_of_the_load_flips_displacement_not_stress(solver: Elasticity) -> None:
    a = solver.solve({**MU, "angle": 30.0})
    b = solver.solve({**MU, "angle": 210.0})
    scale = np.abs(a["displacement"]).max()
    np.testing.assert_allclose(b["displacement"], -a["displacement"], atol=1e-10 * scale)
    assert a["von_mises"].min() >= 0.0 and a["von_mises"].max() > 0.0
    np.testing.assert_allclose(b["von_mises"], a["von_mises"], rtol=1e-9)


def test_reactions_balance_the_applied_load(solver: Elasticity) -> None:
    """Static equilibrium: clamp reactions equal minus the total traction load * L/2."""
    u = np.zeros(solver.basis.N)
    u[solver.basis.nodal_dofs] = solver.solve(MU)["displacement"].T
    residual = solver.stiffness_matrix(MU) @ u - solver.load_vector(MU)
    total = MU["load"] * 0.5
    assert np.abs(residual[solver.free]).max() < 1e-9 * total
    a = np.radians(MU["angle"])
    reaction = [residual[solver.basis.nodal_dofs[c]].sum() for c in range(2)]
    np.testing.assert_allclose(reaction, [-total * np.cos(a), -total * np.sin(a)], rtol=1e-9)


def test_bending_under_a_downward_load() -> None:
    """A downward end load deflects the arm tip down; stress peaks at the re-entrant corner."""
    solver = Elasticity(refine=3, length=2.0)
    out = solver.solve({**MU, "angle": 270.0})
    tip = np.isclose(solver.mesh.points[:, 0], 2.0)
    assert np.all(out["displacement"][tip, 1] < 0.0)
    centroids = solver.mesh.points[solver.mesh.cells[0][1]].mean(axis=1)
    peak = centroids[np.argmax(out["von_mises"])]
    assert np.linalg.norm(peak - [1.0, 1.0]) < 0.25


def test_recipe_round_trip(solver: Elasticity) -> None:
    recipe = solver.recipe()
    assert recipe["name"] == "elasticity"
    rebuilt = make_solver("elasticity", recipe["options"])
    assert rebuilt.mesh == solver.mesh
    assert rebuilt.space == solver.space
    a, b = solver.solve(MU), rebuilt.solve(MU)
    for name in ("displacement", "von_mises"):
        np.testing.assert_array_equal(a[name], b[name])
    with pytest.raises(SolverError, match="not JSON"):
        Elasticity(refine=1, body_force=body_force).recipe()


def test_bounds_are_options() -> None:
    solver = Elasticity(refine=1, E_bounds=(1e6, 1e7), angle_bounds=(-90, 90))
    assert (solver.space["E"].low, solver.space["E"].high) == (1e6, 1e7)
    assert solver.space["E"].kind == "loguniform" and solver.space["nu"].kind == "uniform"
    solver.solve({**MU, "E": 5e6, "angle": -45.0})
    with pytest.raises(ParameterError, match="nu_bounds"):
        Elasticity(refine=1, nu_bounds=(0.2, 0.6))


def test_bad_inputs(solver: Elasticity) -> None:
    with pytest.raises(ParameterError, match="'nu'.*out of bounds"):
        solver.solve({**MU, "nu": 0.49})
    with pytest.raises(ParameterError, match="'E'.*out of bounds"):
        solver.solve({**MU, "E": 1e9})
    with pytest.raises(ParameterError, match="'angle'.*out of bounds"):
        solver.solve({**MU, "angle": 400.0})
    with pytest.raises(ParameterError, match="missing.*'load'"):
        solver.solve({k: v for k, v in MU.items() if k != "load"})
    with pytest.raises(ParameterError, match="refine"):
        Elasticity(refine=-1)


def test_lame_parametrization_solves_the_same_problem() -> None:
    """(lam, mu_s, tx, ty) from (E, nu, load, angle) give the same fields; young is unchanged."""
    young = Elasticity(refine=2)
    lame_solver = Elasticity(refine=2, parameters="lame")
    assert young.space.names == ["E", "nu", "load", "angle"]
    assert "parameters" not in young.options and young.affine_decomposition() is None
    assert lame_solver.space.names == ["lam", "mu_s", "tx", "ty"]
    lam, mu = lame(MU["E"], MU["nu"])
    a = np.radians(MU["angle"])
    mu_lame = {"lam": lam, "mu_s": mu, "tx": MU["load"] * np.cos(a), "ty": MU["load"] * np.sin(a)}
    ref, got = young.solve(MU), lame_solver.solve(mu_lame)
    for name in ("displacement", "von_mises"):
        np.testing.assert_allclose(got[name], ref[name], rtol=1e-10, atol=1e-12 * ref[name].max())
    # default bounds: the (lam*, mu) range of the default E and nu boxes, traction +-max load
    low, high = lame(50e9, 0.2)[0], lame(300e9, 0.45)[0]
    assert (lame_solver.space["lam"].low, lame_solver.space["lam"].high) == pytest.approx(
        (low, high)
    )
    assert lame_solver.space["mu_s"].kind == "loguniform"
    assert (lame_solver.space["tx"].low, lame_solver.space["tx"].high) == (-1e6, 1e6)
    rebuilt = make_solver("elasticity", lame_solver.recipe()["options"])
    assert rebuilt.space == lame_solver.space
    np.testing.assert_array_equal(rebuilt.solve(mu_lame)["displacement"], got["displacement"])


def test_lame_bad_options_are_one_line_errors() -> None:
    with pytest.raises(ParameterError, match="lam_bounds must be positive"):
        Elasticity(refine=1, parameters="lame", nu_bounds=(0.0, 0.3))
    with pytest.raises(ParameterError, match="need parameters='lame'"):
        Elasticity(refine=1, mu_s_bounds=(1e9, 1e10))
    with pytest.raises(ParameterError, match="parameters must be one of"):
        Elasticity(refine=1, parameters="bulk")
