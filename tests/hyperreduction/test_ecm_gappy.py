"""Empirical cubature and Gappy-POD on cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from nirom.errors import FieldError
from nirom.hyperreduction.ecm import empirical_cubature, greedy_cubature
from nirom.hyperreduction.gappy import GappyPOD, select_points


def _trapezoid(n: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.linspace(-1.0, 1.0, n)
    w = np.full(n, 2.0 / (n - 1))
    w[[0, -1]] /= 2
    return x, w


def test_cubature_integrates_polynomials_exactly_with_as_many_points_as_integrands() -> None:
    x, w = _trapezoid(501)
    A = np.stack([x**k for k in range(7)], axis=1)  # 7 integrands
    cub = empirical_cubature(A, w, tol=1e-12)
    assert cub.points.size <= 7
    assert np.all(cub.weights > 0)
    exact = A.T @ w
    approx = A[cub.points].T @ cub.weights
    assert np.allclose(approx, exact, rtol=0, atol=1e-12)
    # Something the integrands do not span is not integrated by the same points.
    other = np.cos(7 * x)
    assert abs(other[cub.points] @ cub.weights - other @ w) > 1e-6


def test_cubature_on_a_2d_rule_of_a_known_integral() -> None:
    """x^i y^j (i + j <= 3) on the unit square: 10 integrands, integrals 1/((i+1)(j+1))."""
    g = (np.arange(60) + 0.5) / 60  # midpoint rule, exact to 1/(12 n^2) for quadratics
    X, Y = np.meshgrid(g, g)
    x, y, w = X.ravel(), Y.ravel(), np.full(g.size**2, 1.0 / g.size**2)
    pairs = [(i, j) for i in range(4) for j in range(4 - i)]
    A = np.stack([x**i * y**j for i, j in pairs], axis=1)
    cub = empirical_cubature([A[:, :5], A[:, 5:]], w, tol=1e-10)  # two blocks
    assert cub.points.size <= len(pairs)
    approx = A[cub.points].T @ cub.weights
    assert np.allclose(approx, A.T @ w, rtol=1e-9)
    exact = np.array([1 / ((i + 1) * (j + 1)) for i, j in pairs])
    assert np.allclose(approx, exact, rtol=2e-3)  # the midpoint rule's own error


def test_cubature_bad_input_is_one_line() -> None:
    _x, w = _trapezoid(11)
    with pytest.raises(FieldError, match="integrands have shape"):
        empirical_cubature(np.ones((5, 2)), w)
    with pytest.raises(FieldError, match="weights"):
        greedy_cubature(np.ones((2, 11)), -w, tol=1e-6)


def test_gappy_rebuilds_a_field_in_the_span_exactly() -> None:
    rng = np.random.default_rng(0)
    n_points, c, k = 300, 4, 6
    modes = np.linalg.qr(rng.standard_normal((n_points * c, k)))[0].T  # (k, n * c)
    points = select_points(modes, c)
    assert points.size <= k
    gappy = GappyPOD(modes, np.union1d(points, [7, 50, 123]), c)
    coef = rng.standard_normal((3, k))
    field = (coef @ modes).reshape(3, n_points, c)
    rebuilt = gappy.reconstruct(field[:, gappy.points])
    assert np.allclose(rebuilt, field, atol=1e-12)
    assert np.all(gappy.residual(field[:, gappy.points]) < 1e-12)
    # A field off the span leaves a misfit at the sampled points.
    off = field + 0.1 * rng.standard_normal(field.shape)
    assert np.all(gappy.residual(off[:, gappy.points]) > 1e-3)


def test_gappy_scalar_field_and_too_few_points() -> None:
    rng = np.random.default_rng(1)
    modes = np.linalg.qr(rng.standard_normal((100, 4)))[0].T
    gappy = GappyPOD(modes, select_points(modes, 1), 1)
    field = rng.standard_normal(4) @ modes
    assert np.allclose(gappy.reconstruct(field[gappy.points]), field, atol=1e-12)
    with pytest.raises(FieldError, match="at least 4 sampled entries"):
        GappyPOD(modes, np.array([0, 1]), 1)


def test_a_greedy_started_from_a_looser_cubature_meets_its_tolerance() -> None:
    x, w = _trapezoid(801)
    A = np.stack([np.cos(k * np.pi * x) for k in range(12)], axis=1)
    from nirom.hyperreduction.ecm import compress, greedy_cubature, integrand_basis

    factors = [compress(A, w, 1e-12)]
    loose = greedy_cubature(integrand_basis(factors, w, 1e-3), w, 1e-3)
    G = integrand_basis(factors, w, 1e-10)
    warm = greedy_cubature(G, w, 1e-10, start=loose.points)
    cold = greedy_cubature(G, w, 1e-10)
    assert warm.error <= 1e-10 and cold.error <= 1e-10
    assert np.all(warm.weights > 0)
    assert abs(warm.weights.sum() - w.sum()) < 1e-9 * w.sum()
    assert warm.points.size <= cold.points.size + 2
