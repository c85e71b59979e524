import numpy as np
import pytest

from nirom.errors import ParameterError
from nirom.mechanics.laws import J2Plasticity, LinearElastic, NortonViscoplasticity
from nirom.mechanics.laws.material_point import drive, uniaxial

E, NU = 200e3, 0.3


def test_elastic_uniaxial_stress():
    t = np.linspace(0.0, 1.0, 5)
    h = uniaxial(LinearElastic(E=E, nu=NU), t, strain=1e-3 * t)
    np.testing.assert_allclose(h.stress[:, 0], E * 1e-3 * t, rtol=1e-12)
    np.testing.assert_allclose(h.strain[:, 1], -NU * 1e-3 * t, rtol=1e-10)
    np.testing.assert_allclose(h.strain[:, 2], h.strain[:, 1], rtol=1e-12)
    assert np.abs(h.stress[:, 1:]).max() < 1e-8


@pytest.mark.parametrize(
    "law",
    [
        J2Plasticity(E=E, nu=NU, sigma_y=250.0, H=1e3, C=40e3, D=200.0),
        NortonViscoplasticity(E=E, nu=NU, R0=150.0, K=200.0, n=6.0, C=40e3, D=200.0),
    ],
    ids=["plasticity", "viscoplasticity"],
)
def test_stress_control_reproduces_strain_control(law):
    t = np.linspace(0.0, 2.0, 161)
    by_strain = uniaxial(law, t, strain=0.008 * np.sin(np.pi * t))
    by_stress = uniaxial(law, t, stress=by_strain.stress[:, 0])
    np.testing.assert_allclose(by_stress.strain, by_strain.strain, atol=1e-10)
    np.testing.assert_allclose(by_stress.state["p"], by_strain.state["p"], atol=1e-10)
    assert by_strain.state["p"][-1] > 0.01 and by_strain.iterations.max() <= 6
    assert by_strain.state["X"].shape == (161, 6) and by_strain.state["p"].shape == (161,)


def test_pure_shear_under_mixed_control():
    law = J2Plasticity(E=E, nu=NU, sigma_y=250.0, H=0.0, C=0.0, D=0.0)
    t = np.linspace(0.0, 1.0, 11)
    strain = np.zeros((11, 6))
    strain[:, 5] = np.sqrt(2) * 0.01 * t  # eps_12 prescribed, the other stresses zero
    h = drive(law, t, strain=strain, controlled=[False] * 5 + [True])
    # Perfect plasticity in shear: tau saturates at sigma_y / sqrt(3).
    np.testing.assert_allclose(h.stress[-1, 5] / np.sqrt(2), 250.0 / np.sqrt(3), rtol=1e-10)
    assert np.abs(h.stress[:, :5]).max() < 1e-6


def test_bad_histories():
    law = LinearElastic(E=E, nu=NU)
    with pytest.raises(ParameterError, match="axial strain or the axial stress"):
        uniaxial(law, [0.0, 1.0])
    with pytest.raises(ParameterError, match="times must increase"):
        uniaxial(law, [0.0, 0.0], strain=[0.0, 1e-3])
    with pytest.raises(ParameterError, match="at times\\[0\\] must be 0"):
        uniaxial(law, [0.0, 1.0], strain=[1e-3, 2e-3])
