import json

import numpy as np
import pytest

from nirom.errors import ParameterError
from nirom.mechanics.laws import LawIntegrationError, LinearElastic, MaterialLaw, make_law
from nirom.mechanics.tensors import identity

E, NU = 200e3, 0.3


def test_hydrostatic_and_shear_responses():
    law = make_law("elastic", {"E": E, "nu": NU})
    eps = np.zeros((2, 6))
    eps[0, :3] = 1e-3  # volumetric strain 3e-3
    eps[1, 5] = np.sqrt(2) * 1e-3  # eps_12 = 1e-3
    update = law.integrate(eps, law.initial_state(2), 1.0)
    bulk, shear = E / (3 * (1 - 2 * NU)), E / (2 * (1 + NU))
    np.testing.assert_allclose(update.stress[0], 3 * bulk * 1e-3 * identity(), rtol=1e-12)
    np.testing.assert_allclose(update.stress[1, 5] / np.sqrt(2), 2 * shear * 1e-3, rtol=1e-12)
    assert update.state["p"].shape == (2,) and not update.state["p"].any()
    assert law.symmetric_tangent


def test_tangent_matches_finite_differences(tangent_error, strains):
    law = LinearElastic(E=E, nu=NU)
    eps = strains(5, 1e-3, seed=0)
    assert tangent_error(law, eps, law.initial_state(5)).max() < 1e-7


@pytest.mark.parametrize(
    ("params", "culprit"),
    [
        ({"E": 0.0, "nu": 0.3}, "E must be > 0"),
        ({"E": -1.0, "nu": 0.3}, "E must be > 0"),
        ({"E": E, "nu": 0.5}, "nu must be in (-1, 0.5)"),
        ({"E": E, "nu": -1.0}, "nu must be in (-1, 0.5)"),
        ({"E": float("nan"), "nu": 0.3}, "E must be a finite number"),
        ({"E": "stiff", "nu": 0.3}, "E must be a finite number"),
        ({"E": E}, "missing parameter 'nu'"),
        ({"E": E, "nu": 0.3, "G": 1.0}, "unknown parameter 'G'"),
    ],
)
def test_impossible_parameters_are_one_line_errors(params, culprit):
    with pytest.raises(ParameterError, match="^elastic: ") as info:
        make_law("elastic", params)
    assert culprit in str(info.value) and "\n" not in str(info.value)


def test_unknown_law_lists_the_names():
    with pytest.raises(ParameterError, match="unknown law 'hyperelastic'.*elastic"):
        make_law("hyperelastic", {})


def test_round_trip_through_json():
    law = make_law("elastic", {"E": E, "nu": NU})
    again = MaterialLaw.from_dict(json.loads(json.dumps(law.to_dict())))
    assert again == law and again.params == {"E": E, "nu": NU}
    assert LinearElastic.from_dict(law.to_dict()) == law


def test_bad_inputs_to_integrate():
    law = LinearElastic(E=E, nu=NU)
    state = law.initial_state(3)
    with pytest.raises(ParameterError, match="strain must have shape"):
        law.integrate(np.zeros((3, 4)), state, 1.0)
    with pytest.raises(ParameterError, match="state 'p' must have shape"):
        law.integrate(np.zeros((2, 6)), state, 1.0)
    with pytest.raises(ParameterError, match="dt must be"):
        law.integrate(np.zeros((3, 6)), state, 0.0)
    with pytest.raises(LawIntegrationError, match="NaN"):
        law.integrate(np.full((3, 6), np.nan), state, 1.0)
