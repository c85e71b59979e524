"""The reduced model's von Mises stress from Voigt components equals the mechanics' own."""

from __future__ import annotations

import numpy as np
import pytest

from nirom.hyperreduction.model import _von_mises
from nirom.mechanics.tensors import von_mises


@pytest.mark.parametrize(("n_voigt", "mandel_slots"), [(4, [0, 1, 2, 5]), (6, list(range(6)))])
def test_von_mises_from_voigt_equals_the_mandel_reference(n_voigt, mandel_slots) -> None:
    sigma = np.random.default_rng(n_voigt).normal(scale=100.0, size=(7, 50, n_voigt))
    mandel = np.zeros((7, 50, 6))
    mandel[..., mandel_slots] = sigma
    mandel[..., 3:] *= np.sqrt(2.0)
    np.testing.assert_allclose(_von_mises(sigma), von_mises(mandel), rtol=1e-13)
