"""MMGPSurrogate: interpolation of its training samples, error bars, save/load, refusals, CLI."""

import json
import subprocess
import sys

import meshio
import numpy as np
import pytest

from nirom.cli import main
from nirom.dataset import Dataset, export_sample
from nirom.errors import DatasetError, ModelError, ParameterError
from nirom.generation import generate
from nirom.mesh import read
from nirom.surrogates import Surrogate
from nirom.surrogates.factory import make_surrogate
from nirom.surrogates.mmgp import MMGPSurrogate

OPTIONS = {"mesh_size": 0.2}
# 6-8 samples: the small-training-set warning is expected (tested in test_mmgp_small.py)
pytestmark = pytest.mark.filterwarnings("ignore::nirom.surrogates.mmgp.SmallTrainingSetWarning")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    path = tmp_path_factory.mktemp("mmgp") / "tensile.nirom"
    generate("tensile2d", path, 10, seed=3, workers=0, solver_options=OPTIONS)
    return Dataset(path)


@pytest.fixture(scope="module")
def model(dataset):
    # every mode kept: the model interpolates its training samples
    return MMGPSurrogate(refine=1, n_restarts=0, field_modes="energy").fit(dataset, list(range(8)))


def _scalars(model, sample):
    return {name: sample.mu[name] for name in model.space_.scalar_names}


def test_interpolates_its_training_samples(model, dataset):
    for i in (0, 5):
        sample = dataset.sample(i)
        mean, std = model.predict(_scalars(model, sample), return_std=True, mesh=sample.mesh)
        transfer = model._transfer(sample.mesh)
        for name in ("u", "sigma_22"):
            ref = np.asarray(sample.fields[name])
            # what the common mesh can hold of the sample: its round trip
            held = transfer.from_common @ (transfer.to_common @ ref)
            scale = np.abs(ref).max()
            assert np.abs(mean[name] - held).max() < 1e-4 * scale
            assert np.all(np.isfinite(std[name])) and np.all(std[name] > 0)
        for name in ("max_von_mises", "max_u2_top", "max_sigma22_top"):
            assert mean[name] == pytest.approx(float(sample.fields[name]), rel=1e-4)
    # away from the training samples the bars widen
    test = dataset.sample(9)
    _, far = model.predict(_scalars(model, test), return_std=True, mesh=test.mesh)
    near = model.predict(_scalars(model, sample), return_std=True, mesh=sample.mesh)[1]
    assert far["max_von_mises"] > 10 * near["max_von_mises"]


def test_batch_shapes_and_std_on_another_mesh(model, dataset):
    sample = dataset.sample(9)
    mus = [_scalars(model, dataset.sample(i)) for i in (8, 9)]
    mean, std = model.predict(mus, return_std=True, mesh=sample.mesh)
    n = sample.mesh.n_points
    assert mean["u"].shape == std["u"].shape == (2, n, 2)
    assert mean["p"].shape == (2, n) and mean["max_p"].shape == (2,)


def test_save_load_identical_in_a_fresh_process(model, dataset, tmp_path):
    model.save(tmp_path / "model")
    sample = dataset.sample(9)
    mu = _scalars(model, sample)
    export_sample(dataset, 9, tmp_path / "s9.vtu")
    script = (
        "import json, sys, numpy as np\n"
        "from nirom.mesh import read\n"
        "from nirom.surrogates import Surrogate\n"
        f"m = Surrogate.load({str(tmp_path / 'model')!r})\n"
        f"mesh = read({str(tmp_path / 's9.vtu')!r})[0]\n"
        f"mean, std = m.predict(json.loads({json.dumps(json.dumps(mu))}), True, mesh=mesh)\n"
        f"np.savez({str(tmp_path / 'out.npz')!r}, "
        "**{k: v for k, v in mean.items()}, **{k + '_std': v for k, v in std.items()})\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    fresh = np.load(tmp_path / "out.npz")
    mesh = read(tmp_path / "s9.vtu")[0]
    loaded = Surrogate.load(tmp_path / "model")
    mean, std = loaded.predict(mu, return_std=True, mesh=mesh)
    original = model.predict(mu, return_std=True, mesh=mesh)
    for name in mean:  # the saved model predicts the same anywhere, bit for bit
        np.testing.assert_array_equal(fresh[name], mean[name])
        np.testing.assert_array_equal(fresh[name + "_std"], std[name])
        # and as the fitted one, to rounding (arrays laid out differently in memory)
        for ours, theirs in ((mean[name], original[0][name]), (std[name], original[1][name])):
            np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12 * np.abs(theirs).max())
    assert Surrogate.load(tmp_path / "model").summary() == model.summary()


def test_refusals_are_one_line(model, dataset):
    sample = dataset.sample(1)
    mu = _scalars(model, sample)
    with pytest.raises(ModelError, match="pass mesh="):
        model.predict(mu)
    missing = {k: v for k, v in mu.items() if k != "R0"}
    with pytest.raises(ParameterError, match="'R0'"):
        model.predict(missing, mesh=sample.mesh)
    with pytest.raises(DatasetError, match="use --model mmgp"):
        make_surrogate("pod-gp").fit(dataset)


def test_cli_predicts_on_a_mesh_file(model, dataset, tmp_path, capsys):
    model.save(tmp_path / "model")
    export_sample(dataset, 9, tmp_path / "s9.vtu")
    sample = dataset.sample(9)
    params = [f"-p{k}={v}" for k, v in _scalars(model, sample).items()]
    out = tmp_path / "pred.vtu"
    args = ["predict", str(tmp_path / "model"), "--mesh", str(tmp_path / "s9.vtu"), "--std"]
    assert main([*args, *params, "--out", str(out)]) == 0
    written = meshio.read(out)
    assert written.point_data["sigma_22"].shape == (sample.mesh.n_points,)
    assert "sigma_22_std" in written.point_data
    assert main(["predict", str(tmp_path / "model"), *params]) == 1
    assert "--mesh FILE" in capsys.readouterr().err


def test_evaluate_reports_scalar_rrmse(model, dataset):
    from nirom.evaluation.evaluate import evaluate

    report = evaluate(model, dataset, ids=[8, 9])
    scalar = report["fields"]["max_von_mises"]
    assert 0 < scalar["rrmse"] < 1 and 0 <= scalar["coverage"] <= 1
    assert report["fields"]["u"]["rrmse"] > 0 and report["timing"]["predict_s"] > 0


def test_elasticity_morphing_variant_interpolates_and_reloads(dataset, tmp_path):
    model = MMGPSurrogate(morphing="elasticity", refine=0, n_restarts=0, field_modes="energy")
    model.fit(dataset, list(range(6)))
    sample = dataset.sample(4)
    mu = _scalars(model, sample)
    mean = model.predict(mu, mesh=sample.mesh)
    transfer = model._transfer(sample.mesh)
    ref = np.asarray(sample.fields["sigma_22"])
    held = transfer.from_common @ (transfer.to_common @ ref)
    assert np.abs(mean["sigma_22"] - held).max() < 1e-4 * np.abs(ref).max()
    # the common nodes land on the sample's outline: the geometry is the sample's own
    assert transfer.common_points.shape == model.common_.morphed.shape
    model.save(tmp_path / "model")
    again = Surrogate.load(tmp_path / "model").predict(mu, mesh=sample.mesh)
    np.testing.assert_allclose(again["sigma_22"], mean["sigma_22"], rtol=1e-10, atol=1e-10)
