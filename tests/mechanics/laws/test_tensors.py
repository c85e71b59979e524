import numpy as np

from nirom.mechanics import tensors as T


def random_matrices(n: int, seed: int) -> np.ndarray:
    a = np.random.default_rng(seed).normal(size=(n, 3, 3))
    return 0.5 * (a + np.swapaxes(a, 1, 2))


def test_double_contraction_is_a_dot_product():
    a, b = random_matrices(5, 0), random_matrices(5, 1)
    expected = np.einsum("nij,nij->n", a, b)
    got = np.einsum("ni,ni->n", T.matrix_to_mandel(a), T.matrix_to_mandel(b))
    np.testing.assert_allclose(got, expected, rtol=1e-13)


def test_matrix_and_voigt_round_trips():
    m = random_matrices(4, 2)
    t = T.matrix_to_mandel(m)
    np.testing.assert_allclose(T.mandel_to_matrix(t), m, rtol=1e-14)
    voigt = T.mandel_to_voigt(t)
    np.testing.assert_allclose(voigt[:, 5], m[:, 0, 1])
    np.testing.assert_allclose(voigt[:, 3], m[:, 1, 2])
    np.testing.assert_allclose(T.mandel_to_voigt(t, engineering_shear=True)[:, 4], 2 * m[:, 0, 2])
    for eng in (False, True):
        np.testing.assert_allclose(T.voigt_to_mandel(T.mandel_to_voigt(t, eng), eng), t)


def test_von_mises_of_uniaxial_and_shear_stress():
    uniaxial = T.matrix_to_mandel(np.diag([-250.0, 0.0, 0.0])[None])
    np.testing.assert_allclose(T.von_mises(uniaxial), [250.0])
    shear = np.zeros((1, 3, 3))
    shear[0, 0, 1] = shear[0, 1, 0] = 10.0
    np.testing.assert_allclose(T.von_mises(T.matrix_to_mandel(shear)), [np.sqrt(3) * 10.0])
    np.testing.assert_allclose(T.von_mises(T.identity()[None] * 7.0), [0.0], atol=1e-12)


def test_deviator_and_projector_agree():
    t = T.matrix_to_mandel(random_matrices(3, 3))
    np.testing.assert_allclose(T.deviator(t), t @ T.deviatoric_projector(), atol=1e-14)
    np.testing.assert_allclose(T.trace(T.deviator(t)), 0.0, atol=1e-14)


def test_elastic_stiffness_matches_hookes_law_on_matrices():
    E, nu = 210e3, 0.3
    lam, mu = T.lame_constants(E, nu)
    eps = random_matrices(3, 4) * 1e-3
    expected = lam * np.trace(eps, axis1=1, axis2=2)[:, None, None] * np.eye(3) + 2 * mu * eps
    got = T.matrix_to_mandel(eps) @ T.elastic_stiffness(E, nu)
    np.testing.assert_allclose(got, T.matrix_to_mandel(expected), rtol=1e-12)
    # Uniaxial stress: the compliance's 11 entry is 1/E and the lateral one -nu/E.
    compliance = np.linalg.inv(T.elastic_stiffness(E, nu))
    np.testing.assert_allclose(compliance[0, :3], [1 / E, -nu / E, -nu / E], rtol=1e-12)
