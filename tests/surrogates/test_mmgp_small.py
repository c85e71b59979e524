"""MMGPSurrogate on few samples: the warning, modes by leave-one-out, scalar scales, saving."""

import numpy as np
import pytest

from nirom.dataset import Dataset
from nirom.generation import generate
from nirom.reduction import POD
from nirom.regression.gp import GPRegressor
from nirom.surrogates import Surrogate
from nirom.surrogates.mmgp import (
    MMGPSurrogate,
    SmallTrainingSetWarning,
    from_scale,
    geometry_mode_count,
    loo_mode_count,
    scalar_scale,
    std_from_scale,
    to_scale,
)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    path = tmp_path_factory.mktemp("mmgp-small") / "tensile.nirom"
    generate("tensile2d", path, 8, seed=5, workers=0, solver_options={"mesh_size": 0.2})
    return Dataset(path)


def test_a_tiny_training_set_warns_and_the_card_keeps_it(dataset):
    with pytest.warns(SmallTrainingSetWarning) as caught:
        model = MMGPSurrogate(n_restarts=0).fit(dataset, list(range(5)))
    first = str(caught[0].message).splitlines()[0]
    assert first.startswith("mmgp: 5 training samples are too few for ")
    assert "cross-validated RMS error above 10 % of the largest value" in first
    assert model.card_details()["warnings"] == [str(caught[0].message)]


def test_no_warning_when_the_outputs_are_learnt(dataset, recwarn):
    MMGPSurrogate(n_restarts=0, warn_error=1e3).fit(dataset, list(range(5)))
    assert not [w for w in recwarn if issubclass(w.category, SmallTrainingSetWarning)]


def _field_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Fields on 60 nodes: smooth modes of x plus small rough ones (noise-like)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(n, 2))
    t = np.linspace(0, 1, 60)
    fields = np.zeros((n, 60))
    for j in range(1, 13):
        coefficient = np.sin(j * 1.7 * x[:, 0] + j * x[:, 1]) / j**1.5
        fields += np.outer(coefficient, np.sin(j * np.pi * t))
    return x, fields + 1e-3 * rng.normal(size=fields.shape)


def _loo_count(n: int) -> int:
    x, fields = _field_data(n)
    pod = POD(discarded_energy=1e-8).fit(fields)
    z = pod.transform(fields)
    gp = GPRegressor(n_restarts=0, shared_kernel=True, joint_scale=True).fit(x, z)
    return loo_mode_count(gp, z)


def test_leave_one_out_keeps_fewer_modes_on_fewer_samples():
    few, many = _loo_count(10), _loo_count(80)
    assert 1 <= few < many


def test_loo_residuals_match_refitting_without_each_sample():
    from sklearn.gaussian_process import GaussianProcessRegressor

    x, fields = _field_data(15, seed=1)
    z = POD(n_modes=3).fit(fields).transform(fields)
    gp = GPRegressor(n_restarts=0, shared_kernel=True, joint_scale=True).fit(x, z)
    kernel = gp._fit_one(x, (z - gp.y_mean_) / gp.y_std_).kernel_
    standardised = (z - gp.y_mean_) / gp.y_std_
    for i in (0, 7):
        keep = np.arange(15) != i
        loo = GaussianProcessRegressor(kernel=kernel, optimizer=None, alpha=1e-10)
        mean = loo.fit(x[keep], standardised[keep]).predict(x[i : i + 1])[0]
        expected = (standardised[i] - mean) * gp.y_std_
        np.testing.assert_allclose(
            gp.loo_residuals()[0][i] * gp.y_std_, expected, rtol=1e-6, atol=1e-9
        )


def test_scalar_scale_chooses_log_for_near_zero_outputs_and_round_trips():
    plastic = np.array([0.0, 2e-6, 4e-4, 1e-3, 3e-3])
    kind, shift = scalar_scale(plastic)
    assert kind == "log" and shift == pytest.approx(0.1 * np.median(plastic[1:]))
    np.testing.assert_allclose(from_scale(to_scale(plastic, kind, shift), kind, shift), plastic,
                               atol=1e-15)  # fmt: skip
    assert scalar_scale(np.array([150.0, 200.0, 300.0])) == ("linear", 0.0)
    assert scalar_scale(np.array([-1.0, 0.5, 20.0])) == ("linear", 0.0)
    # the +-1.96 std band spans the log scale's 95 % interval
    t, s = np.array([-3.0]), np.array([0.4])
    width = 2 * 1.959963984540054 * std_from_scale(t, s, "log")
    np.testing.assert_allclose(
        width, np.exp(t + 1.959963984540054 * s) - np.exp(t - 1.959963984540054 * s)
    )


def test_geometry_modes_follow_the_sample_count():
    assert [geometry_mode_count(8, n) for n in (2, 8, 16, 48, 125)] == [1, 4, 8, 8, 8]


def test_save_load_keeps_the_choices(dataset, tmp_path):
    with pytest.warns(SmallTrainingSetWarning):
        model = MMGPSurrogate(n_restarts=0, warn_error=0.05).fit(dataset, list(range(7)))
    assert model.card_details()["warnings"]
    model.save(tmp_path / "model")
    loaded = Surrogate.load(tmp_path / "model")
    assert loaded.card_details() == model.card_details()
    assert {n: p.n_modes_ for n, p in loaded.pods_.items()} == {
        n: p.n_modes_ for n, p in model.pods_.items()
    }
    assert loaded.scalar_scales_ == model.scalar_scales_
    assert any(kind == "log" for kind, _ in model.scalar_scales_.values())
    sample = dataset.sample(7)
    mu = {k: sample.mu[k] for k in model.space_.scalar_names}
    ours = model.predict(mu, return_std=True, mesh=sample.mesh)
    theirs = loaded.predict(mu, return_std=True, mesh=sample.mesh)
    for name in ours[0]:
        np.testing.assert_allclose(theirs[0][name], ours[0][name], rtol=1e-10)
        np.testing.assert_allclose(theirs[1][name], ours[1][name], rtol=1e-10)


def test_two_samples_are_refused_in_one_line(dataset):
    from nirom.errors import DatasetError

    with pytest.raises(DatasetError, match="mmgp needs at least 3 done samples"):
        MMGPSurrogate(n_restarts=0).fit(dataset, [0, 1])


def test_std_scale_uses_the_conformal_quantile():
    from nirom.surrogates.mmgp import std_scale_95

    errors = np.arange(1.0, 21.0)  # 20 scores 1..20, unit variances: the 20th (the largest)
    assert std_scale_95(errors, np.ones(20)) == pytest.approx(20 / 1.959963984540054)
    many = np.linspace(0, 1, 10_001)  # many scores: the plain 95 % quantile
    assert std_scale_95(many, np.ones_like(many)) == pytest.approx(0.95 / 1.959963984540054, 1e-3)


def test_band_scale_on_a_log_scale_covers_the_held_out_errors():
    from nirom.surrogates.mmgp import Z95, band_scale_95

    rng = np.random.default_rng(2)
    t, t_std = rng.normal(-6, 1, size=40), np.full(40, 0.3)
    errors = np.exp(t) * rng.normal(0, 0.5, size=40)
    factor = band_scale_95(errors, t, t_std, "log")
    band = Z95 * std_from_scale(t, factor * t_std, "log")
    assert np.sum(np.abs(errors) <= band) == 39  # the conformal rank ceil(0.95 * 41) = 39
    assert band_scale_95(errors, t, t_std, "linear") > 0
