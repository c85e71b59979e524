"""PODSurrogate: known-answer fits, error bars, safe save/load, evaluation and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import skfem

from nirom import Dataset, FieldSpec, Mesh, ParameterSpace, Uniform
from nirom.cli import main
from nirom.evaluation.evaluate import evaluate
from nirom.surrogates import ModelError, PODSurrogate, Surrogate
from nirom.surrogates.format import model_digest

MESH = Mesh.from_skfem(skfem.MeshTri().refined(3))
SPACE = ParameterSpace([Uniform("a", 0.0, 1.0), Uniform("b", 1.0, 2.0)])


def truth(a: float, b: float) -> dict[str, np.ndarray]:
    """A field of rank 3 (plus mean) in smooth functions of the parameters, and a vector field."""
    x, y = MESH.points.T
    u = 1.0 + np.sin(np.pi * a) * np.sin(np.pi * x) + b**2 * np.cos(np.pi * y) + a * b * x * y
    return {"u": u, "v": np.column_stack([a * x, b * y])}


def make_dataset(path: Path, n: int, seed: int) -> Dataset:
    ds = Dataset.create(path, SPACE, [FieldSpec("u"), FieldSpec("v", components=2)], MESH)
    for i, row in enumerate(SPACE.sample(n, "sobol", seed=seed)):
        mu = SPACE.as_dict(row)
        ds.append(mu, truth(**mu), sample_id=i, solve_time=0.01)
    return ds


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Dataset, Dataset]:
    root = tmp_path_factory.mktemp("pod")
    return make_dataset(root / "train", 32, seed=0), make_dataset(root / "test", 16, seed=1)


@pytest.fixture(scope="module")
def fitted(data: tuple[Dataset, Dataset]) -> PODSurrogate:
    return PODSurrogate(regressor="gp", energy=1e-10).fit(data[0])


def test_pod_finds_the_rank_and_the_gp_interpolates(fitted: PODSurrogate, data) -> None:
    train, test = data
    assert fitted.pods_["u"].n_modes_ == 3
    assert fitted.pods_["v"].n_modes_ == 2
    at_train = fitted.predict(train.parameters())
    np.testing.assert_allclose(at_train["u"], train.field("u"), atol=1e-4)
    held_out = fitted.predict(test.parameters())
    errors = np.linalg.norm(held_out["u"] - test.field("u"), axis=1)
    assert np.max(errors / np.linalg.norm(test.field("u"), axis=1)) < 1e-2


def test_single_and_batched_predictions_agree(fitted: PODSurrogate, data) -> None:
    x = data[1].parameters()[:3]
    batch = fitted.predict(x)
    one = fitted.predict(SPACE.as_dict(x[1]))
    assert one["u"].shape == (MESH.n_points,) and one["v"].shape == (MESH.n_points, 2)
    np.testing.assert_allclose(one["u"], batch["u"][1], rtol=1e-12)


def test_error_bars_are_small_at_data_and_cover_held_out_values(fitted, data) -> None:
    train, test = data
    _, std_train = fitted.predict(train.parameters(), return_std=True)
    mean, std = fitted.predict(test.parameters(), return_std=True)
    assert np.all(std["u"] >= 0)
    assert np.median(std_train["u"]) < np.median(std["u"])
    inside = np.abs(mean["u"] - test.field("u")) <= 1.96 * std["u"] + 1e-12
    assert inside.mean() > 0.8


def test_weighted_pod_uses_the_mass_matrix(fitted: PODSurrogate) -> None:
    modes = fitted.pods_["u"].modes_
    gram = modes @ MESH.mass_matrix() @ modes.T
    np.testing.assert_allclose(gram, np.eye(len(modes)), atol=1e-10)


def test_save_load_in_a_fresh_process_predicts_identically(fitted, data, tmp_path) -> None:
    fitted.save(tmp_path / "model")
    x = data[1].parameters()
    np.save(tmp_path / "x.npy", x)
    script = (
        "import numpy as np, sys\n"
        "from nirom.surrogates import Surrogate\n"
        f"m = Surrogate.load({str(tmp_path / 'model')!r})\n"
        f"mean, std = m.predict(np.load({str(tmp_path / 'x.npy')!r}), return_std=True)\n"
        f"np.save({str(tmp_path / 'u.npy')!r}, mean['u']); "
        f"np.save({str(tmp_path / 's.npy')!r}, std['u'])\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    mean, std = fitted.predict(x, return_std=True)
    np.testing.assert_array_equal(np.load(tmp_path / "u.npy"), mean["u"])
    np.testing.assert_array_equal(np.load(tmp_path / "s.npy"), std["u"])


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (
            lambda p: (p / "arrays.npz").write_bytes((p / "arrays.npz").read_bytes()[:500]),
            "damaged or edited",
        ),
        (lambda p: (p / "arrays.npz").unlink(), "arrays.npz: missing"),
        (lambda p: (p / "model.json").write_text("{garbage"), "not valid JSON"),
        (lambda p: (p / "model.json").unlink(), "no model.json"),
        (lambda p: _edit(p, format_version=7), "format version 7"),
        (lambda p: _edit(p, kind="kriging", restamp=True), "unknown model kind 'kriging'"),
        (lambda p: _edit(p, kind="kriging"), "model.json: edited or damaged"),
        (lambda p: _edit(p, fields=[], restamp=True), r"model.json: malformed model"),
        (lambda p: _edit(p, state={}, restamp=True), r"model.json: malformed model"),
    ],
)
def test_damaged_or_foreign_models_give_clear_errors(fitted, tmp_path, damage, match) -> None:
    path = fitted.save(tmp_path / "model")
    damage(path)
    with pytest.raises(ModelError, match=match):
        Surrogate.load(path)


def _edit(path: Path, restamp: bool = False, **changes) -> None:
    """Change top-level keys of model.json; ``restamp``: as if nirom had written it so."""
    doc = json.loads((path / "model.json").read_text())
    doc.update(changes)
    if restamp:
        doc["model_sha256"] = model_digest(doc)
    (path / "model.json").write_text(json.dumps(doc))


def test_an_edited_bound_in_model_json_is_detected(fitted, tmp_path) -> None:
    """Raising a bound by hand would change predictions silently: the checksum refuses it."""
    path = fitted.save(tmp_path / "model")
    text = (path / "model.json").read_text()
    doc = json.loads(text)
    high = doc["space"]["parameters"][0]["high"]
    doc["space"]["parameters"][0]["high"] = high * 10
    (path / "model.json").write_text(json.dumps(doc, indent=1))
    with pytest.raises(ModelError, match=r"model.json: edited or damaged"):
        Surrogate.load(path)
    (path / "model.json").write_text(text)  # restored: loads again
    assert Surrogate.load(path).space_.parameters[0].high == high


def test_rbf_surrogate_predicts_but_has_no_error_bars(data) -> None:
    train, test = data
    model = PODSurrogate(regressor="rbf", energy=1e-10).fit(train)
    pred = model.predict(test.parameters())
    errors = np.linalg.norm(pred["u"] - test.field("u"), axis=1)
    assert np.max(errors / np.linalg.norm(test.field("u"), axis=1)) < 5e-2
    with pytest.raises(ModelError, match="no error bars"):
        model.predict(test.parameters(), return_std=True)


def test_bad_inputs(fitted: PODSurrogate, data) -> None:
    with pytest.raises(ValueError, match="'a'.*out of bounds"):
        fitted.predict({"a": 3.0, "b": 1.5})
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        fitted.predict(np.zeros((2, 3)))
    with pytest.raises(ModelError, match="not fitted"):
        PODSurrogate().predict({"a": 0.5, "b": 1.5})
    unknown = PODSurrogate(regressor="forest")  # the constructor only stores (scikit-learn)
    with pytest.raises(ModelError, match="unknown regressor"):
        unknown.check_params()
    with pytest.raises(ModelError, match="unknown regressor"):
        unknown.fit(data[0])


def test_evaluation_reports_every_metric(fitted: PODSurrogate, data) -> None:
    report = evaluate(fitted, data[1], n_timing=5)
    u = report["fields"]["u"]
    assert report["n_samples"] == 16
    assert u["norm"] == "L2 (mass matrix)"
    assert u["relative_l2"]["mean"] < 1e-2
    assert u["projection_floor"]["mean"] < 1e-8  # the field is exactly rank 3
    assert 0.8 <= u["coverage"] <= 1.0
    assert len(u["r2_per_mode"]) == 3 and min(u["r2_per_mode"]) > 0.99
    assert report["timing"]["predict_s"] > 0 and report["timing"]["speedup"] > 0
    json.dumps(report)


def test_cli_fit_predict_evaluate(data, tmp_path, capsys) -> None:
    train, test = data
    model = tmp_path / "m"
    assert main(["fit", str(train.path), "--out", str(model), "--energy", "1e-10"]) == 0
    assert "Fitted pod-gp on 32 samples (u: 3 modes, v: 2 modes)" in capsys.readouterr().out
    vtu = tmp_path / "p.vtu"
    assert (
        main(["predict", str(model), "-p", "a=0.3", "-p", "b=1.2", "--std", "--out", str(vtu)]) == 0
    )
    import meshio

    written = meshio.read(vtu)
    np.testing.assert_allclose(written.point_data["u"], truth(0.3, 1.2)["u"], atol=2e-2)
    assert "u_std" in written.point_data
    assert "Prediction" in capsys.readouterr().out
    assert main(["evaluate", str(model), str(test.path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["fields"]["u"]["relative_l2"]["mean"] < 1e-2
    assert main(["predict", str(model), "-p", "a=0.3"]) == 1
    assert "missing parameter(s): 'b'" in capsys.readouterr().err


def test_mlp_surrogate_fits_saves_and_has_no_error_bars(data, tmp_path) -> None:
    pytest.importorskip("torch")
    train, test = data
    model = PODSurrogate(regressor="mlp", energy=1e-10, regressor_params={"epochs": 400}).fit(train)
    pred = model.predict(test.parameters())
    errors = np.linalg.norm(pred["u"] - test.field("u"), axis=1)
    assert np.mean(errors / np.linalg.norm(test.field("u"), axis=1)) < 0.1
    loaded = Surrogate.load(model.save(tmp_path / "mlp"))
    np.testing.assert_array_equal(loaded.predict(test.parameters())["u"], pred["u"])
    with pytest.raises(ModelError, match="no error bars"):
        model.predict(test.parameters(), return_std=True)


def test_optimiser_warnings_are_folded_into_one_line_per_field(data, monkeypatch) -> None:
    from sklearn.exceptions import ConvergenceWarning

    from nirom.regression import RBFRegressor
    from nirom.surrogates import pod

    class Stalling(RBFRegressor):
        def fit(self, X, Y):  # an optimiser that hits its iteration limit twice
            warnings.warn("lbfgs failed to converge", ConvergenceWarning, stacklevel=1)
            warnings.warn("lbfgs failed to converge", ConvergenceWarning, stacklevel=1)
            return super().fit(X, Y)

    monkeypatch.setitem(pod.REGRESSORS, "rbf", Stalling)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        PODSurrogate(regressor="rbf", energy=1e-10).fit(data[0])
    messages = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(messages) == 2  # one per field (u, v), not one per fit
    assert "field 'u'" in messages[0] and "in 2 fit(s) of 3 mode(s)" in messages[0]
