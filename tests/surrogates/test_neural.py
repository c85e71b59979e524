"""FNO, DeepONet and PCA-NN surrogates on a dataset with a field input.

The operator is the heat semigroup on the periodic unit interval,
``u0 -> exp(t d2/dx2) u0``, a Fourier multiplier computed exactly by FFT, so
the expected answer is known at every resolution.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

from nirom import Dataset, FieldInput, FieldSpec, Mesh, ParameterSpace, Uniform
from nirom.cli import main
from nirom.errors import DatasetError, ParameterError
from nirom.evaluation.evaluate import evaluate
from nirom.surrogates import (
    DeepONetSurrogate,
    FNOSurrogate,
    ModelError,
    PODSurrogate,
    Surrogate,
    make_surrogate,
)
from nirom.surrogates.format import model_digest

N = 32
T = 0.004  # diffusion time: damps mode k by exp(-T (2 pi k)^2), mode 4 by ~0.08


def initial_conditions(n_samples: int, n: int, seed: int) -> np.ndarray:
    """Random Fourier series with 6 modes, the same functions at any resolution ``n``."""
    rng = np.random.default_rng(seed)
    k = np.arange(1, 7)
    a, b = rng.normal(size=(2, n_samples, 6)) / k
    x = np.arange(n) / n
    phase = 2 * np.pi * k[None, :, None] * x[None, None, :]
    return (a[..., None] * np.cos(phase) + b[..., None] * np.sin(phase)).sum(axis=1)


def heat(u0: np.ndarray) -> np.ndarray:
    k = np.fft.rfftfreq(u0.shape[-1], d=1.0 / u0.shape[-1])
    return np.fft.irfft(np.fft.rfft(u0) * np.exp(-T * (2 * np.pi * k) ** 2), n=u0.shape[-1])


def make_dataset(path: Path, n_samples: int, n: int, seed: int) -> Dataset:
    x = np.arange(n) / n
    mesh = Mesh(np.column_stack([x, np.zeros(n)]), [("line", np.c_[0 : n - 1, 1:n])])
    space = ParameterSpace([FieldInput("u0", (n,))])
    ds = Dataset.create(path, space, [FieldSpec("u", "point")], mesh)
    u0 = initial_conditions(n_samples, n, seed)
    for row, out in zip(u0, heat(u0), strict=True):
        ds.append({"u0": row}, {"u": out})
    return ds


def relative_error(pred: np.ndarray, ref: np.ndarray) -> float:
    return float(np.mean(np.linalg.norm(pred - ref, axis=1) / np.linalg.norm(ref, axis=1)))


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Dataset, Dataset]:
    root = tmp_path_factory.mktemp("heat")
    return make_dataset(root / "train", 96, N, seed=0), make_dataset(root / "test", 24, N, seed=1)


FNO_PARAMS = dict(modes=8, width=16, n_layers=2, projection_channels=32, epochs=60, batch_size=8)
FNO_PARAMS |= dict(learning_rate=3e-3, progress=False, validation_fraction=0.1)


@pytest.fixture(scope="module")
def fno(data: tuple[Dataset, Dataset]) -> FNOSurrogate:
    return FNOSurrogate(**FNO_PARAMS).fit(data[0])


def test_fno_learns_the_heat_semigroup_and_predicts_zero_shot_on_a_finer_grid(fno, data) -> None:
    _, test = data
    pred = fno.predict(test.parameter_sets())["u"]
    assert relative_error(pred, test.field("u")) < 0.02
    # Same functions sampled on a grid twice as fine: the FNO predicts there directly.
    u0 = initial_conditions(24, 2 * N, seed=1)
    fine = fno.predict([{"u0": row} for row in u0])["u"]
    assert fine.shape == (24, 2 * N)
    assert relative_error(fine, heat(u0)) < 0.03


def test_training_reduced_the_loss(fno) -> None:
    history = fno.history_
    assert history.train_loss[-1] < 0.2 * history.train_loss[0]
    assert min(history.val_error) < 0.02


def test_fno_save_load_round_trip_is_bit_identical_in_a_fresh_process(fno, data, tmp_path) -> None:
    _, test = data
    path = fno.save(tmp_path / "fno")
    doc = json.loads((path / "model.json").read_text())
    assert doc["kind"] == "fno" and doc["state"]["params"]["modes"] == 8
    mus = test.parameter_sets()
    expected = fno.predict(mus)["u"]
    np.save(tmp_path / "u0.npy", np.stack([m["u0"] for m in mus]))
    script = (
        "import numpy as np; from nirom.surrogates import Surrogate\n"
        f"m = Surrogate.load({str(path)!r})\n"
        f"u0 = np.load({str(tmp_path / 'u0.npy')!r})\n"
        "np.save('pred.npy', m.predict([{'u0': r} for r in u0])['u'])\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=tmp_path, check=True)
    np.testing.assert_array_equal(np.load(tmp_path / "pred.npy"), expected)
    np.testing.assert_array_equal(FNOSurrogate.load(path).predict(mus)["u"], expected)


def test_loading_a_model_of_another_kind_is_refused(fno, data, tmp_path) -> None:
    pca = PODSurrogate(regressor="rbf", n_modes=4, input_modes=6).fit(data[0])
    with pytest.raises(ModelError, match="is a 'pod' model, not a fno one"):
        FNOSurrogate.load(pca.save(tmp_path / "pca"))
    with pytest.raises(ModelError, match="is a 'fno' model, not a deeponet one"):
        DeepONetSurrogate.load(fno.save(tmp_path / "fno"))


def test_weights_of_another_architecture_are_refused(fno, tmp_path) -> None:
    path = fno.save(tmp_path / "fno")
    doc = json.loads((path / "model.json").read_text())
    doc["state"]["params"]["width"] = 8  # the stored weights are for width 16
    (path / "model.json").write_text(json.dumps(doc))
    with pytest.raises(ModelError, match="model.json: edited or damaged"):
        Surrogate.load(path)  # the checksum catches the edit first
    doc["model_sha256"] = model_digest(doc)  # as if nirom had written it so
    (path / "model.json").write_text(json.dumps(doc))
    with pytest.raises(ModelError, match="weights do not fit the fno network"):
        Surrogate.load(path)


def test_bad_field_inputs_are_named(fno) -> None:
    good = np.zeros(N)
    with pytest.raises(ParameterError, match="'u0'.*NaN"):
        fno.predict({"u0": np.where(np.arange(N) == 3, np.nan, good)})
    with pytest.raises(ParameterError, match="'u0': expected shape"):
        fno.predict({"u0": np.zeros((N, N))})
    with pytest.raises(ParameterError, match=r"too coarse for \(8,\) Fourier modes"):
        fno.predict({"u0": np.zeros(10)})
    with pytest.raises(ParameterError, match="field input"):
        fno.predict(np.zeros((1, 0)))
    with pytest.raises(ParameterError, match="one batch needs one shape"):
        fno.predict([{"u0": good}, {"u0": np.zeros(2 * N)}])
    with pytest.raises(ModelError, match="no error bars"):
        fno.predict({"u0": good}, return_std=True)


def test_deeponet_learns_the_heat_semigroup_on_its_grid(data, tmp_path) -> None:
    train, test = data
    model = DeepONetSurrogate(
        branch_layers=(64, 64),
        trunk_layers=(64, 64),
        latent=32,
        epochs=500,
        batch_size=16,
        learning_rate=3e-3,
        weight_decay=0.0,
        progress=False,
    ).fit(train)
    pred = model.predict(test.parameter_sets())["u"]
    assert relative_error(pred, test.field("u")) < 0.1  # predicting the mean field gives ~1
    loaded = Surrogate.load(model.save(tmp_path / "don"))
    np.testing.assert_array_equal(loaded.predict(test.parameter_sets())["u"], pred)
    with pytest.raises(ParameterError, match="expected shape"):
        model.predict({"u0": np.zeros(2 * N)})


def test_pca_nn_baseline_on_field_inputs(data, tmp_path) -> None:
    train, test = data
    model = PODSurrogate(regressor="rbf", n_modes=8, input_modes=12).fit(train)
    pred = model.predict(test.parameter_sets())["u"]
    # The map is linear, so PCA in and out with an interpolating regressor is close.
    assert relative_error(pred, test.field("u")) < 0.05
    loaded = Surrogate.load(model.save(tmp_path / "pca"))
    np.testing.assert_array_equal(loaded.predict(test.parameter_sets())["u"], pred)


def test_evaluate_reports_the_same_metrics_for_a_neural_operator(fno, data) -> None:
    _, test = data
    report = evaluate(fno, test, norm="euclidean", n_timing=5)
    u = report["fields"]["u"]
    assert u["norm"] == "Euclidean"
    expected = relative_error(fno.predict(test.parameter_sets())["u"], test.field("u"))
    assert u["relative_l2"]["mean"] == pytest.approx(expected)
    assert "coverage" not in u and report["timing"]["predict_s"] > 0


def test_cli_fit_evaluate_predict_fno(data, tmp_path, capsys) -> None:
    train, test = data
    options = ["-O", "modes=8", "-O", "width=8", "-O", "epochs=3", "-O", "progress=false"]
    code = main(["fit", str(train.path), "--model", "fno", "--out", str(tmp_path / "m"), *options])
    assert code == 0
    assert "Fitted fno on 96 samples (3 epochs" in capsys.readouterr().out
    assert (
        main(["evaluate", str(tmp_path / "m"), str(test.path), "--json", "--norm", "euclidean"])
        == 0
    )
    assert json.loads(capsys.readouterr().out)["fields"]["u"]["relative_l2"]["mean"] > 0
    np.save(tmp_path / "u0.npy", test.parameter_sets()[0]["u0"])
    assert main(["predict", str(tmp_path / "m"), "-p", f"u0=@{tmp_path / 'u0.npy'}"]) == 0
    assert main(["fit", str(train.path), "--model", "fno", "--out", "x", "-O", "depth=2"]) == 1
    assert "unknown option(s) depth" in capsys.readouterr().err


def make_2d_dataset(path: Path, n_samples: int, s: int = 16) -> Dataset:
    """A scalar ``k`` and two field inputs ``a``, ``b`` on an s x s grid; u = k * a + b^2."""
    x = np.linspace(0.0, 1.0, s)
    xx, yy = np.meshgrid(x, x)  # [iy, ix]: x fastest, the C order of the grid
    mesh = Mesh(np.column_stack([xx.ravel(), yy.ravel()]), [("vertex", np.arange(s * s)[:, None])])
    space = ParameterSpace(
        [Uniform("k", 1.0, 2.0), FieldInput("a", (s, s)), FieldInput("b", (s, s))]
    )
    ds = Dataset.create(path, space, [FieldSpec("u", "point")], mesh)
    rng = np.random.default_rng(0)
    for _ in range(n_samples):
        k, a, b = rng.uniform(1, 2), rng.normal(size=(s, s)), rng.normal(size=(s, s))
        ds.append({"k": k, "a": a, "b": b}, {"u": (k * a + b**2).ravel()})
    return ds


def test_fno_2d_with_a_scalar_and_two_field_inputs(tmp_path) -> None:
    ds = make_2d_dataset(tmp_path / "d", 12)
    model = FNOSurrogate(modes=(4, 4), width=8, n_layers=1, epochs=3, progress=False).fit(ds)
    mus = ds.parameter_sets()[:3]
    assert model.predict(mus)["u"].shape == (3, 256)
    loaded = Surrogate.load(model.save(tmp_path / "m"))
    assert loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.predict(mus)["u"], model.predict(mus)["u"])
    fine = {"k": 1.5, "a": np.zeros((24, 24)), "b": np.ones((24, 24))}
    assert model.predict(fine)["u"].shape == (576,)
    with pytest.raises(ParameterError, match="must share one grid"):
        model.predict({"k": 1.5, "a": np.zeros((24, 24)), "b": np.zeros((20, 20))})
    with pytest.raises(ParameterError, match="'k'.*out of bounds"):
        model.predict({**fine, "k": 3.0})


def test_a_mesh_that_is_not_the_input_grid_in_c_order_is_refused(tmp_path) -> None:
    ds = make_2d_dataset(tmp_path / "d", 3)
    points = ds.mesh.points.copy()
    swapped = Mesh(points[:, ::-1], ds.mesh.cells)  # y fastest: outputs transposed
    other = Dataset.create(tmp_path / "t", ds.space, list(ds.fields.values()), swapped)
    for mu in ds.parameter_sets():
        other.append(mu, {"u": np.ones(256)})
    model = FNOSurrogate(modes=4, width=8, epochs=1, progress=False)
    with pytest.raises(DatasetError, match="not a uniform \\(16, 16\\) grid in C order"):
        model.fit(other)
    with pytest.raises(ModelError, match="not fitted"):
        model.predict(ds.parameter_sets()[0])  # a failed fit leaves no half-fitted model


@pytest.mark.parametrize(
    ("name", "options", "match"),
    [
        ("fno", {"scheduler": "cosin"}, "unknown TrainingConfig.scheduler 'cosin'"),
        ("fno", {"modes": 0}, "modes must be a positive int"),
        ("fno", {"validation_fraction": 1.5}, "validation_fraction"),
        ("fno", {"patience": 5, "validation_fraction": 0.0}, "patience needs validation"),
        ("deeponet", {"branch_layers": 64}, "branch_layers must be a list of positive integers"),
        ("deeponet", {"width": 64}, "unknown option\\(s\\) width"),
    ],
)
def test_bad_hyperparameters_are_refused_before_any_data(name, options, match) -> None:
    with pytest.raises(ModelError, match=match):
        make_surrogate(name, **options)


def test_cli_predict_out_refuses_another_grid(fno, data, tmp_path, capsys) -> None:
    path = fno.save(tmp_path / "fno")
    np.save(tmp_path / "fine.npy", np.zeros(2 * N))
    args = ["predict", str(path), "-p", f"u0=@{tmp_path / 'fine.npy'}", "--out", "x.vtu"]
    assert main(args) == 1
    assert "--out writes on the training grid only" in capsys.readouterr().err


def test_fno_pads_the_same_physical_length_on_every_grid() -> None:
    model = FNOSurrogate(padding=9, periodic=False)
    model.grid_shape_ = (85, 85)
    assert model._padding((85, 85)) == (9, 9)
    assert model._padding((141, 141)) == (15, 15)  # 9/84 of the domain either way
    periodic = FNOSurrogate(padding=4, periodic=True)
    periodic.grid_shape_ = (64,)
    assert periodic._padding((128,)) == (8,)


def test_fitting_leaves_the_callers_random_streams_alone(data) -> None:
    import random

    import torch

    def draws() -> tuple[float, float, float]:
        return np.random.random(), random.random(), torch.rand(1).item()  # noqa: NPY002

    def seed() -> None:
        np.random.seed(7)  # noqa: NPY002 (the legacy global stream is what is checked)
        random.seed(7)
        torch.manual_seed(7)

    seed()
    expected = draws()
    seed()
    FNOSurrogate(modes=4, width=4, n_layers=1, epochs=1, progress=False).fit(data[0])
    assert draws() == expected


def test_the_services_batched_path_answers_other_grids_as_predict_does(fno) -> None:
    """One batched call of the service with inputs on two grids: each answered exactly as
    ``predict`` answers it (the batched path used to refuse the finer grid)."""
    from nirom.serve.app import Predictor

    coarse = initial_conditions(2, N, seed=5)
    fine = initial_conditions(1, 2 * N, seed=6)
    rows = [coarse[0], fine[0], coarse[1]]
    answers = Predictor(fno).predict_many([{"parameters": {"u0": r.tolist()}} for r in rows])
    for row, answer in zip(rows, answers, strict=True):
        expected = fno.predict({"u0": row})["u"]
        np.testing.assert_allclose(np.asarray(answer["fields"]["u"]), expected, rtol=1e-6)
