"""J2 plasticity against the uniaxial closed forms and the discrete yield condition."""

import numpy as np
import pytest

from nirom.errors import ParameterError
from nirom.mechanics.laws import J2Plasticity, make_law
from nirom.mechanics.laws.material_point import uniaxial
from nirom.mechanics.laws.return_mapping import j2
from nirom.mechanics.tensors import deviator

E, NU, SY = 200e3, 0.3, 250.0


def plasticity(H=0.0, C=0.0, D=0.0):
    return J2Plasticity(E=E, nu=NU, sigma_y=SY, H=H, C=C, D=D)


def ramp(eps_max, steps):
    t = np.linspace(0.0, 1.0, steps + 1)
    return t, eps_max * t


def test_linear_isotropic_hardening_tangent():
    H = 10e3
    law = plasticity(H=H)
    t, eps = ramp(0.01, 50)
    h = uniaxial(law, t, strain=eps)
    plastic = h.stress[:, 0] > SY + 1.0
    slopes = np.diff(h.stress[plastic, 0]) / np.diff(h.strain[plastic, 0])
    np.testing.assert_allclose(slopes, E * H / (E + H), rtol=1e-9)
    # The tangent condensed to uniaxial stress gives the same modulus.
    last = law.integrate(h.strain[-1:], {k: v[-2:-1] for k, v in h.state.items()}, 1.0)
    np.testing.assert_allclose(1.0 / np.linalg.inv(last.tangent[0])[0, 0], E * H / (E + H))
    # The lateral stresses vanish and plastic flow is incompressible.
    assert np.abs(h.stress[:, 1:]).max() < 1e-6
    np.testing.assert_allclose(h.state["eps_p"][-1, :3].sum(), 0.0, atol=1e-15)


def test_linear_kinematic_hardening_reverse_yield():
    C = 20e3
    law = plasticity(C=C)
    eps_max = 0.005
    sigma_max = SY + E * C / (E + C) * (eps_max - SY / E)
    eps_reverse = eps_max - 2 * SY / E  # strain where sigma_max - 2 sigma_y is reached
    delta = 2e-5
    strain = np.array([0.0, SY / E, eps_max, eps_reverse + delta, eps_reverse - delta])
    h = uniaxial(law, np.arange(5.0), strain=strain)
    np.testing.assert_allclose(h.stress[2, 0], sigma_max, rtol=1e-12)
    p = h.state["p"]
    assert p[3] == p[2] and p[4] > p[3]  # elastic just before the reverse yield, plastic after
    np.testing.assert_allclose(h.stress[3, 0], sigma_max - 2 * SY + E * delta, rtol=1e-10)
    expected = sigma_max - 2 * SY - E * C / (E + C) * delta
    np.testing.assert_allclose(h.stress[4, 0], expected, rtol=1e-10)


@pytest.mark.parametrize("H", [0.0, 5e3])
def test_armstrong_frederick_monotonic_curve_converges_at_first_order(H):
    C, D = 60e3, 300.0
    law = plasticity(H=H, C=C, D=D)
    errors = []
    for steps in (200, 400):
        t, eps = ramp(0.02, steps)
        h = uniaxial(law, t, strain=eps)
        p = h.state["p"]
        exact = SY + H * p + (C / D) * (1.0 - np.exp(-D * p))
        plastic = p > 0
        err = np.abs(h.stress[plastic, 0] - exact[plastic]) / exact[plastic]
        errors.append(err.max())
    assert errors[1] < 2e-3
    assert 1.8 < errors[0] / errors[1] < 2.2  # backward Euler: first order in the step


def test_stress_on_the_yield_surface_after_plastic_steps(strains):
    H, C, D = 2e3, 30e3, 150.0
    law = plasticity(H=H, C=C, D=D)
    state = law.initial_state(400)
    rng = np.random.default_rng(3)
    for _ in range(4):  # non-proportional multiaxial path
        eps = rng.normal(scale=2e-3, size=(400, 6))
        update = law.integrate(eps, state, 1.0)
        plastic = update.state["p"] > state["p"]
        f = j2(deviator(update.stress) - update.state["X"]) - SY - H * update.state["p"]
        assert plastic.sum() > 100
        assert np.abs(f[plastic]).max() < 1e-10 * SY
        assert f[~plastic].max(initial=-1.0) <= 0.0
        state = update.state
    # Plastic flow is deviatoric and the back stress of AF stays within C/D (+ the step).
    np.testing.assert_allclose(state["eps_p"][:, :3].sum(axis=1), 0.0, atol=1e-15)
    assert j2(state["X"]).max() <= C / D * (1 + 1e-12)


def test_symmetric_tangent_flag():
    assert plasticity(C=1e3).symmetric_tangent
    assert not plasticity(C=1e3, D=10.0).symmetric_tangent


@pytest.mark.parametrize(
    ("name", "value", "culprit"),
    [
        ("sigma_y", 0.0, "sigma_y must be > 0"),
        ("sigma_y", -1.0, "sigma_y must be > 0"),
        ("H", -1.0, "H must be >= 0"),
        ("C", -1.0, "C must be >= 0"),
        ("D", -0.5, "D must be >= 0"),
        ("D", float("inf"), "D must be a finite number"),
        ("nu", 0.7, "nu must be in (-1, 0.5)"),
    ],
)
def test_impossible_parameters(name, value, culprit):
    params = {"E": E, "nu": NU, "sigma_y": SY, "H": 0.0, "C": 0.0, "D": 0.0, name: value}
    with pytest.raises(ParameterError, match=r"^plasticity: ") as info:
        make_law("plasticity", params)
    assert culprit in str(info.value) and "\n" not in str(info.value)
