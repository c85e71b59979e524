"""Verification of the quasi-static solver against closed forms, the material-point driver,
and the convergence Newton must show. Units: mm, MPa, s."""

from __future__ import annotations

import numpy as np
import pytest

from nirom.mechanics import (
    ConvergenceError,
    Cyclic,
    Displacement,
    DisplacementSpace,
    LoadHistory,
    Pressure,
    QuasiStaticSolver,
    Ramp,
    Traction,
    available_linear_solvers,
    dataset_fields,
    make_law,
)
from nirom.mechanics.laws.material_point import uniaxial
from nirom.mechanics.meshes import box, plate_with_hole, quadratic, quarter_annulus

A, B = 10.0, 20.0  # inner and outer radii of the cylinder
SUPPORTS = [(Displacement("left", (0,)), 1.0), (Displacement("bottom", (1,)), 1.0)]


def _cylinder(n: int, degree: int) -> DisplacementSpace:
    mesh = quarter_annulus(A, B, n)
    if degree == 2:
        mesh = quadratic(mesh, {"inner": (0, 0, A), "outer": (0, 0, B)})
    return DisplacementSpace(mesh, degree)


def _lame_error(n: int, degree: int) -> float:
    """Relative L2 error of the stresses (sigma_zz included) against Lame's solution."""
    E, nu, p = 200e3, 0.3, 100.0
    space = _cylinder(n, degree)
    history = LoadHistory([(Pressure("inner", p), Ramp(1.0)), *SUPPORTS])
    result = QuasiStaticSolver(space, make_law("elastic", {"E": E, "nu": nu}), history).run(
        [1.0], t0=0.0
    )
    x = space.quadrature_points()
    r, theta = np.hypot(x[:, 0], x[:, 1]), np.arctan2(x[:, 1], x[:, 0])
    a_, b_ = p * A**2 / (B**2 - A**2), p * A**2 * B**2 / (B**2 - A**2)
    srr, stt = a_ - b_ / r**2, a_ + b_ / r**2
    c, s = np.cos(theta), np.sin(theta)
    exact = np.column_stack(
        [
            srr * c * c + stt * s * s,
            srr * s * s + stt * c * c,
            np.full_like(r, 2 * nu * a_),
            np.sqrt(2) * (srr - stt) * s * c,
        ]
    )
    got = result.stress[-1][:, [0, 1, 2, 5]]
    w = space.quadrature_weights()[:, None]
    return float(np.sqrt((w * (got - exact) ** 2).sum() / (w * exact**2).sum()))


@pytest.mark.parametrize(("degree", "sizes", "order"), [(1, (4, 8, 16), 1.0), (2, (4, 8, 16), 2.0)])
def test_thick_cylinder_elastic_stresses_converge_at_the_element_order(
    degree: int, sizes: tuple[int, ...], order: float
) -> None:
    errors = [_lame_error(n, degree) for n in sizes]
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    print(f"P{degree} Lame stress errors {errors}, rates {rates}")
    assert rates[-1] > order - 0.15
    assert errors[-1] < (0.07 if degree == 1 else 2e-3)


def test_perfectly_plastic_cylinder_approaches_the_limit_pressure_from_below() -> None:
    sigma_y = 250.0
    limit = 2 / np.sqrt(3) * sigma_y * np.log(B / A)
    law = make_law(
        "plasticity", {"E": 200e3, "nu": 0.3, "sigma_y": sigma_y, "H": 0.0, "C": 0.0, "D": 0.0}
    )
    space = _cylinder(4, 2)
    fractions = [0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995]
    history = LoadHistory([(Pressure("inner", limit), Ramp(1.0)), *SUPPORTS])
    result = QuasiStaticSolver(space, law, history).run([0.0, *fractions])
    node = space.boundary_nodes("inner")[0]
    radial = np.hypot(*result.u[:, 2 * node : 2 * node + 2].T)
    compliance = np.diff(radial) / np.diff([0.0, *fractions])
    print(f"inner radial displacement {radial}, d u / d (p / p_lim) {compliance}")
    assert np.all(np.diff(compliance[1:]) > 0)  # the cylinder softens towards collapse
    assert compliance[-1] > 10 * compliance[0]
    over = LoadHistory([(Pressure("inner", 1.02 * limit), Ramp(1.0)), *SUPPORTS])
    with pytest.raises(ConvergenceError, match="minimum step") as failure:
        QuasiStaticSolver(space, law, over, max_cuts=6).run([0.0, 0.9, 0.95, 1.0])
    t_fail = float(str(failure.value).split("t = ")[1].split(" s")[0])
    assert 0.99 < 1.02 * t_fail < 1.01  # no equilibrium within 1 % above the limit


def _kt(n: int, degree: int) -> float:
    mesh = plate_with_hole(10.0, 50.0, 100.0, n)
    if degree == 2:
        mesh = quadratic(mesh, {"hole": (0, 0, 10.0)})
    space = DisplacementSpace(mesh, degree)
    history = LoadHistory([(Traction("top", (0.0, 1.0)), 1.0), *SUPPORTS])
    law = make_law("elastic", {"E": 200e3, "nu": 0.3})
    result = QuasiStaticSolver(space, law, history, linear_solver="superlu").run([1.0], t0=0.0)
    node = np.argmin(np.hypot(space.mesh.points[:, 0] - 10.0, space.mesh.points[:, 1]))
    return float(dataset_fields(space, result)["sigma"][0, node, 1])


def test_plate_with_hole_stress_concentration_converges_to_the_finite_width_value() -> None:
    # d / D = 0.2: Howland's (and Heywood's) gross-section factor 3.14.
    kts = [_kt(n, 1) for n in (8, 16, 32)]
    steps = np.abs(np.diff(kts))
    extrapolated = kts[-1] + (kts[-1] - kts[-2]) * steps[1] / (steps[0] - steps[1])
    p2 = _kt(12, 2)
    print(f"P1 Kt {kts}, extrapolated {extrapolated:.4f}; P2 Kt {p2:.4f}")
    assert steps[1] < 0.4 * steps[0]
    assert extrapolated == pytest.approx(3.14, rel=0.015)
    assert p2 == pytest.approx(3.14, rel=0.02)


def test_newton_converges_quadratically_on_a_plastic_step() -> None:
    # Armstrong-Frederick hardening: the consistent tangent is unsymmetric.
    law = make_law(
        "plasticity", {"E": 200e3, "nu": 0.3, "sigma_y": 250.0, "H": 1e3, "C": 2e4, "D": 100.0}
    )
    history = LoadHistory([(Pressure("inner", 180.0), Ramp(1.0)), *SUPPORTS])
    result = QuasiStaticSolver(_cylinder(4, 2), law, history, rtol=1e-12).run([0.0, 0.7, 1.0])
    assert result.p[-1].max() > 1e-3  # the step is plastic
    residuals = np.array(result.steps[-1].residuals)
    e = residuals / residuals[0]
    print("relative residuals", e, "ratios e_k+1 / e_k^2", e[1:] / e[:-1] ** 2)
    tail = [k for k in range(1, len(e) - 1) if e[k + 1] > 1e-13 and e[k] < 1e-2]
    assert tail, "no iteration in the asymptotic range"
    orders = [np.log(e[k + 1]) / np.log(e[k]) for k in tail]
    assert min(orders) > 1.7
    assert len(residuals) <= 8


@pytest.mark.parametrize("degree", [1, 2])
def test_tetrahedra_match_the_material_point_on_a_homogeneous_cyclic_test(degree: int) -> None:
    law = make_law(
        "plasticity", {"E": 200e3, "nu": 0.3, "sigma_y": 250.0, "H": 2e3, "C": 3e4, "D": 150.0}
    )
    lx, strain = 2.0, 0.004
    history = LoadHistory(
        [
            (Displacement("x1", (0,), (strain * lx,)), Cyclic(4.0, shape="triangle")),
            (Displacement("x0", (0,)), 1.0),
            (Displacement("y0", (1,)), 1.0),
            (Displacement("z0", (2,)), 1.0),
        ]
    )
    space = DisplacementSpace(box((lx, 1.0, 1.0), 1), degree)
    times = np.linspace(0.0, 6.0, 25)
    result = QuasiStaticSolver(space, law, history, rtol=1e-10).run(times)
    axial = strain * Cyclic(4.0, shape="triangle")(times)
    point = uniaxial(law, times, strain=axial)
    # Every quadrature point sees the material point's stress history.
    scale = np.abs(point.stress[:, 0]).max()
    np.testing.assert_allclose(
        result.stress,
        np.broadcast_to(point.stress[:, None, :], result.stress.shape),
        atol=1e-6 * scale,
    )
    np.testing.assert_allclose(
        result.p, np.broadcast_to(point.state["p"][:, None], result.p.shape), atol=1e-9
    )
    assert point.state["p"][-1] > 2 * point.state["p"][8]  # plastic in both directions


def test_failed_steps_are_cut_and_the_cut_solution_matches_small_steps() -> None:
    law = make_law(
        "plasticity", {"E": 200e3, "nu": 0.3, "sigma_y": 250.0, "H": 500.0, "C": 0.0, "D": 0.0}
    )
    history = LoadHistory([(Pressure("inner", 190.0), Ramp(1.0)), *SUPPORTS])
    space = _cylinder(3, 2)
    cut = QuasiStaticSolver(space, law, history, max_iterations=4).run([0.0, 1.0])
    assert cut.failures and "no convergence in 4 iterations" in cut.failures[0]
    assert len(cut.steps) > 1 and max(s.cuts for s in cut.steps) >= 1
    fine = QuasiStaticSolver(space, law, history).run(np.linspace(0.0, 1.0, 33))
    np.testing.assert_allclose(
        cut.u[-1], fine.u[-1], rtol=0.02 * 1, atol=0.02 * np.abs(fine.u[-1]).max()
    )
    with pytest.raises(ConvergenceError, match="minimum step"):
        QuasiStaticSolver(space, law, history, max_iterations=1, max_cuts=2).run([0.0, 1.0])


@pytest.mark.skipif("pardiso" not in available_linear_solvers(), reason="pypardiso not installed")
def test_pardiso_and_superlu_give_the_same_newton_solution() -> None:
    law = make_law(
        "plasticity", {"E": 200e3, "nu": 0.3, "sigma_y": 250.0, "H": 1e3, "C": 2e4, "D": 100.0}
    )
    history = LoadHistory([(Pressure("inner", 170.0), Ramp(1.0)), *SUPPORTS])
    space = _cylinder(4, 2)
    a = QuasiStaticSolver(space, law, history, linear_solver="pardiso").run([0.0, 1.0])
    b = QuasiStaticSolver(space, law, history, linear_solver="superlu").run([0.0, 1.0])
    np.testing.assert_allclose(a.u, b.u, rtol=1e-8, atol=1e-12)
