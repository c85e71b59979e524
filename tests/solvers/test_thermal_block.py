"""Thermal block solver: convergence orders by manufactured solution, and basic physics."""

from __future__ import annotations

import numpy as np
import pytest
import skfem

from nirom import ParameterError
from nirom.parameters import LogUniform, Uniform
from nirom.solvers import ThermalBlock


def l2_and_h1_errors(solver: ThermalBlock, uh: np.ndarray) -> tuple[float, float]:
    """Errors of ``uh`` against u = sin(pi x) sin(pi y) in the L2 norm and H1 seminorm."""

    @skfem.Functional
    def err_l2(w):
        x, y = w.x
        return (w["uh"] - np.sin(np.pi * x) * np.sin(np.pi * y)) ** 2

    @skfem.Functional
    def err_h1(w):
        x, y = w.x
        gx = np.pi * np.cos(np.pi * x) * np.sin(np.pi * y)
        gy = np.pi * np.sin(np.pi * x) * np.cos(np.pi * y)
        return (w["uh"].grad[0] - gx) ** 2 + (w["uh"].grad[1] - gy) ** 2

    # A higher-order quadrature so the error integral itself is accurate.
    basis = skfem.Basis(solver.fem_mesh, skfem.ElementTriP1(), intorder=6)
    uh_q = basis.interpolate(uh)
    return np.sqrt(err_l2.assemble(basis, uh=uh_q)), np.sqrt(err_h1.assemble(basis, uh=uh_q))


def test_p1_converges_at_order_2_in_l2_and_1_in_h1() -> None:
    c = 2.5  # every block the same conductivity: -c Lap u = f with a known u

    def source(x, y):
        return 2 * c * np.pi**2 * np.sin(np.pi * x) * np.sin(np.pi * y)

    errors = []
    hs = []
    for resolution in (12, 24, 48, 96):
        solver = ThermalBlock(resolution=resolution, source=source)
        uh = solver.solve({name: c for name in solver.space.scalar_names})["u"]
        errors.append(l2_and_h1_errors(solver, uh))
        hs.append(1.0 / resolution)
    errors = np.array(errors)
    rates = np.log(errors[:-1] / errors[1:]) / np.log(2.0)
    assert np.all(np.abs(rates[:, 0] - 2.0) < 0.1), rates
    assert np.all(np.abs(rates[:, 1] - 1.0) < 0.1), rates


def test_piecewise_conductivity_self_convergence() -> None:
    """With jumps in k, the solutions converge in L2 against a fine reference.

    Where four blocks of contrasting conductivity meet, the exact solution has
    a corner singularity (u in H^{1+s}, s < 1), so the L2 rate sits below the
    smooth-case 2; it must still be clearly better than first order.
    """
    mu = {f"k_{i}": k for i, k in enumerate([0.1, 10, 1, 3, 0.3, 5, 0.2, 2, 7])}
    fine = ThermalBlock(resolution=144)
    u_fine = fine.solve(mu)["u"]
    mass = fine.mass_matrix()
    errors = []
    for resolution in (12, 24, 48):
        coarse = ThermalBlock(resolution=resolution)
        u_coarse = coarse.solve(mu)["u"]
        # The meshes are nested: interpolate the coarse P1 field onto the fine nodes.
        probes = coarse.basis.probes(fine.mesh.points.T)
        diff = probes @ u_coarse - u_fine
        errors.append(np.sqrt(diff @ mass @ diff))
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(rates > 1.5), rates
    assert errors[-1] < 2e-2 * np.sqrt(u_fine @ mass @ u_fine)


def test_solution_is_positive_zero_on_boundary_and_monotone_in_k() -> None:
    solver = ThermalBlock(resolution=24)
    names = solver.space.scalar_names
    u1 = solver.solve(dict.fromkeys(names, 1.0))["u"]
    u2 = solver.solve(dict.fromkeys(names, 2.0))["u"]
    boundary = solver.basis.get_dofs().flatten()
    assert np.all(u1[boundary] == 0.0)
    assert u1[solver.interior].min() > 0.0
    np.testing.assert_allclose(u2, u1 / 2.0, rtol=1e-12, atol=1e-15)  # linear in 1/k


def test_mass_matrix_integrates_one() -> None:
    m = ThermalBlock(resolution=12).mass_matrix()
    ones = np.ones(m.shape[0])
    assert ones @ m @ ones == pytest.approx(1.0)


def test_bad_inputs() -> None:
    with pytest.raises(ParameterError, match="multiple of the block counts"):
        ThermalBlock(resolution=10)
    solver = ThermalBlock(resolution=12)
    mu = dict.fromkeys(solver.space.scalar_names, 1.0)
    with pytest.raises(ParameterError, match="'k_4'.*out of bounds"):
        solver.solve({**mu, "k_4": 50.0})


def test_conductivities_may_be_declared_uniform() -> None:
    """``k_distribution="uniform"``: the same solver, conductivities sampled uniformly."""
    default = ThermalBlock(2, 2, resolution=8)
    uniform = ThermalBlock(2, 2, resolution=8, k_distribution="uniform")
    assert all(isinstance(p, LogUniform) for p in default.space.scalars)
    assert all(isinstance(p, Uniform) for p in uniform.space.scalars)
    assert "k_distribution" not in default.options  # datasets generated before still resume
    assert uniform.options["k_distribution"] == "uniform"
    mu = {f"k_{i}": 0.5 + i for i in range(4)}
    np.testing.assert_array_equal(uniform.solve(mu)["u"], default.solve(mu)["u"])
    design = uniform.space.sample(256, seed=0)
    assert np.mean(design < 1.0) < 0.15  # uniform on [0.1, 10]: about 9 % below 1
    with pytest.raises(ParameterError, match="k_distribution must be one of"):
        ThermalBlock(k_distribution="normal")
