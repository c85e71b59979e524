"""The compiled (numba) law kernels equal the NumPy reference to round-off."""

from __future__ import annotations

import numpy as np
import pytest

from nirom.mechanics.laws import LawIntegrationError, MaterialLaw, compiled, make_law
from nirom.mechanics.laws.base import _LAWS
from nirom.mechanics.laws.elastic import LinearElastic

pytestmark = pytest.mark.skipif(not compiled.AVAILABLE, reason="numba is not installed")

ELASTIC = {"E": 200e3, "nu": 0.3}
LAWS = {
    "elastic": ("elastic", ELASTIC),
    "isotropic": ("plasticity", {**ELASTIC, "sigma_y": 250.0, "H": 1e3, "C": 0.0, "D": 0.0}),
    "prager": ("plasticity", {**ELASTIC, "sigma_y": 250.0, "H": 0.0, "C": 2e4, "D": 0.0}),
    "armstrong-frederick": (
        "plasticity",
        {**ELASTIC, "sigma_y": 250.0, "H": 500.0, "C": 2e4, "D": 200.0},
    ),
    "norton": ("viscoplasticity", {**ELASTIC, "R0": 140.0, "K": 150.0, "n": 5.0, "C": 0, "D": 0}),
    "norton-af": (
        "viscoplasticity",
        {**ELASTIC, "R0": 140.0, "K": 150.0, "n": 5.0, "C": 2e4, "D": 200.0},
    ),
    "stiff-norton": (
        "viscoplasticity",
        {**ELASTIC, "R0": 100.0, "K": 50.0, "n": 20.0, "C": 1e4, "D": 100.0},
    ),
}


def _both(law: MaterialLaw, strain: np.ndarray, state: dict, dt: float):
    fast = law.integrate(strain, state, dt)
    law.kernel = "numpy"
    try:
        reference = law.integrate(strain, state, dt)
    finally:
        law.kernel = "compiled"
    return fast, reference


def _close(a: np.ndarray, b: np.ndarray) -> None:
    scale = max(float(np.abs(b).max()), 1e-300)
    assert np.abs(a - b).max() <= 1e-12 * scale


@pytest.mark.parametrize("key", sorted(LAWS))
def test_compiled_equals_numpy_over_loading_unloading_and_reloading(key: str) -> None:
    """A random cyclic strain path (plastic loading, elastic unloading, reverse yielding)
    at 400 points: stress, tangent, state and local iterations agree at every step."""
    name, params = LAWS[key]
    law = make_law(name, params)
    assert law.compiled_code() is not None
    rng = np.random.default_rng(7)
    direction = rng.normal(size=(400, 6))
    amplitude = rng.uniform(0.0, 6e-3, size=400)  # some points stay elastic
    state = law.initial_state(400)
    plastic_steps = 0
    factors = [0.3, 0.7, 1.0, 0.6, -0.2, -1.0, -0.4, 0.5]
    steps = [1e-3, 0.5, 2.0, 1.0, 0.1, 10.0, 1.0, 3.0]
    for step, (factor, dt) in enumerate(zip(factors, steps, strict=True)):
        strain = factor * amplitude[:, None] * direction
        fast, reference = _both(law, strain, state, dt)
        _close(fast.stress, reference.stress)
        _close(fast.tangent, reference.tangent)
        assert set(fast.state) == set(reference.state) == set(law.state_shapes)
        for k in reference.state:
            _close(fast.state[k], reference.state[k])
        assert fast.iterations == reference.iterations, step
        plastic_steps += bool(np.any(reference.state["p"] > state["p"]))
        state = reference.state
    if name != "elastic":
        assert plastic_steps >= 4  # the path does yield, in both directions


@pytest.mark.parametrize("dt", [1e-8, 1e-2, 1e4])
def test_viscoplastic_steps_of_any_length(dt: float) -> None:
    """Relaxation-like and creep-like steps (dt from 1e-8 to 1e4 s) agree."""
    law = make_law(*LAWS["norton-af"])
    strain = np.random.default_rng(3).normal(scale=4e-3, size=(200, 6))
    fast, reference = _both(law, strain, law.initial_state(200), dt)
    _close(fast.stress, reference.stress)
    _close(fast.tangent, reference.tangent)
    _close(fast.state["p"], reference.state["p"])


def test_the_inputs_are_not_modified_and_outputs_are_fresh() -> None:
    law = make_law(*LAWS["armstrong-frederick"])
    strain = np.full((3, 6), 5e-3)
    state = law.initial_state(3)
    before = {k: v.copy() for k, v in state.items()}
    update = law.integrate(strain, state, 1.0)
    for k in state:
        assert np.array_equal(state[k], before[k])
        assert update.state[k] is not state[k]


def test_a_kernel_failure_is_a_law_integration_error_with_the_numpy_message(monkeypatch) -> None:
    law = make_law(*LAWS["norton-af"])
    for status, words in (
        (compiled.NO_CONVERGENCE, "did not converge"),
        (compiled.NOT_FINITE, "non-finite"),
    ):
        monkeypatch.setattr(compiled, "integrate_points", lambda *args, s=status: (3, s, 2))
        with pytest.raises(LawIntegrationError, match=words):
            law.integrate(np.zeros((4, 6)), law.initial_state(4), 1.0)
    law.kernel = "numpy"  # the reference path does not use the kernel
    law.integrate(np.zeros((4, 6)), law.initial_state(4), 1.0)


def test_a_law_without_a_kernel_runs_the_numpy_path() -> None:
    class Shifted(LinearElastic):  # a user's own law: no compiled kernel
        name = "test-shifted-elastic"

        def _integrate(self, strain, state, dt):
            update = super()._integrate(strain, state, dt)
            return type(update)(update.stress + 1.0, update.tangent, update.state)

    _LAWS.pop(Shifted.name)  # defined for this test only
    law = Shifted(**ELASTIC)
    assert law.compiled_code() is None
    out = law.integrate(np.zeros((2, 6)), law.initial_state(2), 1.0)
    assert np.all(out.stress == 1.0)
    assert make_law("elastic", ELASTIC).compiled_code() is not None
    numpy_law = make_law("elastic", ELASTIC)
    numpy_law.kernel = "numpy"
    assert numpy_law.compiled_code() is None


def test_warm_up_reports_compilation_or_cache() -> None:
    info = compiled.warm_up()
    assert info["available"] and info["seconds"] >= 0 and isinstance(info["compiled"], bool)
