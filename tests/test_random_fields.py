"""Gaussian random fields: exact series evaluation, covariance of many draws, seeding."""

from __future__ import annotations

import numpy as np
import pytest

from nirom import ParameterError
from nirom.random_fields import (
    cosine_sum_at_nodes,
    grf_neumann_2d,
    grf_periodic_1d,
    grf_periodic_2d,
    sample_rng,
)


def periodic_covariance(points: np.ndarray, sigma: float, tau: float, alpha: float, k_max: int):
    """Series ``sum_{0 < |k|_inf <= K} sigma^2 ((2 pi |k|)^2 + tau^2)^-alpha cos(2 pi k.(x - y))``.

    ``points`` has shape (n_points, d); ``k`` runs over the box of Z^d.
    """
    dim = points.shape[1]
    k = np.arange(-k_max, k_max + 1)
    ks = np.stack([g.ravel() for g in np.meshgrid(*([k] * dim), indexing="ij")], axis=1)
    ks = ks[np.any(ks != 0, axis=1)]
    weights = sigma**2 * ((2 * np.pi) ** 2 * (ks**2).sum(axis=1) + tau**2) ** (-alpha)
    phase = 2 * np.pi * points @ ks.T  # (n_points, n_modes)
    return (np.cos(phase) * weights) @ np.cos(phase).T + (np.sin(phase) * weights) @ np.sin(phase).T


def neumann_basis(s: int) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal cosines phi_k at the s x s nodes, (s*s nodes, s*s modes), and |k|^2."""
    x = np.arange(s) / (s - 1)
    k = np.arange(s)
    c = np.where(k > 0, np.sqrt(2.0), 1.0) * np.cos(np.pi * np.outer(x, k))  # [node, mode]
    phi = np.einsum("ym,xn->yxmn", c, c).reshape(s * s, s * s)  # node (iy, ix), mode (ky, kx)
    k_squared = (k[:, None] ** 2 + k[None, :] ** 2).ravel()
    return phi, k_squared


def assert_covariance_matches(draws: np.ndarray, expected: np.ndarray, tol: float) -> None:
    """Empirical covariance of rows of ``draws`` within ``tol`` times the largest variance.

    The draws are centred by construction, so the covariance is the plain second
    moment; the seeds are fixed, so the test is deterministic.
    """
    empirical = draws.T @ draws / draws.shape[0]
    scale = np.diag(expected).max()
    gap = np.abs(empirical - expected).max()
    assert gap < tol * scale, (gap / scale, tol)


def test_periodic_1d_is_the_documented_series() -> None:
    n, k_max, sigma, tau, alpha = 12, 9, 2.0, 3.0, 1.5  # more modes than points: aliasing
    u = grf_periodic_1d(n, np.random.default_rng(1), sigma, tau, alpha, n_modes=k_max)
    xi, eta = np.random.default_rng(1).standard_normal((2, 2 * k_max + 1))
    k = np.arange(-k_max, k_max + 1)
    amplitude = sigma * ((2 * np.pi * k) ** 2 + tau**2) ** (-alpha / 2)
    amplitude[k == 0] = 0.0
    x = np.arange(n) / n
    expected = np.real(np.exp(2j * np.pi * np.outer(x, k)) @ (amplitude * (xi + 1j * eta)))
    np.testing.assert_allclose(u, expected, rtol=0, atol=1e-13)


def test_periodic_2d_is_the_documented_series() -> None:
    n, k_max, sigma, tau, alpha = 6, 4, 2.0, 3.0, 1.5
    u = grf_periodic_2d(n, np.random.default_rng(2), sigma, tau, alpha, n_modes=k_max)
    xi, eta = np.random.default_rng(2).standard_normal((2, 2 * k_max + 1, 2 * k_max + 1))
    k = np.arange(-k_max, k_max + 1)
    ky, kx = np.meshgrid(k, k, indexing="ij")
    amplitude = sigma * ((2 * np.pi) ** 2 * (kx**2 + ky**2) + tau**2) ** (-alpha / 2)
    amplitude[k_max, k_max] = 0.0
    c = amplitude * (xi + 1j * eta)
    x = np.arange(n) / n
    expected = np.array(
        [[np.real(np.sum(c * np.exp(2j * np.pi * (kx * xx + ky * yy)))) for xx in x] for yy in x]
    )
    assert u.shape == (n, n)
    np.testing.assert_allclose(u, expected, rtol=0, atol=1e-13)


def test_neumann_2d_is_the_documented_series() -> None:
    s, tau, alpha = 7, 3.0, 2.0
    u = grf_neumann_2d(s, np.random.default_rng(3), tau, alpha)
    xi = np.random.default_rng(3).standard_normal((s, s)).ravel()  # [k_y, k_x]
    phi, k_squared = neumann_basis(s)
    coefficients = tau ** (alpha - 1) * (np.pi**2 * k_squared + tau**2) ** (-alpha / 2)
    coefficients[0] = 0.0
    assert u.shape == (s, s)
    np.testing.assert_allclose(u.ravel(), phi @ (coefficients * xi), rtol=0, atol=1e-13)


def test_cosine_sum_at_nodes_matches_an_explicit_sum() -> None:
    s = 5
    c = np.random.default_rng(4).standard_normal((s, s))
    x = np.arange(s) / (s - 1)
    k = np.arange(s)
    cos = np.cos(np.pi * np.outer(k, x))  # [mode, node]
    expected = np.einsum("ab,ay,bx->yx", c, cos, cos)
    np.testing.assert_allclose(cosine_sum_at_nodes(c), expected, rtol=0, atol=1e-13)
    # A single mode is the cosine product itself, x along the second index.
    one = np.zeros((s, s))
    one[0, 1] = 1.0
    expected = np.tile(np.cos(np.pi * x), (s, 1))
    np.testing.assert_allclose(cosine_sum_at_nodes(one), expected, rtol=0, atol=1e-15)


def test_periodic_1d_covariance_of_many_draws() -> None:
    n, sigma, tau, alpha = 16, 25.0, 5.0, 2.0  # the Burgers prior
    rng = np.random.default_rng(5)
    draws = np.array([grf_periodic_1d(n, rng, sigma, tau, alpha) for _ in range(20000)])
    x = (np.arange(n) / n)[:, None]
    expected = periodic_covariance(x, sigma, tau, alpha, n // 2)
    # A few modes carry most of the variance: the entries have standard errors near 1-2%.
    assert_covariance_matches(draws, expected, tol=0.08)
    # The test has power: a wrong exponent is far outside the tolerance.
    wrong = periodic_covariance(x, sigma, tau, alpha + 0.25, n // 2)
    assert np.abs(wrong - expected).max() > 0.3 * expected[0, 0]


def test_periodic_2d_covariance_of_many_draws() -> None:
    n, sigma, tau, alpha = 6, 1.0, 2.0, 1.5
    rng = np.random.default_rng(6)
    draws = np.array([grf_periodic_2d(n, rng, sigma, tau, alpha).ravel() for _ in range(20000)])
    y, x = np.meshgrid(np.arange(n) / n, np.arange(n) / n, indexing="ij")
    expected = periodic_covariance(np.column_stack([x.ravel(), y.ravel()]), sigma, tau, alpha, 3)
    assert_covariance_matches(draws, expected, tol=0.08)


def test_neumann_2d_covariance_of_many_draws() -> None:
    s, tau, alpha = 6, 3.0, 2.0  # the Darcy prior
    rng = np.random.default_rng(7)
    draws = np.array([grf_neumann_2d(s, rng, tau, alpha).ravel() for _ in range(20000)])
    phi, k_squared = neumann_basis(s)
    weights = tau ** (2 * (alpha - 1)) * (np.pi**2 * k_squared + tau**2) ** (-alpha)
    weights[0] = 0.0
    expected = (phi * weights) @ phi.T
    assert_covariance_matches(draws, expected, tol=0.08)
    # Neumann fields vary more at the boundary than inside: the test sees it.
    variance = np.diag(expected).reshape(s, s)
    assert variance[0, 0] > 1.5 * variance[s // 2, s // 2]


def test_same_seed_same_field_different_ids_differ() -> None:
    a = grf_neumann_2d(9, sample_rng(3, 17), 3.0, 2.0)
    np.testing.assert_array_equal(a, grf_neumann_2d(9, sample_rng(3, 17), 3.0, 2.0))
    assert not np.allclose(a, grf_neumann_2d(9, sample_rng(3, 18), 3.0, 2.0))
    assert not np.allclose(a, grf_neumann_2d(9, sample_rng(4, 17), 3.0, 2.0))
    u = grf_periodic_1d(32, sample_rng(0, 0), 25.0, 5.0, 2.0)
    np.testing.assert_array_equal(u, grf_periodic_1d(32, sample_rng(0, 0), 25.0, 5.0, 2.0))
    assert abs(u.mean()) < 1e-12  # the constant mode is dropped


def test_bad_arguments_name_the_culprit() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ParameterError, match="number of points n"):
        grf_periodic_1d(0, rng, 1.0, 1.0, 2.0)
    with pytest.raises(ParameterError, match="sigma"):
        grf_periodic_1d(8, rng, -1.0, 1.0, 2.0)
    with pytest.raises(ParameterError, match="alpha"):
        grf_periodic_2d(8, rng, 1.0, 1.0, 0.0)
    with pytest.raises(ParameterError, match="tau"):
        grf_neumann_2d(8, rng, float("nan"), 2.0)
    with pytest.raises(ParameterError, match="nodes per side s"):
        grf_neumann_2d(1, rng, 3.0, 2.0)
    with pytest.raises(ParameterError, match="numpy.random.Generator"):
        grf_neumann_2d(8, 42, 3.0, 2.0)
    with pytest.raises(ParameterError, match="sample_id"):
        sample_rng(0, -1)
    with pytest.raises(ParameterError, match="shape"):
        cosine_sum_at_nodes(np.zeros((3, 4)))
