"""The per-sample-mesh metrics: NRMSE beside PLAID's RRMSE for outputs near zero."""

import numpy as np
import pytest

from nirom.evaluation.meshes import _metrics, nrmse


def test_nrmse_divides_by_the_largest_reference_of_the_test_set():
    ref = [np.array([0.0, 1.0]), np.array([2.0])]
    pred = [np.array([0.0, 1.0]), np.array([1.0])]
    assert nrmse(ref, pred) == pytest.approx(np.sqrt(1 / 3) / 2)
    assert nrmse([np.zeros(3)], [np.ones(3)]) is None


def test_a_near_zero_reference_explodes_rrmse_not_nrmse():
    # a maximum plastic strain: 1e-8 for a shape that barely yields, 1 for one that does
    ref = [np.array(1e-8), np.array(1.0)]
    pred = [np.array(1e-4), np.array(1.0)]
    out = _metrics("global", ref, pred, None, 0.95)
    assert out["rrmse"] > 1e3  # PLAID: each error over its own reference
    assert out["nrmse"] == pytest.approx(np.sqrt(((1e-4 - 1e-8) ** 2) / 2))
