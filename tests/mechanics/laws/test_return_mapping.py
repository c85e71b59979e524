"""The bracketed scalar Newton of the return mapping, on functions with known roots."""

import numpy as np
import pytest

from nirom.mechanics.laws import LawIntegrationError
from nirom.mechanics.laws.return_mapping import solve_multiplier

C = np.geomspace(1e-6, 1e6, 40)


def cubic(x, idx):
    return C[idx] - x**3, -3 * x**2


def test_newton_finds_cube_roots_from_the_upper_bound():
    hi = np.maximum(C, 1.0)
    x, iterations = solve_multiplier(cubic, hi, np.zeros(40), hi, C, "test")
    np.testing.assert_allclose(x, np.cbrt(C), rtol=1e-12)
    assert iterations < 60


def test_bisection_rescues_a_wrong_derivative():
    def misleading(x, idx):  # the derivative's sign is wrong: every Newton step leaves
        return C[idx] - x**3, 3 * x**2  # the bracket, so only bisection makes progress

    hi = np.maximum(C, 1.0)
    x, _ = solve_multiplier(misleading, hi, np.zeros(40), hi, C, "test", maxiter=200)
    np.testing.assert_allclose(x, np.cbrt(C), rtol=1e-10)


def test_no_convergence_is_a_law_integration_error():
    hi = np.maximum(C, 1.0)
    with pytest.raises(LawIntegrationError, match="test: .*did not converge in 2 iterations"):
        solve_multiplier(cubic, hi, np.zeros(40), hi, C, "test", maxiter=2)
