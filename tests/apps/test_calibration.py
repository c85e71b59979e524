"""Bayesian calibration: the observations file, the posterior on a synthetic experiment."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nirom.apps.calibration import (
    ObservationError,
    _Posterior,
    calibrate,
    gaussian_log_likelihood,
    independent_log_likelihood,
    read_observations,
    synthetic_observations,
)
from nirom.apps.distributions import input_distributions
from nirom.apps.quantities import parse_quantities
from nirom.errors import ParameterError

SENSORS = [f"at(u, {x}, {y})" for x in (0.25, 0.75) for y in (0.25, 0.75)] + ["at(u, 0.5, 0.5)"]


def test_posterior_of_a_synthetic_experiment(small_block, tmp_path) -> None:
    model, solver = small_block.gp, small_block.solver
    truth = {"k_0": 0.5, "k_1": 2.0, "k_2": 1.0, "k_3": 0.3}
    sensors = parse_quantities(SENSORS, model.fields_, model.mesh_)
    obs = synthetic_observations(solver.solve(truth), sensors, 2e-4, seed=1, n_repeats=4)
    result = calibrate(model, obs, n_walkers=32, n_steps=300, seed=0)
    s = result.summary()
    assert result.samples.shape == (200 * 32, 4)
    assert 0.15 < s["acceptance"] < 0.8
    assert np.all(result.autocorr_time > 0)
    for name, value in truth.items():  # the posterior concentrates around the truth
        p = s["parameters"][name]
        assert p["q05"] < p["q95"]
        assert abs(np.log(p["median"] / value)) < 0.5, (name, p, value)
    prior_std = np.log(100) / np.sqrt(12)  # of log k under the log-uniform prior
    assert np.all(np.log(result.samples).std(axis=0) < 0.5 * prior_std)
    for fit in s["fit_at_map"].values():  # the MAP reproduces the data within the error bars
        assert abs(fit["predicted"] - fit["observed"]) < 4 * (2e-4 + fit["surrogate_std"])
    paths = result.save(tmp_path, truths=truth)
    assert {p.name for p in paths} >= {"calibrate.json", "posterior_corner.png"}


def test_observation_files(small_block, tmp_path) -> None:
    good = tmp_path / "obs.json"
    good.write_text(
        json.dumps({"field": "u", "nodes": [3, 40], "values": [0.01, 0.02], "noise_std": 1e-3})
    )
    obs = read_observations(good)
    assert obs.quantities == ["u[3]", "u[40]"] and obs.values.shape == (1, 2)
    toml = tmp_path / "obs.toml"
    toml.write_text('quantities = ["max(u)"]\nvalues = [[0.1], [0.11]]\nnoise_std = [0.01]\n')
    assert read_observations(toml).values.shape == (2, 1)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (
            {"field": "u", "nodes": [1, 2, 3], "values": [0.1, 0.2], "noise_std": 0.1},
            "'values' has 2 entries per measurement for 3 sensors",
        ),
        (
            {"quantities": ["max(u)"], "values": [0.1], "noise_std": [0.1, 0.2]},
            "'noise_std' has 2 entries for 1 sensors",
        ),
        ({"quantities": ["max(u)"], "values": [0.1], "noise_std": 0}, "must be positive"),
        ({"quantities": ["max(u)"], "values": [0.1]}, "missing 'noise_std'"),
        ({"quantities": ["max(u)"], "value": [0.1], "noise_std": 1}, "unknown key"),
        ({"values": [0.1], "noise_std": 1}, "needs 'quantities', or 'field' and 'nodes'"),
    ],
)
def test_bad_observations_get_one_line(tmp_path, content: dict, match: str) -> None:
    path = tmp_path / "obs.json"
    path.write_text(json.dumps(content))
    with pytest.raises(ObservationError, match=match) as info:
        read_observations(path)
    assert "\n" not in str(info.value)


def test_unknown_sensor_quantity_is_named(small_block) -> None:
    obs = {"quantities": ["max(T)"], "values": [0.1], "noise_std": 0.01}
    with pytest.raises(ObservationError, match="unknown field 'T'"):
        calibrate(small_block.gp, obs, n_steps=10)


@pytest.mark.slow
def test_credible_intervals_cover_the_truth_at_their_level(small_block, capsys) -> None:
    """Repeated synthetic experiments, truths from the prior: 90 % intervals hold ~90 %."""
    from nirom.apps.distributions import input_distributions, sample_inputs

    model, solver = small_block.gp, small_block.solver
    sensors = parse_quantities(SENSORS, model.fields_, model.mesh_)
    truths = sample_inputs(input_distributions(model.space_), 24, "mc", seed=11)
    hits = []
    for i, row in enumerate(truths):
        mu = model.space_.as_dict(row)
        obs = synthetic_observations(solver.solve(mu), sensors, 1e-3, seed=100 + i)
        intervals = calibrate(model, obs, n_steps=800, seed=i).interval(0.9)
        hits += [intervals[n][0] <= mu[n] <= intervals[n][1] for n in mu]
    rate = float(np.mean(hits))
    with capsys.disabled():
        print(f"\n90% credible intervals contain the truth in {rate:.1%} of {len(hits)} cases")
    assert 0.78 <= rate <= 0.98


def test_correlated_likelihood_reduces_to_the_independent_one_when_diagonal() -> None:
    rng = np.random.default_rng(0)
    residual, var = rng.standard_normal((6, 4)), rng.uniform(0.5, 2.0, (6, 4))
    cov = var[:, :, None] * np.eye(4)
    np.testing.assert_allclose(
        gaussian_log_likelihood(residual, cov), independent_log_likelihood(residual, var)
    )
    cov[:, 0, 1] = cov[:, 1, 0] = 0.4 * np.sqrt(var[:, 0] * var[:, 1])  # correlated: differs
    assert not np.allclose(
        gaussian_log_likelihood(residual, cov), independent_log_likelihood(residual, var)
    )


def test_one_sensor_gives_the_same_likelihood_with_or_without_correlations(small_block) -> None:
    """One sensor's covariance is its variance: the full and the diagonal likelihoods agree;
    without surrogate error, repeats give the product of independent normals."""
    model = small_block.gp
    sensors = parse_quantities(["at(u, 0.3, 0.6)"], model.fields_, model.mesh_)
    obs = synthetic_observations(
        small_block.solver.solve({"k_0": 0.5, "k_1": 2.0, "k_2": 1.0, "k_3": 0.3}),
        sensors,
        1e-3,
        seed=1,
    )
    dists = input_distributions(model.space_)
    v = np.random.default_rng(0).uniform(0.05, 0.95, (7, 4))
    full = _Posterior(model, dists, sensors, obs, "full").log_likelihood(v)
    diagonal = _Posterior(model, dists, sensors, obs, "diagonal").log_likelihood(v)
    np.testing.assert_allclose(full, diagonal, rtol=1e-10)
    obs.values = np.vstack([obs.values, obs.values + 2e-3, obs.values - 1e-3])  # 3 repeats
    none = _Posterior(model, dists, sensors, obs, "none")
    q, _ = none.predicted(v)
    expected = sum(
        independent_log_likelihood(row[None] - q, np.full_like(q, 1e-6)) for row in obs.values
    )
    np.testing.assert_allclose(none.log_likelihood(v), expected, rtol=1e-10)


def test_sensors_at_one_node_count_as_fewer_observations(small_block) -> None:
    """Two sensors reading the same node share the surrogate's error: with a noise well
    under its std, they are worth about one observation, not two."""
    model = small_block.gp
    texts = ["at(u, 0.5, 0.5)", "at(u, 0.501, 0.5)", "at(u, 0.25, 0.75)"]
    sensors = parse_quantities(texts, model.fields_, model.mesh_)
    truth = {"k_0": 0.5, "k_1": 2.0, "k_2": 1.0, "k_3": 0.3}
    obs = synthetic_observations(small_block.solver.solve(truth), sensors, 1e-7, seed=1)
    full = calibrate(model, obs, n_walkers=16, n_steps=20, seed=0)
    assert full.surrogate_covariance == "full"
    assert full.effective_observations < 2.2, full.effective_observations
    diagonal = calibrate(model, obs, n_walkers=16, n_steps=20, seed=0, correlated=False)
    assert diagonal.surrogate_covariance == "diagonal"
    assert diagonal.effective_observations == pytest.approx(3.0)
    assert full.summary()["effective_observations"] == full.effective_observations
    with pytest.raises(ParameterError, match="a pod-rbf model gives no predictive covariance"):
        calibrate(small_block.rbf, obs, n_steps=10, correlated=True)
