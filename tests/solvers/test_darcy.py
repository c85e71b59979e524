"""Darcy solver: order by manufactured solution, grid conventions, prior draws, validation."""

from __future__ import annotations

import numpy as np
import pytest

from nirom import ParameterError
from nirom.random_fields import grf_neumann_2d, sample_rng
from nirom.solvers import Darcy, SolverError, make_solver


def coefficient(x, y):
    return 1.0 + x**2 + y**2


def mms_source(x, y):
    """f = -div(a grad u) for u = sin(pi x) sin(pi y) and a = 1 + x^2 + y^2."""
    s, c, pi = np.sin, np.cos, np.pi
    grad_a_dot_grad_u = pi * (2 * x * c(pi * x) * s(pi * y) + 2 * y * s(pi * x) * c(pi * y))
    return -grad_a_dot_grad_u + coefficient(x, y) * 2 * pi**2 * s(pi * x) * s(pi * y)


def nodal(solver: Darcy, f) -> np.ndarray:
    """``f`` at the solver's nodes as an array [iy, ix]."""
    s = solver.resolution
    x, y = solver.mesh.points.T
    return f(x, y).reshape(s, s)


def bilinear_refinement(a: np.ndarray) -> np.ndarray:
    """Nodal values on the grid with every cell split in 2 x 2, by bilinear interpolation."""
    s = a.shape[0]
    fine = np.zeros((2 * s - 1, 2 * s - 1))
    fine[::2, ::2] = a
    fine[1::2, ::2] = 0.5 * (a[1:] + a[:-1])
    fine[::2, 1::2] = 0.5 * (a[:, 1:] + a[:, :-1])
    fine[1::2, 1::2] = 0.25 * (a[1:, 1:] + a[1:, :-1] + a[:-1, 1:] + a[:-1, :-1])
    return fine


def test_five_point_scheme_converges_at_order_2() -> None:
    errors = []
    for s in (17, 33, 65):
        solver = Darcy(resolution=s, solve_resolution=s, source=mms_source)
        u = solver.solve({"a": nodal(solver, coefficient)})["u"]
        x, y = solver.mesh.points.T
        errors.append(np.abs(u - np.sin(np.pi * x) * np.sin(np.pi * y)).max())
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(rates > 1.8), rates
    assert errors[-1] < 1e-3


def test_fine_solve_interpolates_the_coefficient_and_subsamples_the_solution() -> None:
    """Resolution 11 solved on 21 nodes is the resolution-21 solve of the bilinear field."""
    coarse = Darcy(resolution=11, solve_resolution=21)
    a = coarse.draw_field_inputs(sample_id=3, seed=1)["a"]
    u_coarse = coarse.solve({"a": a})["u"].reshape(11, 11)
    fine = Darcy(resolution=21, solve_resolution=21)
    a_fine = bilinear_refinement(a)
    np.testing.assert_allclose(coarse.fine_coefficient(a), a_fine, rtol=1e-14)
    u_fine = fine.solve({"a": a_fine})["u"].reshape(21, 21)
    np.testing.assert_allclose(u_coarse, u_fine[::2, ::2], rtol=1e-11, atol=1e-15)


def test_grid_convention_x_fastest_and_counter_clockwise_quads() -> None:
    s = 5
    solver = Darcy(resolution=s, solve_resolution=9)
    iy, ix = 3, 1
    np.testing.assert_allclose(solver.mesh.points[iy * s + ix], [ix / (s - 1), iy / (s - 1)])
    ((cell_type, quads),) = solver.mesh.cells
    assert cell_type == "quad" and quads.shape == ((s - 1) ** 2, 4)
    p = solver.mesh.points[quads]  # (cells, 4, 2): shoelace area of each quad
    x, y = p[..., 0], p[..., 1]
    area = 0.5 * np.sum(x * np.roll(y, -1, axis=1) - np.roll(x, -1, axis=1) * y, axis=1)
    np.testing.assert_allclose(area, 1.0 / (s - 1) ** 2)


def test_solution_is_aligned_with_the_coefficient_array() -> None:
    """Low conductivity on the right half (ix large): the solution is larger there."""
    s = 17
    solver = Darcy(resolution=s, solve_resolution=33)
    x = np.linspace(0.0, 1.0, s)
    a = np.where(x[None, :] < 0.5, 12.0, 3.0) * np.ones((s, 1))  # a[iy, ix] depends on x
    u = solver.solve({"a": a})["u"].reshape(s, s)
    assert u[:, 3 * s // 4].mean() > 2.0 * u[:, s // 4].mean()
    np.testing.assert_allclose(u, u[::-1, :], rtol=1e-12, atol=1e-15)  # symmetric in y


def test_solution_is_zero_on_the_boundary_positive_inside_and_linear_in_one_over_a() -> None:
    solver = Darcy(resolution=9, solve_resolution=33)
    a = solver.draw_field_inputs(0, 0)["a"]
    u = solver.solve({"a": a})["u"].reshape(9, 9)
    assert np.all(u[0] == 0) and np.all(u[-1] == 0) and np.all(u[:, 0] == 0)
    assert np.all(u[:, -1] == 0) and u[1:-1, 1:-1].min() > 0
    u2 = solver.solve({"a": 2 * a})["u"].reshape(9, 9)
    np.testing.assert_allclose(u2, u / 2, rtol=1e-12, atol=1e-16)


def test_prior_draws_are_reproducible_thresholded_fields() -> None:
    solver = Darcy(resolution=33, solve_resolution=65)
    a = solver.draw_field_inputs(sample_id=5, seed=2)["a"]
    assert a.shape == (33, 33)
    assert set(np.unique(a)) == {3.0, 12.0}
    np.testing.assert_array_equal(a, solver.draw_field_inputs(5, 2)["a"])
    assert not np.array_equal(a, solver.draw_field_inputs(6, 2)["a"])
    field = grf_neumann_2d(33, sample_rng(2, 5), tau=3.0, alpha=2.0)
    np.testing.assert_array_equal(a, np.where(field >= 0, 12.0, 3.0))
    other = Darcy(resolution=33, solve_resolution=65, a_values=(5.0, 1.0))
    np.testing.assert_array_equal(other.draw_field_inputs(5, 2)["a"], np.where(a > 4, 5.0, 1.0))


def test_mass_matrix_integrates_one() -> None:
    m = Darcy(resolution=7, solve_resolution=13).mass_matrix()
    ones = np.ones(m.shape[0])
    assert ones @ m @ ones == pytest.approx(1.0)


def test_recipe_rebuilds_the_solver() -> None:
    solver = Darcy(resolution=9, solve_resolution=17, a_values=(10.0, 2.0))
    rebuilt = make_solver("darcy", solver.recipe()["options"])
    a = solver.draw_field_inputs(1, 1)["a"]
    np.testing.assert_array_equal(rebuilt.solve({"a": a})["u"], solver.solve({"a": a})["u"])
    with pytest.raises(SolverError, match="not JSON"):
        Darcy(resolution=9, solve_resolution=9, source=mms_source).recipe()


def test_bad_inputs_name_the_culprit() -> None:
    with pytest.raises(ParameterError, match=r"solve_resolution - 1 = 20.*resolution - 1 = 8"):
        Darcy(resolution=9, solve_resolution=21)
    with pytest.raises(ParameterError, match="resolution must be an integer >= 2"):
        Darcy(resolution=1, solve_resolution=9)
    with pytest.raises(ParameterError, match=r"a_values\[1\]"):
        Darcy(resolution=5, solve_resolution=9, a_values=(12.0, 0.0))
    solver = Darcy(resolution=5, solve_resolution=9)
    with pytest.raises(ParameterError, match=r"'a'.*expected shape \(5, 5\)"):
        solver.solve({"a": np.ones((4, 5))})
    with pytest.raises(ParameterError, match="'a'.*NaN"):
        solver.solve({"a": np.full((5, 5), np.nan)})
    a = np.ones((5, 5))
    a[2, 3] = -1.0
    with pytest.raises(ParameterError, match=r"'a'.*must be > 0, got -1 at \[iy, ix\] = \[2, 3\]"):
        solver.solve({"a": a})
    with pytest.raises(ParameterError, match="missing parameter"):
        solver.solve({})
