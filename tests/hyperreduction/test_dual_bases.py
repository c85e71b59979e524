"""The dual (stress, plastic strain) bases: compressed rows, Mandel stresses, enrichment."""

from __future__ import annotations

import numpy as np
import pytest

from nirom.hyperreduction.adaptive import _extend
from nirom.hyperreduction.offline import _modes, dual_rows
from nirom.mechanics.output import voigt_stress
from nirom.mechanics.tensors import mandel_stress


@pytest.mark.parametrize("dim", [2, 3])
def test_mandel_stress_inverts_the_reported_voigt_components(dim: int) -> None:
    rng = np.random.default_rng(0)
    stress = rng.standard_normal((4, 7, 6))
    if dim == 2:
        stress[..., 3:5] = 0.0  # plane strain: no 23, 13 stresses
    np.testing.assert_allclose(mandel_stress(voigt_stress(stress, dim), dim), stress, atol=1e-15)


def test_dual_rows_of_samples_give_the_pod_of_all_their_rows() -> None:
    rng = np.random.default_rng(1)
    samples = [rng.standard_normal((10, 4)) @ rng.standard_normal((4, 50)) for _ in range(3)]
    modes = _modes([dual_rows(x, 1e-4) for x in samples], 1e-4)
    _, s, vt = np.linalg.svd(np.vstack(samples), full_matrices=False)
    assert modes.shape[0] == int(np.count_nonzero(s > 1e-8 * s[0]))
    np.testing.assert_allclose(np.abs(modes @ vt[: len(modes)].T), np.eye(len(modes)), atol=1e-8)
    assert dual_rows(np.zeros((5, 50)), 1e-4).shape == (0, 50)


def test_extend_keeps_the_modes_and_adds_the_orthonormal_residual_modes() -> None:
    rng = np.random.default_rng(2)
    modes = np.linalg.qr(rng.standard_normal((40, 3)))[0].T
    new = rng.standard_normal((6, 2)) @ rng.standard_normal((2, 40))
    extended = _extend(modes, new, 1e-6)
    assert extended.shape == (5, 40)
    assert np.array_equal(extended[:3], modes)
    np.testing.assert_allclose(extended @ extended.T, np.eye(5), atol=1e-13)
    np.testing.assert_allclose((new @ extended.T) @ extended, new, atol=1e-10)


def test_extend_adds_nothing_for_rows_in_the_span() -> None:
    rng = np.random.default_rng(3)
    modes = np.linalg.qr(rng.standard_normal((40, 3)))[0].T
    inside = rng.standard_normal((5, 3)) @ modes
    assert np.array_equal(_extend(modes, inside, 1e-6), modes)
    assert np.array_equal(_extend(modes, np.zeros((2, 40)), 1e-6), modes)
