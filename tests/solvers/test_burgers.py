"""Burgers solver: Cole-Hopf exact solutions, temporal order, prior draws, validation."""

from __future__ import annotations

import numpy as np
import pytest

from nirom import ParameterError
from nirom.solvers import Burgers, SolverError, make_solver

NU = 0.1
# Terms (amplitude, wavenumber, phase) of the heat-equation solution phi of Cole-Hopf.
TERMS = ((1.0, 1, 0.0), (0.6, 2, 1.0), (0.3, 3, 2.0))
PHI_MEAN = 2.2  # > 1.9, the sum of the amplitudes: phi > 0


def cole_hopf(x: np.ndarray, t: float) -> np.ndarray:
    """u = -2 nu phi_x / phi with phi_t = nu phi_xx periodic: an exact Burgers solution."""
    phi = PHI_MEAN + sum(
        a * np.exp(-NU * (2 * np.pi * k) ** 2 * t) * np.cos(2 * np.pi * k * x + s)
        for a, k, s in TERMS
    )
    phi_x = sum(
        -a * 2 * np.pi * k * np.exp(-NU * (2 * np.pi * k) ** 2 * t) * np.sin(2 * np.pi * k * x + s)
        for a, k, s in TERMS
    )
    return -2 * NU * phi_x / phi


def relative_error(solver: Burgers) -> float:
    x = solver.mesh.points[:, 0]
    u = solver.solve({"u0": cole_hopf(x, 0.0)})["u"]
    exact = cole_hopf(x, solver.t_final)
    return float(np.linalg.norm(u - exact) / np.linalg.norm(exact))


def test_matches_cole_hopf_at_the_default_step() -> None:
    assert relative_error(Burgers(resolution=64)) < 1e-9


def test_etdrk4_converges_at_order_4_in_time() -> None:
    errors = [relative_error(Burgers(resolution=64, dt=dt)) for dt in (0.05, 0.025, 0.0125)]
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(rates > 3.5), (errors, rates)


def test_steps_are_equal_and_land_on_t_final() -> None:
    solver = Burgers(resolution=16, t_final=0.5, dt=0.3)
    assert solver.n_steps == 2 and solver.dt == 0.25
    assert Burgers(resolution=16, dt=0.1).n_steps == 10  # no extra step from round-off


def test_fourier_interpolation_to_a_finer_solve_grid() -> None:
    """Solving 64 points on 128 equals solving the 128-point trigonometric interpolant."""
    rng = np.random.default_rng(0)
    k = np.arange(1, 32)
    a, b = rng.standard_normal((2, k.size)) / k**2
    nyquist = 0.01

    def u0(x):
        waves = a @ np.cos(2 * np.pi * np.outer(k, x)) + b @ np.sin(2 * np.pi * np.outer(k, x))
        return waves + nyquist * np.cos(2 * np.pi * 32 * x)

    x64, x128 = np.arange(64) / 64, np.arange(128) / 128
    u_interpolated = Burgers(resolution=64, solve_resolution=128).solve({"u0": u0(x64)})["u"]
    u_fine = Burgers(resolution=128).solve({"u0": u0(x128)})["u"]
    np.testing.assert_allclose(u_interpolated, u_fine[::2], rtol=0, atol=1e-12)


def test_mean_is_conserved_and_batch_matches_single_solves() -> None:
    solver = Burgers(resolution=128, dt=0.01)
    u0 = np.array([solver.draw_field_inputs(i, seed=4)["u0"] + i for i in range(3)])
    batch = solver.solve_batch(u0)
    for row, start in zip(batch, u0, strict=True):
        np.testing.assert_allclose(row, solver.solve({"u0": start})["u"], rtol=0, atol=1e-12)
        assert row.mean() == pytest.approx(start.mean(), abs=1e-12)


def test_prior_draws_are_reproducible_with_the_prior_variance() -> None:
    n = 64
    solver = Burgers(resolution=n)
    u0 = solver.draw_field_inputs(sample_id=2, seed=9)["u0"]
    assert u0.shape == (n,)
    np.testing.assert_array_equal(u0, solver.draw_field_inputs(2, 9)["u0"])
    assert not np.array_equal(u0, solver.draw_field_inputs(3, 9)["u0"])
    draws = np.array([solver.draw_field_inputs(i, 9)["u0"] for i in range(2000)])
    k = np.arange(1, n // 2 + 1)
    variance = np.sum(2 * 25.0**2 * ((2 * np.pi * k) ** 2 + 25.0) ** -2.0)  # about 0.35
    assert np.mean(draws**2) == pytest.approx(variance, rel=0.12)
    np.testing.assert_allclose(draws.mean(axis=1), 0.0, atol=1e-12)  # no constant mode


def test_mesh_and_mass_matrix() -> None:
    n = 32
    solver = Burgers(resolution=n)
    np.testing.assert_allclose(solver.mesh.points[:, 0], np.arange(n) / n)
    ((cell_type, lines),) = solver.mesh.cells
    assert cell_type == "line" and lines.shape == (n - 1, 2)  # no wrap-around cell
    x = solver.mesh.points[:, 0]
    u = np.cos(2 * np.pi * 3 * x) + 0.5
    assert u @ solver.mass_matrix() @ u == pytest.approx(0.5 + 0.25, rel=1e-13)


def test_recipe_rebuilds_the_solver() -> None:
    solver = Burgers(resolution=32, solve_resolution=64, dt=0.05)
    rebuilt = make_solver("burgers", solver.recipe()["options"])
    u0 = solver.draw_field_inputs(0, 0)["u0"]
    np.testing.assert_array_equal(rebuilt.solve({"u0": u0})["u"], solver.solve({"u0": u0})["u"])


def test_bad_inputs_name_the_culprit() -> None:
    with pytest.raises(ParameterError, match="solve_resolution 100 must be a multiple of .* 64"):
        Burgers(resolution=64, solve_resolution=100)
    with pytest.raises(ParameterError, match="viscosity"):
        Burgers(resolution=64, viscosity=-0.1)
    with pytest.raises(ParameterError, match="dt"):
        Burgers(resolution=64, dt=0.0)
    solver = Burgers(resolution=16, dt=0.1)
    with pytest.raises(ParameterError, match=r"'u0'.*expected shape \(16,\)"):
        solver.solve({"u0": np.zeros(15)})
    with pytest.raises(ParameterError, match="'u0'.*NaN"):
        solver.solve({"u0": np.full(16, np.nan)})
    with pytest.raises(ParameterError, match=r"'u0'.*batch of shape \(m, 16\)"):
        solver.solve_batch(np.zeros(16))
    bad = np.zeros((3, 16))
    bad[1, 4] = np.inf
    with pytest.raises(ParameterError, match="'u0'.*row 1"):
        solver.solve_batch(bad)
    # A step far too large for a steep initial condition: ETDRK4 blows up, reported.
    with pytest.raises(SolverError, match="'u'.*NaN or infinite"):
        Burgers(resolution=64, dt=0.1, viscosity=1e-3).solve(
            {"u0": 100 * np.sin(2 * np.pi * np.arange(64) / 64)}
        )
