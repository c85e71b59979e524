"""Input distributions: defaults from the space, checks against the bounds, exact transforms."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from nirom.apps.distributions import input_distributions, sample_inputs
from nirom.errors import ParameterError
from nirom.parameters import LogUniform, ParameterSpace, Uniform

SPACE = ParameterSpace([Uniform("a", 0.0, 4.0), LogUniform("k", 0.1, 10.0)])


def test_defaults_are_the_space_own_distributions() -> None:
    dists = input_distributions(SPACE)
    assert [d.kind for d in dists.values()] == ["uniform", "loguniform"]
    x = sample_inputs(dists, 4096, "qmc", seed=3)
    assert np.all((x[:, 0] >= 0) & (x[:, 0] <= 4) & (x[:, 1] >= 0.1) & (x[:, 1] <= 10))
    np.testing.assert_allclose(x[:, 0].mean(), 2.0, atol=0.01)  # QMC: error ~ 1/n
    np.testing.assert_allclose(np.log(x[:, 1]).mean(), 0.0, atol=0.01)
    np.testing.assert_array_equal(x, sample_inputs(dists, 4096, "qmc", seed=3))
    assert not np.array_equal(x, sample_inputs(dists, 4096, "mc", seed=3))


@pytest.mark.parametrize(
    ("spec", "reference"),
    [
        ("normal(2, 0.5)", stats.truncnorm(-4, 4, 2, 0.5)),  # truncated to the bounds
        ("truncnormal(mean=1, std=2, low=0.5, high=3.5)", stats.truncnorm(-0.25, 1.25, 1, 2)),
        ("uniform(1, 3)", stats.uniform(1, 2)),
    ],
)
def test_transforms_match_scipy(spec: str, reference) -> None:
    d = input_distributions(SPACE, {"a": spec})["a"]
    u = np.linspace(0.01, 0.99, 9)
    np.testing.assert_allclose(d.ppf(u), reference.ppf(u), rtol=1e-9)
    np.testing.assert_allclose(d.cdf(d.ppf(u)), u, atol=1e-9)
    total, _ = integrate.quad(lambda t: np.exp(d.logpdf(np.array(t))), d.lo, d.hi, limit=200)
    np.testing.assert_allclose(total, 1.0, rtol=1e-6)


def test_lognormal_in_bounds_and_its_density() -> None:
    d = input_distributions(SPACE, {"k": "lognormal(0, 0.5)"})["k"]
    x = d.ppf(np.array([0.5]))
    np.testing.assert_allclose(x, 1.0)  # the median is exp(mean_log)
    total, _ = integrate.quad(lambda t: np.exp(d.logpdf(np.array(t))), 0.1, 10, limit=200)
    np.testing.assert_allclose(total, 1.0, rtol=1e-6)


@pytest.mark.parametrize(
    ("specs", "match"),
    [
        ({"a": "normal(3, 2)"}, r"parameter 'a': normal\(3, 2\) puts .*% of its probability"),
        ({"a": "uniform(-1, 2)"}, r"parameter 'a': uniform\(-1, 2\) leaves the bounds \[0, 4\]"),
        ({"k": "truncnormal(1, 1, 0.1, 20)"}, "parameter 'k'.*leaves the bounds"),
        ({"b": "normal(1, 1)"}, "unknown parameter 'b'"),
        ({"a": "gamma(1, 2)"}, "unknown distribution 'gamma'"),
        ({"a": "normal(1)"}, r"normal takes \(mean, std\); missing \['std'\]"),
        ({"a": "normal(1, x)"}, "std='x' is not a number"),
        ({"a": "normal 1, 2"}, "is not KIND"),
        ({"a": "normal(2, -1)"}, "positive std"),
    ],
)
def test_bad_distributions_name_the_parameter(specs: dict, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        input_distributions(SPACE, specs)
