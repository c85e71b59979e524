"""What every law promises: consistent tangent, untouched inputs, subset independence, JSON."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nirom.mechanics.laws import MaterialLaw, law_names, make_law
from nirom.mechanics.laws.return_mapping import j2
from nirom.mechanics.tensors import deviator

ELASTIC = {"E": 200e3, "nu": 0.3}
LAWS = {
    "elastic": ("elastic", ELASTIC),
    "isotropic": ("plasticity", {**ELASTIC, "sigma_y": 250.0, "H": 5e3, "C": 0.0, "D": 0.0}),
    "prager": ("plasticity", {**ELASTIC, "sigma_y": 250.0, "H": 0.0, "C": 30e3, "D": 0.0}),
    "armstrong-frederick": (
        "plasticity",
        {**ELASTIC, "sigma_y": 250.0, "H": 2e3, "C": 60e3, "D": 300.0},
    ),
    "norton-linear": (
        "viscoplasticity",
        {**ELASTIC, "R0": 100.0, "K": 5e3, "n": 1.0, "C": 0.0, "D": 0.0},
    ),
    "norton-af": (
        "viscoplasticity",
        {**ELASTIC, "R0": 150.0, "K": 200.0, "n": 5.0, "C": 40e3, "D": 200.0},
    ),
    "norton-stiff": (
        "viscoplasticity",
        {**ELASTIC, "R0": 0.0, "K": 300.0, "n": 20.0, "C": 50e3, "D": 400.0},
    ),
}
DT = 0.1


def law_for(key: str) -> MaterialLaw:
    name, params = LAWS[key]
    return make_law(name, params)


def history(law: MaterialLaw, n: int, seed: int, plane: bool):
    """State after a random non-proportional path of 3 steps, and the strain of a 4th."""
    rng = np.random.default_rng(seed)
    state, eps = law.initial_state(n), np.zeros((n, 6))
    size = np.geomspace(0.05, 1.5, n)[:, None]  # some points stay elastic, others flow
    for scale in (2e-3, 2e-3, 2e-3, 4e-4):
        step = size * rng.normal(scale=scale, size=(n, 6))
        if plane:
            step[:, [2, 3, 4]] = 0.0
        previous, eps = state, eps + step
        state = law.integrate(eps, state, DT).state
    return eps, previous


def trial_overstress(law: MaterialLaw, strain: np.ndarray, state: dict) -> np.ndarray:
    """``J2(s_trial - X) - R(0)`` of the J2 laws (+inf for elasticity: never near a kink)."""
    if law.name == "elastic":
        return np.full(strain.shape[0], np.inf)
    G = law.params["E"] / (2 * (1 + law.params["nu"]))
    q = j2(2 * G * deviator(strain - state["eps_p"]) - state["X"])
    p = law.params
    threshold = p["R0"] if law.name == "viscoplasticity" else p["sigma_y"] + p["H"] * state["p"]
    return q - threshold


@pytest.mark.parametrize("plane", [False, True], ids=["3d", "plane-strain"])
@pytest.mark.parametrize("key", list(LAWS))
def test_tangent_against_central_differences(key, plane, tangent_error):
    law = law_for(key)
    eps, state = history(law, 120, seed=len(key), plane=plane)
    err = tangent_error(law, eps, state, DT)
    over = trial_overstress(law, eps, state)
    away = np.abs(over) > 1.0  # FD across the elastic-plastic switch would measure the kink
    assert err[away].max() < 1e-6
    if law.name != "elastic":  # both states tested (no elastic one without a threshold)
        assert (over[away] > 0).sum() > 10
        assert (over[away] < 0).sum() > 10 or law.params.get("R0") == 0.0
    if law.symmetric_tangent:
        tangent = law.integrate(eps, state, DT).tangent
        np.testing.assert_allclose(tangent, np.swapaxes(tangent, 1, 2), atol=1e-9 * 200e3)


@pytest.mark.parametrize("key", list(LAWS))
def test_inputs_untouched_and_fresh_outputs(key):
    law = law_for(key)
    eps, state = history(law, 50, seed=7, plane=False)
    eps_copy = eps.copy()
    state_copy = {k: v.copy() for k, v in state.items()}
    update = law.integrate(eps, state, DT)
    np.testing.assert_array_equal(eps, eps_copy)
    for k in state:
        np.testing.assert_array_equal(state[k], state_copy[k])
        assert not np.shares_memory(update.state[k], state[k])
    assert set(update.state) == set(law.state_shapes) and "p" in update.state
    assert update.stress.shape == (50, 6) and update.tangent.shape == (50, 6, 6)


def assert_subsets_agree(law: MaterialLaw, eps: np.ndarray, state: dict, seed: int) -> None:
    full = law.integrate(eps, state, DT)
    order = np.random.default_rng(seed).permutation(eps.shape[0])
    for part in np.array_split(order, [1, 4, 13]):
        sub = law.integrate(eps[part], {k: v[part] for k, v in state.items()}, DT)
        np.testing.assert_array_equal(sub.stress, full.stress[part])
        np.testing.assert_array_equal(sub.tangent, full.tangent[part])
        for k in state:
            np.testing.assert_array_equal(sub.state[k], full.state[k][part])


@pytest.mark.parametrize("key", list(LAWS))
def test_subsets_give_identical_results(key):
    law = law_for(key)
    eps, state = history(law, 40, seed=11, plane=False)
    assert_subsets_agree(law, eps, state, seed=0)


@settings(max_examples=25, deadline=None)
@given(
    key=st.sampled_from(sorted(LAWS)),
    seed=st.integers(0, 2**16),
    stretch=st.floats(0.3, 3.0),
)
def test_subsets_agree_on_random_paths(key, seed, stretch):
    name, params = LAWS[key]
    law = make_law(name, {**params, "E": params["E"] * stretch})
    eps, state = history(law, 30, seed=seed, plane=bool(seed % 2))
    assert_subsets_agree(law, eps, state, seed=seed)


@pytest.mark.parametrize("key", list(LAWS))
def test_json_round_trip(key):
    law = law_for(key)
    text = json.dumps(law.to_dict())
    again = MaterialLaw.from_dict(json.loads(text))
    assert again == law and type(again) is type(law)
    eps, state = history(law, 5, seed=1, plane=False)
    np.testing.assert_array_equal(
        again.integrate(eps, state, DT).stress, law.integrate(eps, state, DT).stress
    )


def test_registry_and_parameter_metadata():
    assert law_names() == ["elastic", "plasticity", "viscoplasticity"]
    for name in law_names():
        law_class = type(make_law(*next(v for v in LAWS.values() if v[0] == name)))
        for parameter in law_class.parameters:
            assert parameter.unit and parameter.description and parameter.domain
        assert "p" in law_class.state_shapes
