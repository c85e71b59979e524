"""Sobol indices: analytic values on Ishigami, SALib's own estimates, the thermal block."""

from __future__ import annotations

import numpy as np
import pytest

from nirom.apps.distributions import Distribution, to_physical
from nirom.apps.sensitivity import (
    analyze,
    index_maps,
    saltelli_design,
    sobol_function,
    sobol_indices,
)
from nirom.errors import ParameterError

A, B = 7.0, 0.1


def ishigami(x: np.ndarray) -> dict[str, np.ndarray]:
    return {"y": np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])}


def ishigami_indices() -> tuple[np.ndarray, np.ndarray]:
    """Analytic first-order and total indices (Ishigami & Homma 1990)."""
    v1 = 0.5 * (1 + B * np.pi**4 / 5) ** 2
    v2 = A**2 / 8
    v13 = B**2 * np.pi**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


UNIFORM = {
    f"x{i}": Distribution("uniform", {"low": -np.pi, "high": np.pi}, -np.pi, np.pi)
    for i in range(3)
}


def test_ishigami_indices_match_the_analytic_values() -> None:
    s1, st = ishigami_indices()
    result = sobol_function(ishigami, UNIFORM, n_base=1024, seed=0)["y"]  # 5120 evaluations
    np.testing.assert_allclose(result["S1"], s1, atol=0.03)
    np.testing.assert_allclose(result["ST"], st, atol=0.03)
    assert np.all(result["S1_conf"] > 0) and np.all(result["S1_conf"] < 0.1)


def test_maps_apply_salib_estimators_to_every_value() -> None:
    x = to_physical(UNIFORM, saltelli_design(3, 256, 0))
    y = ishigami(x)["y"]
    stacked = np.column_stack([y, 3.0 * y + 1.0, np.zeros_like(y)])  # affine copy, a constant
    maps = index_maps(stacked, 3, n_resamples=50, seed=4)
    reference = analyze(y, 3, n_resamples=50, seed=4)
    for key in ("S1", "S1_conf", "ST", "ST_conf"):
        np.testing.assert_allclose(maps[key][:, 0], reference[key], rtol=1e-10)
        np.testing.assert_allclose(maps[key][:, 1], reference[key], rtol=1e-8)
        assert np.all(np.isnan(maps[key][:, 2]))  # a value that never varies


def test_each_conductivity_matters_most_on_its_own_block(small_block, tmp_path) -> None:
    model = small_block.gp
    result = sobol_indices(model, n_base=256, n_resamples=20)
    points = model.mesh_.points
    for j, name in enumerate(result.names):  # blocks numbered row by row from bottom left
        peak = points[int(np.nanargmax(result.maps["u"]["S1"][j]))]
        block = int(peak[1] >= 0.5) * 2 + int(peak[0] >= 0.5)
        assert block == j, (name, peak)
    indices = result.quantities["mean(u)"]
    assert np.all(indices["ST"] >= indices["S1"] - 2 * indices["ST_conf"])
    assert 0.5 < indices["S1"].sum() < 1.1  # nearly additive in the log conductivities
    paths = result.save(tmp_path, model.mesh_)
    assert {p.name for p in paths} >= {"sensitivity.json", "sensitivity_u_S1.png"}


def test_bad_sizes_and_fields_are_refused(small_block) -> None:
    with pytest.raises(ParameterError, match="n_base must be a power of 2"):
        sobol_indices(small_block.gp, n_base=100)
    with pytest.raises(ParameterError, match="map of unknown field 'T'"):
        sobol_indices(small_block.gp, maps=["T"], n_base=8)
