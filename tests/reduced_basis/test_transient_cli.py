"""The command line of the transient reduced basis: fit --model rb, train-rb heat-transient."""

from __future__ import annotations

import numpy as np
import pytest

from nirom import Dataset
from nirom.cli import main
from nirom.evaluation.evaluate import evaluate
from nirom.surrogates import Surrogate

OPTIONS = ["-s", "resolution=6", "-s", "n_steps=12", "-s", "n_outputs=4"]


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    root = tmp_path_factory.mktemp("transient")
    train, test = root / "train.nirom", root / "test.nirom"
    assert (
        main(["generate", "heat-transient", "-n", "8", "-o", str(train), "-w", "0", *OPTIONS]) == 0
    )
    gen = ["generate", "heat-transient", "-n", "4", "-o", str(test), "-w", "0", "--seed", "5"]
    assert main([*gen, "--design", "random", *OPTIONS]) == 0
    return Dataset(train), Dataset(test)


def test_fit_predicts_the_series_as_the_dataset_stores_it(datasets, tmp_path, capsys):
    train, test = datasets
    out = tmp_path / "rb"
    assert main(["fit", str(train.path), "--model", "rb", "-o", str(out)]) == 0
    assert "1 operator and 2 load terms" in capsys.readouterr().out
    model = Surrogate.load(out)
    ids = test.sample_ids()
    reference = test.field("u", ids)
    fields, bounds = model.predict(test.parameters(ids), return_bound=True)
    assert fields["u"].shape == reference.shape == (4, 4, 49)
    mass = test.mesh.mass_matrix()
    for i in range(len(ids)):
        e = fields["u"][i] - reference[i]
        err = np.sqrt(np.einsum("ti,ti->", e, (mass @ e.T).T))
        assert err <= bounds["u"]["l2"][i]
        assert err <= 1e-6 * np.abs(reference[i]).max()


def test_fit_refuses_eim_on_a_series(datasets, tmp_path, capsys):
    train, _ = datasets
    args = [
        "fit",
        str(train.path),
        "--model",
        "rb",
        "-o",
        str(tmp_path / "m"),
        "-O",
        "operator=eim",
    ]
    assert main(args) != 0
    err = capsys.readouterr()
    text = (err.out + err.err).strip()
    assert "operator='eim' is not available for time-dependent problems" in text
    assert "Traceback" not in text


def test_fit_refuses_a_dataset_the_solver_does_not_reproduce(datasets, tmp_path, capsys):
    train, _ = datasets
    import json
    import shutil

    copy = tmp_path / "changed.nirom"
    shutil.copytree(train.path, copy)
    attrs = copy / "zarr.json"  # the provenance's solver recipe: another final time
    meta = json.loads(attrs.read_text())
    text = json.dumps(meta).replace('"t_final": 1.0', '"t_final": 0.5')
    assert text != json.dumps(meta)
    attrs.write_text(text)
    assert main(["fit", str(copy), "--model", "rb", "-o", str(tmp_path / "m")]) != 0
    err = capsys.readouterr()
    assert "differs from the rebuilt solver's trajectory" in err.out + err.err


def test_evaluate_reports_the_bound_on_series(datasets, tmp_path):
    train, test = datasets
    out = tmp_path / "rb"
    assert main(["fit", str(train.path), "--model", "rb", "-o", str(out), "-O", "n_modes=4"]) == 0
    report = evaluate(Surrogate.load(out), test, n_timing=2)
    assert report["fields"]["u"]["bound"]["bounded_fraction"] == 1.0


def test_train_rb_pod_greedy_resumes(tmp_path, capsys):
    data, out = tmp_path / "greedy.nirom", tmp_path / "rb"
    args = ["train-rb", "heat-transient", "-d", str(data), "-o", str(out), "--candidates", "30"]
    assert main([*args, "--basis", "3", *OPTIONS]) == 0
    assert "POD-greedy: 3 solves (0 resumed)" in capsys.readouterr().out
    assert main([*args, "--basis", "5", *OPTIONS]) == 0
    assert "POD-greedy: 2 solves (3 resumed)" in capsys.readouterr().out
    again = tmp_path / "again.nirom"
    fresh = ["train-rb", "heat-transient", "-d", str(again), "-o", str(tmp_path / "rb2")]
    assert main([*fresh, "--candidates", "30", "--basis", "5", *OPTIONS]) == 0
    x = np.array([[0.3, 4.0, 0.5]])
    np.testing.assert_array_equal(
        Surrogate.load(out).predict(x)["u"], Surrogate.load(tmp_path / "rb2").predict(x)["u"]
    )
    assert len(Dataset(data)) == 5
    assert main([*args, "--basis", "6", "-w", "2", *OPTIONS]) != 0
    err = capsys.readouterr()
    assert "solves in this process" in err.out + err.err


def test_tolerance_stops_the_greedy_early(datasets):
    from nirom.surrogates.reduced_basis import RBSurrogate

    train, _ = datasets
    full = RBSurrogate().fit(train)
    early = RBSurrogate(tolerance=1e-2).fit(train)
    assert early.model_.n_basis < full.model_.n_basis
    assert early.greedy_["max_bounds"][-1] <= 1e-2 < early.greedy_["max_bounds"][-2]


def test_series_without_a_recorded_solver_is_a_one_line_error(datasets, tmp_path, capsys):
    train, _ = datasets
    fields = list(train.fields.values())
    copy = Dataset.create(tmp_path / "imported.nirom", train.space, fields, train.mesh)
    for i in train.sample_ids()[:2]:
        copy.append(train.read_meta(i)["mu"], {"u": train.field("u", [i])[0]})
    assert main(["fit", str(copy.path), "--model", "rb", "-o", str(tmp_path / "m")]) != 0
    err = capsys.readouterr()
    text = (err.out + err.err).strip()
    assert "records no solver; rb on a time series rebuilds it" in text
    assert "Traceback" not in text
