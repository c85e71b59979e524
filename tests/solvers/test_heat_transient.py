"""Transient heat solver: space and time orders by manufactured solution, and basic physics."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse.linalg as spla
import skfem

from nirom import ParameterError
from nirom.solvers import HeatTransient, make_solver

K = 1.7  # conductivity of the manufactured solution


def a(t):
    return np.sin(2.0 * t)


def da(t):
    return 2.0 * np.cos(2.0 * t)


def exact(x, y, t):
    """u = a(t) (x + sin(pi x / 2) cos(pi y)), a(0) = 0.

    u = 0 at x = 0; du/dy = 0 at y = 0, 1; du/dx = a(t) at x = 1, since the
    derivative of sin(pi x / 2) vanishes there.
    """
    return a(t) * (x + np.sin(np.pi * x / 2) * np.cos(np.pi * y))


def mms_source(x, y, t):
    """f = u_t - K Lap u, with Lap u = -(pi^2/4 + pi^2) a(t) sin(pi x / 2) cos(pi y)."""
    bump = np.sin(np.pi * x / 2) * np.cos(np.pi * y)
    return da(t) * (x + bump) + K * 1.25 * np.pi**2 * a(t) * bump


def mms_flux(x, y, t):
    """Inward flux K du/dn = K du/dx on the right edge."""
    return K * a(t) * np.ones_like(x)


MMS_MU = {"k": K, "s": 1.0, "q": 1.0}  # s and q scale the hooks' shapes


def mms_solver(resolution: int, n_steps: int, n_outputs: int = 2) -> HeatTransient:
    return HeatTransient(
        resolution=resolution,
        n_steps=n_steps,
        n_outputs=n_outputs,
        source=mms_source,
        flux=mms_flux,
    )


def l2_error(solver: HeatTransient, uh: np.ndarray, t: float) -> float:
    @skfem.Functional
    def err(w):
        return (w["uh"] - exact(*w.x, t)) ** 2

    # A higher-order quadrature so the error integral itself is accurate.
    basis = skfem.Basis(solver.fem_mesh, skfem.ElementTriP1(), intorder=6)
    return float(np.sqrt(err.assemble(basis, uh=basis.interpolate(uh))))


def m_norm(solver: HeatTransient, v: np.ndarray) -> float:
    return float(np.sqrt(v @ solver.mass @ v))


def test_p1_converges_at_order_2_in_space() -> None:
    """160 steps make the time error (~2e-7, see the next test) small beside the space error."""
    errors = []
    for resolution in (8, 16, 32, 64):
        solver = mms_solver(resolution, n_steps=160)
        errors.append(l2_error(solver, solver.solve(MMS_MU)["u"][-1], solver.t_final))
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(rates - 2.0) < 0.2), (errors, rates)


def test_crank_nicolson_converges_at_order_2_in_time() -> None:
    """Against a 2560-step reference on the same mesh, so the space error cancels."""
    resolution = 32
    reference = mms_solver(resolution, n_steps=2560).solve(MMS_MU)["u"][-1]
    errors = []
    for n_steps in (20, 40, 80, 160):
        solver = mms_solver(resolution, n_steps)
        errors.append(m_norm(solver, solver.solve(MMS_MU)["u"][-1] - reference))
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(rates - 2.0) < 0.2), (errors, rates)
    # The reference itself is close to the exact solution (space error only).
    assert l2_error(solver, reference, 1.0) < 1e-3


def test_stiff_flux_start_keeps_order_2() -> None:
    """Production data with a stiff k: the flux switched on against u(0) = 0.

    Plain Crank-Nicolson leaves the stiff modes this excites undamped and
    converges at about order 1.5 here; the backward-Euler start-up restores 2
    at every output time.
    """
    mu = {"k": 10.0, "s": 5.0, "q": 1.0}
    reference = HeatTransient(resolution=24, n_steps=2560).solve(mu)["u"][1:]
    errors = []
    for n_steps in (40, 80, 160):
        solver = HeatTransient(resolution=24, n_steps=n_steps)
        diff = solver.solve(mu)["u"][1:] - reference
        errors.append(max(m_norm(solver, d) for d in diff))
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(rates > 1.9), (errors, rates)


def test_zero_data_gives_zero_and_dirichlet_edge_stays_zero() -> None:
    solver = HeatTransient(resolution=16, n_steps=20)
    assert np.all(solver.solve({"k": 2.0, "s": 0.0, "q": 0.0})["u"] == 0.0)
    u = solver.solve({"k": 0.3, "s": 7.0, "q": -0.8})["u"]
    assert solver.dirichlet.size == 17
    assert np.all(solver.mesh.points[solver.dirichlet, 0] == 0.0)
    assert np.all(u[:, solver.dirichlet] == 0.0)
    assert np.all(u[0] == 0.0)  # initial condition
    assert np.abs(u[-1]).max() > 0.1


def test_solution_is_linear_in_source_and_flux() -> None:
    solver = HeatTransient(resolution=16, n_steps=20)
    u1 = solver.solve({"k": 0.7, "s": 2.0, "q": 0.4})["u"]
    u2 = solver.solve({"k": 0.7, "s": 3.5, "q": -0.9})["u"]
    u12 = solver.solve({"k": 0.7, "s": 5.5, "q": -0.5})["u"]
    assert np.abs(u12 - (u1 + u2)).max() <= 1e-10 * np.abs(u12).max()


@pytest.mark.parametrize("k", [0.1, 1.0, 10.0])
def test_heating_without_flux_is_non_negative(k: float) -> None:
    """At the production resolution u >= 0 at every output time, up to roundoff.

    The consistent mass matrix gives no discrete maximum principle: on a
    coarse mesh (resolution 8) with small steps, undershoots of a few 1e-3 of
    the maximum do appear. At resolution 32 none does for these cases.
    """
    u = HeatTransient().solve({"k": k, "s": 10.0, "q": 0.0})["u"]
    assert u.min() >= -1e-12 * u.max()
    assert u.max() > 0.0


def test_long_run_approaches_the_steady_solution() -> None:
    """k = 1, T = 20: the slowest mode decays like exp(-k pi^2 t / 4), below 1e-20."""
    solver = HeatTransient(resolution=24, n_steps=100, t_final=20.0, n_outputs=5)
    k, s, q = 1.0, 3.0, -0.7
    u = solver.solve({"k": k, "s": s, "q": q})["u"]
    inner = solver.interior
    steady = np.zeros(solver.mesh.n_points)
    rhs = (s * solver.source_load() + q * solver.flux_load())[inner]
    steady[inner] = spla.spsolve((k * solver.stiffness[np.ix_(inner, inner)]).tocsc(), rhs)
    gaps = [m_norm(solver, ui - steady) / m_norm(solver, steady) for ui in u[1:]]
    assert np.all(np.diff(gaps) < 0.0), gaps
    assert gaps[-1] < 1e-8, gaps


def test_shapes_fields_and_mass_matrix() -> None:
    solver = HeatTransient(resolution=8, n_steps=10, t_final=2.0, n_outputs=6)
    (field,) = solver.fields
    assert field.times == (0.0, 0.4, 0.8, 1.2, 1.6, 2.0)
    u = solver.solve({"k": 1.0, "s": 1.0, "q": 1.0})["u"]
    assert u.shape == (6, 81) == field.shape(solver.mesh.n_points, solver.mesh.n_cells)
    ones = np.ones(solver.mesh.n_points)
    assert ones @ solver.mass_matrix() @ ones == pytest.approx(1.0)


def test_bad_inputs() -> None:
    with pytest.raises(ParameterError, match="n_steps 25 must be a multiple of n_outputs - 1"):
        HeatTransient(resolution=8, n_steps=25, n_outputs=11)
    with pytest.raises(ParameterError, match="n_outputs must be an integer >= 2"):
        HeatTransient(resolution=8, n_outputs=1)
    with pytest.raises(ParameterError, match="t_final must be"):
        HeatTransient(resolution=8, t_final=0.0)
    solver = HeatTransient(resolution=8, n_steps=10)
    with pytest.raises(ParameterError, match="'k'.*out of bounds"):
        solver.solve({"k": 20.0, "s": 1.0, "q": 0.0})


def test_recipe_round_trip() -> None:
    solver = HeatTransient(resolution=12, n_steps=30, t_final=0.5, n_outputs=4)
    rebuilt = make_solver("heat-transient", solver.recipe()["options"])
    assert isinstance(rebuilt, HeatTransient)
    mu = {"k": 0.4, "s": 6.0, "q": 0.3}
    np.testing.assert_array_equal(rebuilt.solve(mu)["u"], solver.solve(mu)["u"])
    assert rebuilt.fields == solver.fields
