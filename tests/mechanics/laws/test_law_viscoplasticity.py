"""Norton viscoplasticity: creep rate, rate-independent limit, stiff exponents, large steps."""

import numpy as np
import pytest

from nirom.errors import ParameterError
from nirom.mechanics.laws import J2Plasticity, NortonViscoplasticity, make_law
from nirom.mechanics.laws.material_point import uniaxial
from nirom.mechanics.laws.return_mapping import j2
from nirom.mechanics.tensors import deviator

E, NU, R0 = 200e3, 0.3, 150.0


def viscoplasticity(K=100.0, n=5.0, C=0.0, D=0.0):
    return NortonViscoplasticity(E=E, nu=NU, R0=R0, K=K, n=n, C=C, D=D)


@pytest.mark.parametrize(("sigma", "K", "n"), [(220.0, 100.0, 5.0), (400.0, 300.0, 12.0)])
def test_norton_steady_creep_rate_under_constant_stress(sigma, K, n):
    law = viscoplasticity(K=K, n=n, C=0.0)
    t = np.concatenate([[0.0], np.linspace(1.0, 101.0, 21)])
    stress = np.where(t > 0, sigma, 0.0)
    h = uniaxial(law, t, stress=stress)
    rate = np.diff(h.strain[2:, 0]) / np.diff(t[2:])
    np.testing.assert_allclose(rate, ((sigma - R0) / K) ** n, rtol=1e-9)
    np.testing.assert_allclose(np.diff(h.state["p"][2:]) / np.diff(t[2:]), rate, rtol=1e-9)


def cyclic(law, period, cycles=2, steps=80):
    t = np.linspace(0.0, cycles * period, cycles * steps + 1)
    return uniaxial(law, t, strain=0.006 * np.sin(2 * np.pi * t / period))


@pytest.mark.parametrize(("C", "D"), [(0.0, 0.0), (40e3, 200.0)])
def test_rate_independent_limit_as_K_vanishes_or_the_loading_slows(C, D):
    plastic = J2Plasticity(E=E, nu=NU, sigma_y=R0, H=0.0, C=C, D=D)
    reference = cyclic(plastic, 1.0).stress[:, 0]
    scale = np.abs(reference).max()
    by_K = []
    for K in (100.0, 10.0, 1.0):
        stress = cyclic(viscoplasticity(K=K, n=3.0, C=C, D=D), 1.0).stress[:, 0]
        by_K.append(np.abs(stress - reference).max() / scale)
    assert by_K[0] > by_K[1] > by_K[2] and by_K[2] < 0.01
    by_period = []
    for period in (1.0, 1e3, 1e6):
        stress = cyclic(viscoplasticity(K=100.0, n=3.0, C=C, D=D), period).stress[:, 0]
        by_period.append(np.abs(stress - reference).max() / scale)
    assert by_period[0] > by_period[1] > by_period[2] and by_period[2] < 0.01


@pytest.mark.parametrize("n", [1.0, 7.0, 20.0, 50.0])
@pytest.mark.parametrize("dt", [1e-4, 1.0, 1e4])
def test_stiff_exponents_and_large_steps_solve_the_backward_euler_equation(n, dt):
    K, C, D = 150.0, 30e3, 250.0
    law = viscoplasticity(K=K, n=n, C=C, D=D)
    rng = np.random.default_rng(int(n * 10 + np.log10(dt)))
    state = law.initial_state(500)
    for scale in (1e-3, 5e-3, 2e-2):  # up to steps 30 times the yield strain
        update = law.integrate(rng.normal(scale=scale, size=(500, 6)), state, dt)
        dp = update.state["p"] - state["p"]
        flowing = dp > 0
        q = j2(deviator(update.stress) - update.state["X"])
        residual = q - R0 - K * (dp / dt) ** (1 / n)
        assert flowing.sum() > 50
        assert np.abs(residual[flowing]).max() < 1e-9 * q.max()
        assert q[~flowing].max(initial=0.0) <= R0
        assert update.iterations <= 10
        state = update.state


@pytest.mark.parametrize(
    ("name", "value", "culprit"),
    [
        ("n", 0.5, "n must be >= 1"),
        ("K", 0.0, "K must be > 0"),
        ("R0", -1.0, "R0 must be >= 0"),
        ("C", -1.0, "C must be >= 0"),
        ("E", float("-inf"), "E must be a finite number"),
    ],
)
def test_impossible_parameters(name, value, culprit):
    params = {"E": E, "nu": NU, "R0": R0, "K": 100.0, "n": 5.0, "C": 0.0, "D": 0.0}
    params[name] = value
    with pytest.raises(ParameterError, match=r"^viscoplasticity: ") as info:
        make_law("viscoplasticity", params)
    assert culprit in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("n", [1.0, 20.0])
def test_relaxation_under_held_strain_over_huge_steps(n):
    K = 200.0
    law = viscoplasticity(K=K, n=n)
    hold = np.array([0.0, 1e-3, 1e1, 1e5, 1e9])
    h = uniaxial(law, hold, strain=np.where(hold > 0, 0.004, 0.0))
    sigma = h.stress[1:, 0]
    assert (np.diff(sigma) <= 0).all() and (sigma >= R0).all()
    assert sigma[-1] - R0 < 0.25 * (sigma[0] - R0)
    # Backward Euler: sigma - R0 = K (dp / dt)^(1/n), with dp the p gained over the step.
    rate = np.diff(h.state["p"]) / np.diff(hold)
    np.testing.assert_allclose(h.stress[1:, 0] - R0, K * rate ** (1 / n), rtol=1e-9, atol=1e-9)
