"""Uncertainty propagation on a surrogate, validated against plain Monte Carlo on the solver."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nirom.apps.distributions import input_distributions, sample_inputs
from nirom.apps.quantities import parse_quantities
from nirom.apps.uq import propagate
from nirom.errors import ParameterError
from nirom.evaluation.metrics import relative_l2
from nirom.surrogates import ModelError


def _solver_mc(solver, x: np.ndarray) -> np.ndarray:
    return np.stack([solver.solve(solver.space.as_dict(row))["u"] for row in x])


def test_statistics_agree_with_monte_carlo_on_the_solver(small_block) -> None:
    model, solver = small_block.gp, small_block.solver
    dists = input_distributions(model.space_, {"k_0": "normal(1, 0.25)"})
    x = sample_inputs(dists, 256, "mc", seed=5)
    reference = _solver_mc(solver, x)  # plain Monte Carlo on the solver
    # The surrogate on the same inputs: the difference is the surrogate's alone.
    same = propagate(model, dists, n_samples=256, method="mc", seed=5, quantities=["max(u)"])
    np.testing.assert_array_equal(same.inputs, x)
    mass = solver.mass_matrix()
    mean_err = relative_l2(same.fields["u"]["mean"][None], reference.mean(axis=0)[None], mass=mass)
    std_err = relative_l2(
        same.fields["u"]["std"][None], reference.std(axis=0, ddof=1)[None], mass=mass
    )
    print(f"surrogate vs solver MC: mean {mean_err[0]:.3%}, std {std_err[0]:.3%}")
    assert mean_err[0] < 0.02 and std_err[0] < 0.06, (mean_err, std_err)
    peak = relative_l2(same.quantities["max(u)"]["samples"][None], reference.max(axis=1)[None])
    print(f"max(u) per sample: {peak[0]:.3%}")
    assert peak[0] < 0.08
    # QMC with its own samples: within the reference's Monte Carlo error.
    qmc = propagate(model, dists, n_samples=4096, seed=1, quantities=["max(u)"])
    sem = reference.max(axis=1).std(ddof=1) / np.sqrt(len(x))
    assert abs(qmc.quantities["max(u)"]["mean"] - reference.max(axis=1).mean()) < 4 * sem


def test_surrogate_error_share_and_predictive_draws(small_block) -> None:
    result = propagate(small_block.gp, n_samples=512, seed=2)
    u = result.fields["u"]
    assert set(result.quantities) == {"mean(u)", "max(u)"}  # the defaults
    assert u["mean"].shape == u["std"].shape == u["q0.05"].shape == (169,)
    np.testing.assert_array_less(u["std"] - 1e-15, u["std_total"])
    assert 0.0 < u["error_share_overall"] < 0.5
    q = result.quantities["max(u)"]
    assert q["samples_total"].shape == (512, 8)
    assert 0.0 < q["error_share"] < 1.0 and q["std_total"] >= 0.9 * q["std"]
    assert q["quantiles"]["0.05"] < q["quantiles"]["0.5"] < q["quantiles"]["0.95"]


def test_models_without_error_bars_and_saved_results(small_block, tmp_path) -> None:
    result = propagate(small_block.rbf, n_samples=64, quantities=["u[40]"], quantiles=[0.1, 0.9])
    assert not result.surrogate_error and "std_total" not in result.fields["u"]
    with pytest.raises(ModelError, match="no error bars"):
        propagate(small_block.rbf, surrogate_error=True)
    paths = result.save(tmp_path / "uq", small_block.rbf.mesh_)
    summary = json.loads((tmp_path / "uq" / "uq.json").read_text())
    assert summary["quantities"]["u[40]"]["quantiles"].keys() == {"0.1", "0.9"}
    assert {p.name for p in paths} >= {"uq.npz", "uq_quantity_0.png", "uq_field_u.png"}
    with np.load(tmp_path / "uq" / "uq.npz", allow_pickle=False) as data:
        np.testing.assert_array_equal(data["fields/u/mean"], result.fields["u"]["mean"])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"distributions": {"k_9": "normal(1, 0.1)"}}, "unknown parameter 'k_9'"),
        ({"distributions": {"k_1": "uniform(0.01, 1)"}}, "parameter 'k_1'.*leaves the bounds"),
        ({"quantities": ["max(T)"]}, "unknown field 'T'"),
        ({"quantiles": [1.5]}, "quantile 1.5"),
        ({"method": "halton"}, "unknown sampling method"),
    ],
)
def test_bad_input_is_named(small_block, kwargs: dict, match: str) -> None:
    with pytest.raises((ParameterError, ValueError), match=match):
        propagate(small_block.gp, n_samples=16, **kwargs)


def test_quantity_draws_follow_the_predictive_covariance(small_block) -> None:
    """pod-gp's quantities are drawn from its low-rank covariance: the spread of the draws
    of each input matches the quantity's variance, and a mean over the domain gets less
    than the perfectly correlated bound of the per-value standard deviations."""
    model = small_block.gp
    texts = ["mean(u)", "at(u, 0.5, 0.5)"]
    result = propagate(model, n_samples=4, quantities=texts, n_draws=4000, seed=3)
    again = propagate(model, n_samples=4, quantities=texts, n_draws=4000, seed=3)
    quantities = parse_quantities(texts, model.fields_, model.mesh_)
    mean, std = model.predict(result.inputs, return_std=True)
    cov = model.predict_covariance(result.inputs)
    for q in quantities:
        draws = result.quantities[q.text]["samples_total"]
        np.testing.assert_array_equal(draws, again.quantities[q.text]["samples_total"])
        np.testing.assert_allclose(draws.std(axis=1), q.std(mean, cov=cov), rtol=0.06)
    bound = quantities[0].std(mean, std)
    assert np.all(result.quantities["mean(u)"]["samples_total"].std(axis=1) < 0.9 * bound)
