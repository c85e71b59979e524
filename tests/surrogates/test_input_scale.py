"""PODSurrogate(input_scale=...): linear or log per positive parameter, chosen by the fit."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import skfem

from nirom import Dataset, FieldSpec, LogUniform, Mesh, ParameterSpace, Uniform
from nirom.cli import main
from nirom.errors import HyperparameterError
from nirom.report.card import model_card
from nirom.surrogates import PODSurrogate, Surrogate
from nirom.surrogates.format import model_digest
from nirom.surrogates.input_scale import CHOICE_SAMPLES, choice_rows, choosable, to_unit

MESH = Mesh.from_skfem(skfem.MeshTri().refined(3))
X, Y = MESH.points.T
Field = Callable[..., np.ndarray]


def log_dependent(k: float, a: float) -> np.ndarray:
    """A temperature-like field that depends on log(k), smoothly, and linearly on a."""
    t = np.log(k)
    return np.sin(np.pi * X) * np.tanh(t) + a * np.cos(np.pi * Y) + 0.3 * t**2 * X * Y


def linear_dependent(k: float, a: float) -> np.ndarray:
    """A displacement-like field linear in k (and in a)."""
    return k * np.sin(np.pi * X) + a * np.cos(np.pi * Y) + 0.1 * k * a * X * Y


def make_dataset(path: Path, space: ParameterSpace, field: Field, n: int, seed: int) -> Dataset:
    ds = Dataset.create(path, space, [FieldSpec("u")], MESH)
    design = "sobol" if seed == 0 else "random"
    for i, row in enumerate(space.sample(n, design, seed=seed)):
        mu = space.as_dict(row)
        ds.append(mu, {"u": field(**mu)}, sample_id=i, solve_time=0.01)
    return ds


def train_and_test(root: Path, space: ParameterSpace, field: Field) -> tuple[Dataset, Dataset]:
    return make_dataset(root / "train", space, field, 24, 0), make_dataset(
        root / "test", space, field, 32, 1
    )


def mean_error(model: PODSurrogate, test: Dataset) -> float:
    truth = test.field("u")
    predicted = model.predict(test.parameters())["u"]
    return float(np.mean(np.linalg.norm(predicted - truth, axis=1) / np.linalg.norm(truth, axis=1)))


@pytest.fixture(scope="module")
def uniform_k(tmp_path_factory: pytest.TempPathFactory) -> tuple[Dataset, Dataset]:
    """k declared uniform over two decades; the field depends on log(k)."""
    space = ParameterSpace([Uniform("k", 0.1, 10.0), Uniform("a", 0.0, 1.0)])
    return train_and_test(tmp_path_factory.mktemp("uniform-k"), space, log_dependent)


@pytest.fixture(scope="module")
def loguniform_k(tmp_path_factory: pytest.TempPathFactory) -> tuple[Dataset, Dataset]:
    """k declared log-uniform; the field depends linearly on k."""
    space = ParameterSpace([LogUniform("k", 0.1, 10.0), Uniform("a", 0.0, 1.0)])
    return train_and_test(tmp_path_factory.mktemp("loguniform-k"), space, linear_dependent)


@pytest.fixture(scope="module")
def auto_gp(uniform_k) -> PODSurrogate:
    return PODSurrogate(regressor="gp").fit(uniform_k[0])


def test_auto_regresses_a_uniform_k_on_log_and_beats_the_declared_scale(uniform_k, auto_gp):
    train, test = uniform_k
    declared = PODSurrogate(regressor="gp", input_scale="declared").fit(train)
    assert declared.scales() == {"k": "linear", "a": "linear"}
    assert auto_gp.input_scale == "auto"
    assert auto_gp.scales() == {"k": "log", "a": "linear"}
    assert auto_gp.changed_scales() == {"k": "log"}
    assert "; log scale: k" in auto_gp.summary()
    assert mean_error(auto_gp, test) < 0.2 * mean_error(declared, test)


@pytest.mark.parametrize("regressor", ["gp", "rbf"])
def test_auto_regresses_a_loguniform_k_that_acts_linearly_on_linear(loguniform_k, regressor):
    train, test = loguniform_k
    declared = PODSurrogate(regressor=regressor, input_scale="declared").fit(train)
    auto = PODSurrogate(regressor=regressor).fit(train)
    assert declared.scales()["k"] == "log"
    assert auto.scales() == {"k": "linear", "a": "linear"}
    assert mean_error(auto, test) < 0.5 * mean_error(declared, test)


def test_only_parameters_with_positive_bounds_may_change_scale() -> None:
    space = ParameterSpace(
        [Uniform("zero", 0.0, 1.0), Uniform("negative", -2.0, 3.0), Uniform("positive", 1.0, 5.0)]
    )
    assert choosable(space) == ["positive"]
    x = np.array([[0.5, 0.5, 2.0]])
    np.testing.assert_allclose(to_unit(space, x, {"positive": "log"})[0, 2], np.log(2) / np.log(5))
    np.testing.assert_allclose(to_unit(space, x, {})[0], space.to_unit(x)[0])


def test_the_choice_looks_at_a_bounded_seeded_subset_of_large_training_sets() -> None:
    np.testing.assert_array_equal(choice_rows(40), np.arange(40))
    rows = choice_rows(1000)
    assert len(np.unique(rows)) == CHOICE_SAMPLES and np.all(np.diff(rows) > 0)
    assert rows.max() > 500  # spread over the set, not its first rows
    np.testing.assert_array_equal(rows, choice_rows(1000))


def test_the_scale_applies_at_prediction_and_survives_saving(uniform_k, auto_gp, tmp_path):
    _, test = uniform_k
    before = auto_gp.predict(test.parameters(), return_std=True)
    loaded = Surrogate.load(auto_gp.save(tmp_path / "model"))
    assert loaded.scales() == {"k": "log", "a": "linear"}
    after = loaded.predict(test.parameters(), return_std=True)
    for b, a in zip(before, after, strict=True):
        np.testing.assert_array_equal(a["u"], b["u"])
    mu = {"k": 0.37, "a": 0.6}
    truth = log_dependent(**mu)
    assert np.linalg.norm(loaded.predict(mu)["u"] - truth) < 0.05 * np.linalg.norm(truth)
    card = model_card(loaded, tmp_path / "model")
    assert card["input_scales"] == {"k": "log", "a": "linear"}
    assert card["hyperparameters"]["input_scale"] == "auto"


def test_a_model_saved_before_input_scales_loads_on_the_declared_scales(uniform_k, tmp_path):
    """Models written before input_scale existed (no hyperparameter, no input_scales)."""
    train, test = uniform_k
    model = PODSurrogate(regressor="rbf", input_scale="declared").fit(train)
    path = model.save(tmp_path / "old")
    doc = json.loads((path / "model.json").read_text())
    del doc["state"]["input_scales"], doc["state"]["params"]["input_scale"]
    doc["model_sha256"] = model_digest(doc)
    (path / "model.json").write_text(json.dumps(doc))
    old = Surrogate.load(path)
    assert old.input_scale == "declared" and old.scales() == {"k": "linear", "a": "linear"}
    np.testing.assert_array_equal(
        old.predict(test.parameters())["u"], model.predict(test.parameters())["u"]
    )


def test_an_unknown_input_scale_is_one_line_naming_it() -> None:
    with pytest.raises(HyperparameterError, match="input_scale") as caught:
        PODSurrogate(input_scale="logarithmic").check_params()
    assert "\n" not in str(caught.value)
    assert "auto" in str(caught.value) and "declared" in str(caught.value)


def test_cli_fit_takes_input_scale_as_an_option(uniform_k, tmp_path, capsys) -> None:
    train, _ = uniform_k
    out = tmp_path / "m"
    args = ["fit", str(train.path), "--model", "pod-rbf", "--out", str(out)]
    assert main([*args, "-O", "input_scale=declared"]) == 0
    assert Surrogate.load(out).input_scale == "declared"
    capsys.readouterr()
    assert main([*args, "-O", "input_scale=log"]) == 1
    err = capsys.readouterr().err
    assert "input_scale" in err and len(err.strip().splitlines()) == 1
