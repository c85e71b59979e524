"""Models saved in format 1 (nirom before issue 15) still load and predict as they did.

The fixtures in ``format_v1/`` were written by the format-1 writer itself
(``format_v1/make_fixtures.py`` at commit 8722b1a), with the predictions that
code made; loading them now must give the same numbers.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nirom.surrogates import Surrogate

FIXTURES = Path(__file__).parent / "format_v1"
EXPECTED = json.loads((FIXTURES / "predictions.json").read_text())
NEURAL = ("fno", "deeponet", "pod-mlp-fields")


@pytest.mark.parametrize("name", ["pod-gp", "pod-rbf", "pod-mlp", *NEURAL])
def test_format_1_models_load_and_predict_as_when_saved(name: str) -> None:
    if name in NEURAL or name == "pod-mlp":
        pytest.importorskip("torch")
    doc = json.loads((FIXTURES / name / "model.json").read_text())
    assert doc["format_version"] == 1
    model = Surrogate.load(FIXTURES / name)
    if name in NEURAL:
        query = [{"u0": np.load(FIXTURES / "u0.npy")}]
    else:
        query = np.array(EXPECTED["scalar_query"])
    predicted = model.predict(query)
    expected = EXPECTED["predictions"][name]
    assert set(predicted) == set(expected)
    for field, values in expected.items():
        rtol = 1e-5 if name in ("fno", "deeponet") else 1e-12  # float32 networks
        np.testing.assert_allclose(predicted[field], np.array(values), rtol=rtol, atol=1e-12)


def test_format_1_error_bars_are_unchanged() -> None:
    model = Surrogate.load(FIXTURES / "pod-gp")
    _, std = model.predict(np.array(EXPECTED["scalar_query"]), return_std=True)
    # std = sqrt(prior - explained variance) loses digits to cancellation: where
    # the modes explain a field (v), the std is round-off, about sqrt(eps) times
    # the field's scale, and moves with the BLAS build and thread count. A
    # changed model or formula moves the std of u (1e-2) by far more.
    for field, values in EXPECTED["predictions"]["pod-gp/std"].items():
        scale = np.abs(np.array(EXPECTED["predictions"]["pod-gp"][field])).max()
        np.testing.assert_allclose(std[field], np.array(values), rtol=1e-8, atol=1e-6 * scale)
