"""Evaluation metrics: known answers, the METRICS.md formulas, and input validation."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.stats import norm

from nirom.evaluation import (
    coverage,
    interval_width,
    max_error,
    norm_name,
    r2_per_mode,
    relative_l2,
    rrmse_field,
    rrmse_scalar,
    speedup,
    summarize,
)
from nirom.solvers import ThermalBlock

# ------------------------------------------------------------------ relative_l2


def test_relative_l2_hand_computed() -> None:
    ref = np.array([[3.0, 4.0], [1.0, 0.0]])
    pred = np.array([[3.0, 5.0], [0.0, 1.0]])
    # ||(0, 1)|| / ||(3, 4)|| = 1/5 ; ||(-1, 1)|| / ||(1, 0)|| = sqrt(2)
    np.testing.assert_allclose(relative_l2(pred, ref), [0.2, np.sqrt(2.0)])


def test_relative_l2_with_a_small_mass_matrix() -> None:
    mass = np.diag([1.0, 4.0])
    ref, pred = np.array([[1.0, 1.0]]), np.array([[1.0, 2.0]])
    # error (0, 1): 4 ; reference: 1 + 4 = 5
    np.testing.assert_allclose(relative_l2(pred, ref, mass), [np.sqrt(4.0 / 5.0)])
    np.testing.assert_allclose(relative_l2(pred, ref, sp.csr_matrix(mass)), [np.sqrt(0.8)])


@pytest.mark.parametrize("resolution", [12, 24])
def test_mass_weighted_norm_converges_to_the_exact_l2_norm(resolution: int) -> None:
    solver = ThermalBlock(resolution=resolution)
    mass = solver.mass_matrix()
    x, y = solver.mesh.points.T
    u = np.sin(np.pi * x) * np.sin(np.pi * y)  # ||u||_L2 = 1/2 on the unit square
    ones = np.ones_like(u)  # ||1||_L2 = 1, so relative_l2(1 + u, 1) = ||u||
    fe = relative_l2((ones + u)[None], ones[None], mass)[0]
    euclid = relative_l2((ones + u)[None], ones[None])[0]
    assert abs(fe - 0.5) < 1e-2
    assert abs(fe - 0.5) < 1.0 / resolution**2  # P1 interpolation: O(h^2)
    assert abs(euclid - 0.5) > 1e-2  # nodal RMS is not the L2 norm
    assert abs(np.linalg.norm(u) - 0.5) > 1.0  # nor is the plain Euclidean norm


def test_relative_l2_is_scale_invariant() -> None:
    rng = np.random.default_rng(0)
    ref, pred = rng.normal(size=(4, 30)), rng.normal(size=(4, 30))
    mass = ThermalBlock(resolution=6).mass_matrix()
    ref49, pred49 = rng.normal(size=(3, 49)), rng.normal(size=(3, 49))
    np.testing.assert_allclose(relative_l2(7.5 * pred, 7.5 * ref), relative_l2(pred, ref))
    np.testing.assert_allclose(
        relative_l2(-3.0 * pred49, -3.0 * ref49, mass), relative_l2(pred49, ref49, mass)
    )


def test_relative_l2_vector_fields_sum_over_components() -> None:
    rng = np.random.default_rng(1)
    mass = ThermalBlock(resolution=6).mass_matrix()  # 49 nodes
    ref, pred = rng.normal(size=(3, 49, 2)), rng.normal(size=(3, 49, 2))

    def sq(v: np.ndarray) -> float:
        return sum(v[:, k] @ (mass @ v[:, k]) for k in range(v.shape[1]))

    expected = [np.sqrt(sq(p - r) / sq(r)) for p, r in zip(pred, ref, strict=True)]
    np.testing.assert_allclose(relative_l2(pred, ref, mass), expected)
    # Euclidean: all components of all nodes.
    euclid = np.linalg.norm(pred - ref, axis=(1, 2)) / np.linalg.norm(ref, axis=(1, 2))
    np.testing.assert_allclose(relative_l2(pred, ref), euclid)


def test_relative_l2_time_series_sum_over_times() -> None:
    rng = np.random.default_rng(2)
    mass = ThermalBlock(resolution=6).mass_matrix()
    ref, pred = rng.normal(size=(2, 5, 49)), rng.normal(size=(2, 5, 49))

    def sq(v: np.ndarray) -> float:
        return sum(v[t] @ (mass @ v[t]) for t in range(v.shape[0]))

    expected = [np.sqrt(sq(p - r) / sq(r)) for p, r in zip(pred, ref, strict=True)]
    np.testing.assert_allclose(relative_l2(pred, ref, mass), expected)  # node axis from M
    np.testing.assert_allclose(relative_l2(pred, ref, mass, time_series=True), expected)
    # Vector time series (n, T, N, c): times and components both summed.
    ref4, pred4 = rng.normal(size=(2, 5, 49, 3)), rng.normal(size=(2, 5, 49, 3))

    def sq4(v: np.ndarray) -> float:
        return sum(sq(v[..., k]) for k in range(v.shape[-1]))

    expected4 = [np.sqrt(sq4(p - r) / sq4(r)) for p, r in zip(pred4, ref4, strict=True)]
    np.testing.assert_allclose(relative_l2(pred4, ref4, mass), expected4)


def test_relative_l2_accepts_samples_on_different_meshes() -> None:
    ref = [np.array([3.0, 4.0]), np.array([1.0, 0.0, 0.0])]
    pred = [np.array([3.0, 5.0]), np.array([1.0, 0.0, 2.0])]
    np.testing.assert_allclose(relative_l2(pred, ref), [0.2, 2.0])


def test_norm_name() -> None:
    assert norm_name(None) == "Euclidean"
    assert norm_name(sp.eye(3)) == "L2 (mass matrix)"


def test_relative_l2_zero_reference_names_the_sample() -> None:
    ref = np.array([[1.0, 2.0], [0.0, 0.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match="sample 1 has zero Euclidean norm"):
        relative_l2(ref + 1.0, ref)


def test_relative_l2_rejects_ambiguous_or_mismatched_mass() -> None:
    mass = ThermalBlock(resolution=6).mass_matrix()  # 49 x 49
    with pytest.raises(ValueError, match="ambiguous"):
        relative_l2(np.ones((2, 49, 49)), np.ones((2, 49, 49)), mass)
    with pytest.raises(ValueError, match=r"10 nodes but mass has shape \(49, 49\)"):
        relative_l2(np.ones((2, 10)), np.ones((2, 10)), mass)
    with pytest.raises(ValueError, match="square"):
        relative_l2(np.ones((2, 3)), np.ones((2, 3)), np.ones((3, 2)))


# ------------------------------------------------------------------ rrmse_field


def rrmse_loop(pred: list[np.ndarray], ref: list[np.ndarray]) -> float:
    """METRICS.md's RRMSE_f, written as a plain loop over scalar samples."""
    total = 0.0
    for p, u in zip(pred, ref, strict=True):
        n_nodes = len(u)
        total += np.sum((u - p) ** 2) / n_nodes / np.max(np.abs(u)) ** 2
    return float(np.sqrt(total / len(ref)))


def test_rrmse_field_matches_the_formula() -> None:
    rng = np.random.default_rng(3)
    ref, pred = rng.normal(size=(6, 40)), rng.normal(size=(6, 40))
    assert rrmse_field(pred, ref) == pytest.approx(rrmse_loop(list(pred), list(ref)), rel=1e-12)


def test_rrmse_field_on_meshes_of_different_sizes() -> None:
    rng = np.random.default_rng(4)
    sizes = [17, 40, 5, 23]
    ref = [rng.normal(size=n) for n in sizes]
    pred = [u + 0.1 * rng.normal(size=u.shape) for u in ref]
    assert rrmse_field(pred, ref) == pytest.approx(rrmse_loop(pred, ref), rel=1e-12)


def test_rrmse_field_vector_components_count_as_one_node() -> None:
    rng = np.random.default_rng(5)
    ref, pred = rng.normal(size=(3, 20, 2)), rng.normal(size=(3, 20, 2))
    terms = [
        np.sum((u - p) ** 2) / 20 / np.max(np.abs(u)) ** 2 for p, u in zip(pred, ref, strict=True)
    ]
    assert rrmse_field(pred, ref) == pytest.approx(np.sqrt(np.mean(terms)), rel=1e-12)


def test_rrmse_field_time_series_average_over_times() -> None:
    rng = np.random.default_rng(6)
    ref, pred = rng.normal(size=(3, 4, 20)), rng.normal(size=(3, 4, 20))
    terms = [
        np.sum((u - p) ** 2) / (4 * 20) / np.max(np.abs(u)) ** 2
        for p, u in zip(pred, ref, strict=True)
    ]
    expected = np.sqrt(np.mean(terms))
    assert rrmse_field(pred, ref, time_series=True) == pytest.approx(expected, rel=1e-12)
    # The same numbers read as 4 nodes of 20 components: 4 nodes, not 80 values.
    assert rrmse_field(pred, ref) == pytest.approx(np.sqrt(80 / 4) * expected, rel=1e-12)


def test_rrmse_field_is_zero_for_perfect_predictions() -> None:
    ref = np.random.default_rng(7).normal(size=(5, 12))
    assert rrmse_field(ref.copy(), ref) == 0.0


def test_rrmse_field_zero_reference_names_the_sample() -> None:
    ref = [np.ones(3), np.zeros(4)]
    with pytest.raises(ValueError, match="sample 1 has zero maximum absolute value"):
        rrmse_field([np.ones(3), np.ones(4)], ref)


# ------------------------------------------------------ rrmse_scalar, max_error


def test_rrmse_scalar_hand_computed() -> None:
    ref, pred = np.array([2.0, -4.0]), np.array([3.0, -4.0])
    # sqrt((0.5^2 + 0) / 2)
    assert rrmse_scalar(pred, ref) == pytest.approx(np.sqrt(0.125))
    with pytest.raises(ValueError, match="sample 1 has zero value"):
        rrmse_scalar(pred, np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"shape \(n,\)"):
        rrmse_scalar(np.ones((2, 2)), np.ones((2, 2)))


def test_max_error_scalar_and_vector() -> None:
    ref = np.zeros((2, 3))
    pred = np.array([[0.5, -2.0, 1.0], [0.0, 0.1, 0.0]])
    np.testing.assert_allclose(max_error(pred, ref), [2.0, 0.1])
    ref_v = np.zeros((2, 3, 2))
    pred_v = np.zeros((2, 3, 2))
    pred_v[0, 1] = [3.0, 4.0]  # length 5, though no component exceeds 4
    pred_v[0, 2] = [4.5, 0.0]
    pred_v[1, 0] = [-1.0, 1.0]
    np.testing.assert_allclose(max_error(pred_v, ref_v), [5.0, np.sqrt(2.0)])


def test_max_error_time_series() -> None:
    pred = np.zeros((1, 3, 2))  # one sample, 3 times, 2 nodes
    pred[0, 2, 1] = -7.0
    pred[0, 0, :] = 5.0  # read as components, this row would have length ~7.07
    np.testing.assert_allclose(max_error(pred, np.zeros_like(pred), time_series=True), [7.0])
    np.testing.assert_allclose(max_error(pred, np.zeros_like(pred)), [np.sqrt(50.0)])


# ------------------------------------------------------------------- coverage


def test_coverage_of_calibrated_gaussian_is_the_level() -> None:
    rng = np.random.default_rng(8)
    mean = rng.normal(size=(200, 500))
    std = rng.uniform(0.5, 2.0, size=mean.shape)
    ref = mean + std * rng.standard_normal(mean.shape)
    assert coverage(ref, mean, std) == pytest.approx(0.95, abs=0.01)
    assert coverage(ref, mean, std, level=0.5) == pytest.approx(0.5, abs=0.01)
    # Overconfident bars: half the true std covers P(|Z| <= 1.96 / 2).
    expected = 2.0 * norm.cdf(norm.ppf(0.975) * 0.5) - 1.0
    assert coverage(ref, mean, 0.5 * std) == pytest.approx(expected, abs=0.01)
    assert 0.6 < expected < 0.7


def test_coverage_counts_bounds_and_all_values() -> None:
    z = norm.ppf(0.975)
    mean = np.zeros((2, 2, 2))
    std = np.ones_like(mean)
    ref = np.array([[[0.0, z], [-z, 2.0]], [[0.0, 0.0], [0.0, 10.0]]])
    assert coverage(ref, mean, std) == pytest.approx(6 / 8)


def test_coverage_rejects_bad_std_and_level() -> None:
    ones = np.ones((2, 3))
    with pytest.raises(ValueError, match="std holds 1 negative"):
        coverage(ones, ones, np.array([[1.0, -1.0, 1.0], [1.0, 1.0, 1.0]]))
    with pytest.raises(ValueError, match="level"):
        coverage(ones, ones, ones, level=1.0)
    with pytest.raises(ValueError, match=r"std has shape \(3,\) but ref has shape \(2, 3\)"):
        coverage(ones, ones, np.ones(3))


def test_interval_width() -> None:
    std = np.array([[1.0, 3.0]])
    assert interval_width(std) == pytest.approx(2 * norm.ppf(0.975) * 2.0)
    assert interval_width(std, level=0.6827) == pytest.approx(4.0, rel=1e-3)
    with pytest.raises(ValueError, match="negative"):
        interval_width(-std)


# ---------------------------------------------------------------- r2_per_mode


def test_r2_per_mode_perfect_and_mean_predictor() -> None:
    rng = np.random.default_rng(9)
    z = rng.normal(size=(30, 4)) * [10.0, 1.0, 0.1, 0.01]
    np.testing.assert_allclose(r2_per_mode(z, z), 1.0)
    mean_pred = np.broadcast_to(z.mean(axis=0), z.shape)
    np.testing.assert_allclose(r2_per_mode(z, mean_pred), 0.0, atol=1e-12)
    half = r2_per_mode(z, z + 0.5 * (mean_pred - z))  # residual halved: R2 = 1 - 1/4
    np.testing.assert_allclose(half, 0.75)
    assert r2_per_mode(z[:, 0], z[:, 0]).shape == (1,)


def test_r2_per_mode_constant_column() -> None:
    z = np.column_stack([np.full(5, 0.1), np.arange(5.0)])
    np.testing.assert_allclose(r2_per_mode(z, z), [1.0, 1.0])
    off = z.copy()
    off[0, 0] = 0.2
    r2 = r2_per_mode(z, off)
    assert np.isnan(r2[0])
    assert r2[1] == 1.0


# ------------------------------------------------------------ summarize, speedup


def test_summarize_is_json_ready() -> None:
    summary = summarize(np.array([1.0, 3.0, 2.0, 10.0]))
    assert summary == {"mean": 4.0, "median": 2.5, "max": 10.0, "min": 1.0}
    assert all(type(v) is float for v in summary.values())
    json.dumps(summary)
    with pytest.raises(ValueError, match="no values"):
        summarize(np.array([]))


def test_speedup_ignores_nan_solve_times() -> None:
    solve = np.array([2.0, np.nan, 4.0, 6.0, np.nan])
    predict = np.array([0.01, 0.02, 0.03])
    assert speedup(solve, predict) == pytest.approx(4.0 / 0.02)
    with pytest.raises(ValueError, match="no finite"):
        speedup(np.array([np.nan, np.nan]), predict)
    with pytest.raises(ValueError, match="positive"):
        speedup(solve, np.array([0.0, 0.0]))


# ------------------------------------------------------------- validation


def test_mismatched_shapes_name_both() -> None:
    with pytest.raises(ValueError, match=r"pred has shape \(2, 3\) but ref has shape \(2, 4\)"):
        relative_l2(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"pred\[1\] has shape \(3,\) but ref\[1\] has shape"):
        rrmse_field([np.ones(2), np.ones(3)], [np.ones(2), np.ones(4)])
    with pytest.raises(ValueError, match="pred has 2 samples but ref has 1"):
        rrmse_field([np.ones(2), np.ones(3)], [np.ones(2)])
    with pytest.raises(ValueError, match="z_true has shape"):
        r2_per_mode(np.ones((4, 2)), np.ones((4, 3)))


@pytest.mark.parametrize("metric", [relative_l2, rrmse_field, max_error])
def test_non_finite_fields_are_counted(metric) -> None:
    ref = np.arange(1.0, 7.0).reshape(3, 2)
    pred = ref.copy()
    pred[0, 1] = pred[2, 0] = np.nan
    with pytest.raises(ValueError, match="pred holds 2 NaN and 0 infinite value"):
        metric(pred, ref)
    bad_ref = ref.copy()
    bad_ref[1, 1] = np.inf
    with pytest.raises(ValueError, match="ref holds 0 NaN and 1 infinite value"):
        metric(ref, bad_ref)


def test_non_finite_values_in_other_metrics_are_counted() -> None:
    ones, with_nan = np.ones((3, 2)), np.array([[1.0, np.nan], [1.0, 1.0], [np.nan, 1.0]])
    with pytest.raises(ValueError, match="pred holds 1 NaN"):
        rrmse_scalar(np.array([1.0, np.nan]), np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="z_pred holds 2 NaN"):
        r2_per_mode(ones, with_nan)
    with pytest.raises(ValueError, match="ref holds 2 NaN"):
        coverage(with_nan, ones, ones)
    with pytest.raises(ValueError, match="values holds 2 NaN"):
        summarize(with_nan)


def test_empty_and_malformed_samples_raise() -> None:
    with pytest.raises(ValueError, match="no samples"):
        relative_l2(np.ones((0, 3)), np.ones((0, 3)))
    with pytest.raises(ValueError, match="not a field"):
        relative_l2(np.ones((2, 2, 2, 2)), np.ones((2, 2, 2, 2)), time_series=False)
    with pytest.raises(ValueError, match="holds no values"):
        rrmse_field([np.ones(0)], [np.ones(0)])
