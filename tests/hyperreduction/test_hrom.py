"""The `hrom` surrogate: reproduction, save/load in a fresh process, the indicator, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from nirom.dataset import Dataset
from nirom.errors import DatasetError, MeshError, ParameterError
from nirom.generation import generate
from nirom.hyperreduction.snapshots import mechanics_case
from nirom.mechanics.loads import LoadHistory
from nirom.solvers import make_solver
from nirom.surrogates import make_surrogate
from nirom.surrogates.base import Surrogate


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def test_reproduces_a_training_sample_and_predicts_an_unseen_one(plate_dataset) -> None:
    ds, ids, model = plate_dataset.dataset, plate_dataset.ids, plate_dataset.model
    assert model.model.n_cubature_points < ds.mesh.n_cells * 3  # fewer than all points
    assert model.model.info["force_error"] < 1e-4
    for i, tol_u, tol_p in ((ids[0], 1e-4, 3e-2), (ids[4], 1e-2, 0.2)):
        sample = ds.sample(i)
        out = model.predict(ds.parameter_sets([i])[0])
        assert set(out) == {*ds.fields, "indicator"}
        assert out["u"].shape == sample.fields["u"].shape
        assert _rel(out["u"], sample.fields["u"]) < tol_u
        assert _rel(out["p_qp"], sample.fields["p_qp"]) < tol_p
        assert out["indicator"].shape == (len(sample.fields["u"]),)


def test_save_load_gives_identical_predictions_in_a_fresh_process(plate_dataset) -> None:
    ds, path = plate_dataset.dataset, plate_dataset.root / "hrom.model"
    mu = ds.parameter_sets([plate_dataset.ids[4]])[0]
    here = plate_dataset.model.predict(mu)
    script = (
        "import json, sys, numpy as np\n"
        "from nirom.surrogates.base import Surrogate\n"
        f"m = Surrogate.load({str(path)!r})\n"
        f"out = m.predict({json.dumps(mu)})\n"
        "np.savez(sys.argv[1], **out)\n"
    )
    target = plate_dataset.root / "fresh.npz"
    subprocess.run([sys.executable, "-c", script, str(target)], check=True)
    there = np.load(target)
    for name, value in here.items():
        assert np.array_equal(there[name], value), name
    assert not list(Path(path).rglob("*.pkl"))
    assert json.loads((Path(path) / "model.json").read_text())["kind"] == "hrom"


def test_a_load_history_outside_training_is_flagged(plate_dataset) -> None:
    ds, model = plate_dataset.dataset, plate_dataset.model
    train = [
        model.predict(mu)["indicator"].max() for mu in ds.parameter_sets(plate_dataset.ids[:4])
    ]
    mu = ds.parameter_sets([plate_dataset.ids[0]])[0]
    doubled = model.model.history({**mu, "load": 2 * mu["load"]})
    outside = model.predict(mu, history=doubled)["indicator"].max()
    assert outside > 5 * max(train)
    # A history of the training kind but another amplitude shape (ramp) is not flagged.
    ramp = doubled.to_dict()
    ramp["terms"][0]["load"]["value"] = [0.0, mu["load"]]
    ramp["terms"][0]["amplitude"] = {"kind": "ramp", "duration": 5.0}
    assert model.predict(mu, history=ramp)["indicator"].max() < 2 * max(train)


def test_bad_input_is_one_line(plate_dataset, tmp_path: Path) -> None:
    ds, model = plate_dataset.dataset, plate_dataset.model
    mu = ds.parameter_sets([plate_dataset.ids[0]])[0]
    # a load of the wrong length: a 3-component traction on a 2-D plate
    h = model.model.history(mu).to_dict()
    h["terms"][0]["load"]["value"] = [0.0, 1.0, 0.0]
    with pytest.raises(ParameterError, match="traction:top takes 2 value"):
        model.predict(mu, history=h)
    h["terms"][0]["load"] = {"kind": "pressure", "boundary": "hole", "value": 1.0}
    with pytest.raises(ParameterError, match="pressure:hole load is not one this model"):
        model.predict(mu, history=h)
    with pytest.raises(ParameterError, match="times"):
        model.predict(mu, times=[1.0])
    # a mesh that does not match the dataset
    other = make_solver("plate-hole", {"resolution": 4, "steps_per_cycle": 8, "cycles": 1})
    with pytest.raises(
        MeshError, match="against the case .plate-hole.: its 133 points vs the reference.s 225"
    ):
        mechanics_case(ds, other)
    law = make_solver("plate-hole", {"resolution": 3, "steps_per_cycle": 8, "cycles": 1})
    law.case.nominal = {**law.case.nominal, "K": 300.0}  # not the data's
    with pytest.raises(ParameterError, match="was solved with law"):
        mechanics_case(ds, law)
    with pytest.raises(ParameterError, match="not a mechanics case"):
        mechanics_case(ds, "thermal-block")
    # a dataset without displacement time series
    block = generate(
        "thermal-block",
        tmp_path / "block.nirom",
        2,
        workers=0,
        solver_options={"nx_blocks": 2, "ny_blocks": 2, "resolution": 8},
        console=Console(quiet=True),
    ).dataset
    with pytest.raises(DatasetError, match="displacement time series 'u'"):
        make_surrogate("hrom").fit(Dataset(block.path))
    with pytest.raises(ValueError, match="tolerance"):
        make_surrogate("hrom", tolerance=2.0)
    assert isinstance(Surrogate.load(plate_dataset.root / "hrom.model"), Surrogate)


def test_history_json_round_trip_predicts_the_same(plate_dataset) -> None:
    ds, model = plate_dataset.dataset, plate_dataset.model
    mu = ds.parameter_sets([plate_dataset.ids[1]])[0]
    history = model.model.history(mu)
    a = model.predict(mu)["u"]
    b = model.predict(mu, history=LoadHistory.from_dict(history.to_dict()))["u"]
    assert np.array_equal(a, b)


@pytest.mark.slow
def test_offline_on_two_dask_workers_equals_in_process(plate_dataset) -> None:
    from nirom.surrogates.hrom import HROMSurrogate

    ds, ids = plate_dataset.dataset, plate_dataset.ids[:4]
    dask_model = HROMSurrogate(tolerance=1e-6, workers=2).fit(ds, ids)
    here, there = plate_dataset.model.model, dask_model.model
    assert np.array_equal(here.points, there.points)
    assert np.allclose(here.weights, there.weights, rtol=1e-10)
    mu = ds.parameter_sets([plate_dataset.ids[4]])[0]
    a, b = plate_dataset.model.predict(mu), dask_model.predict(mu)
    assert _rel(b["u"], a["u"]) < 1e-10


def test_pod_surrogate_predicts_quadrature_fields_of_the_same_data(plate_dataset) -> None:
    """pod-rbf on the same mechanics dataset (the comparison the benchmark prints)."""
    from nirom.surrogates.pod import PODSurrogate

    ds = plate_dataset.dataset
    model = PODSurrogate(regressor="rbf", energy=1e-6).fit(ds, plate_dataset.ids[:4])
    out = model.predict(ds.parameters(plate_dataset.ids[4:]))
    assert out["p_qp"].shape == (1, *ds.field_shape("p_qp"))
    assert out["sigma_qp"].shape == (1, *ds.field_shape("sigma_qp"))


def test_thick_cylinder_pressure_and_j2_plasticity(tmp_path: Path) -> None:
    """Another case: pressure loading (its `pressure` parameter), a table amplitude, J2 law."""
    from nirom.surrogates.hrom import HROMSurrogate

    ds = generate(
        "thick-cylinder",
        tmp_path / "cyl.nirom",
        5,
        workers=0,
        solver_options={"resolution": 3, "steps": 8},
        console=Console(quiet=True),
    ).dataset
    ids = ds.sample_ids()
    model = HROMSurrogate(tolerance=1e-7).fit(ds, ids[:4])
    assert model.model.loading.parameters == ["pressure"]
    assert model.model.law_name == "plasticity"
    sample = ds.sample(ids[4])
    out = model.predict(ds.parameter_sets([ids[4]])[0])
    assert _rel(out["u"], sample.fields["u"]) < 1e-3


def _as_another_code_writes_it(ds: Dataset, path: Path, seed: int = 0) -> Dataset:
    """The dataset as another code would write it: its points in another order, its cells
    shuffled, a zero z component on u (dolfinx writes 2D vectors with three), nodal u and p
    only (no quadrature fields), and no record of the solver."""
    from nirom.dataset import FieldSpec
    from nirom.mesh import Mesh

    rng = np.random.default_rng(seed)
    perm = rng.permutation(ds.mesh.n_points)  # new node k is old node perm[k]
    ((cell_type, conn),) = ds.mesh.cells
    mesh = Mesh(
        ds.mesh.points[perm], [(cell_type, np.argsort(perm)[conn][rng.permutation(len(conn))])]
    )
    u, p = ds.fields["u"], ds.fields["p"]
    fields = [FieldSpec("u", "point", 3, u.times, u.unit), p]
    out = Dataset.create(path, ds.space, fields, mesh)
    for i in ds.sample_ids():
        sample = ds.sample(i)
        u3 = np.concatenate([sample.fields["u"], np.zeros((*sample.fields["u"].shape[:-1], 1))], -1)
        out.append(sample.mu, {"u": u3[:, perm], "p": sample.fields["p"][:, perm]})
    return out


def test_a_dataset_in_another_node_order_with_a_zero_z_gives_the_same_model(
    plate_dataset, tmp_path: Path
) -> None:
    """Matched by coordinates, the z component dropped and put back: the same reduced model,
    its predictions in the foreign dataset's order and components."""
    from nirom.surrogates.hrom import HROMSurrogate

    ds, ids, model = plate_dataset.dataset, plate_dataset.ids, plate_dataset.model
    foreign = _as_another_code_writes_it(ds, tmp_path / "foreign.nirom")
    with pytest.raises(DatasetError, match="no reproducible solver recorded"):
        HROMSurrogate(tolerance=1e-6).fit(foreign, foreign.sample_ids()[:4])
    case = make_solver("plate-hole", {"resolution": 3, "steps_per_cycle": 8, "cycles": 1})
    other = HROMSurrogate(tolerance=1e-6).fit(foreign, foreign.sample_ids()[:4], case=case)
    assert other.model.n_modes == model.model.n_modes
    assert set(other.fields_) == {"u", "p", "indicator"}
    mu = ds.parameter_sets([ids[4]])[0]
    ours, theirs = model.predict(mu), other.predict(mu)
    sample = foreign.sample(foreign.sample_ids()[4])
    assert theirs["u"].shape == sample.fields["u"].shape and not theirs["u"][..., 2].any()
    back = np.argsort(np.random.default_rng(0).permutation(ds.mesh.n_points))  # to ds's order
    assert _rel(theirs["u"][:, back, :2], ours["u"]) < 1e-8
    assert _rel(theirs["p"], sample.fields["p"]) < 0.2
    other.save(tmp_path / "foreign.model")
    again = Surrogate.load(tmp_path / "foreign.model").predict(mu)
    assert np.array_equal(again["u"], theirs["u"])


def test_the_loading_of_models_saved_with_one_load_parameter_still_reads() -> None:
    """Before load scales per term, a model saved the nominal history and one parameter
    scaling every force term; it reads back to the same histories."""
    from nirom.hyperreduction.loading import ParametricLoading

    case = make_solver("plate-hole", {"resolution": 3, "steps_per_cycle": 8, "cycles": 1})
    nominal = case.history(case.values({})).to_dict()
    old = {"nominal": nominal, "parameter": "load", "nominal_value": 110.0}
    loading = ParametricLoading.from_dict(old)
    for load in (80.0, 110.0, 140.0):
        expected = case.history(case.values({"load": load})).to_dict()
        assert loading.history({"load": load}).to_dict() == expected
    assert loading.history({}).to_dict() == nominal
    assert ParametricLoading.from_dict(loading.to_dict()).to_dict() == loading.to_dict()


def test_the_cubature_chosen_for_an_accuracy_meets_it_on_the_training_histories(
    plate_dataset,
) -> None:
    """With four training histories (all of them checked), every one is reproduced within
    the asked accuracy, or twice the every-point model's error where that is larger."""
    ds, ids, model = plate_dataset.dataset, plate_dataset.ids, plate_dataset.model
    sizing = model.model.info["cubature_sizing"]
    assert sizing["met"] and sizing["candidates"][-1]["accepted"]
    limit = max(sizing["accuracy"], 2 * sizing["every_point"]["u_error"])
    mass = ds.mesh.mass_matrix()
    for i in ids[:4]:
        out = model.predict(ds.parameter_sets([i])[0])
        ref = ds.sample(i).fields["u"]
        err = np.sqrt(
            sum(
                float(d @ (mass @ d))
                for d in (out["u"] - ref).transpose(0, 2, 1).reshape(-1, ref.shape[1])
            )
            / sum(float(v @ (mass @ v)) for v in ref.transpose(0, 2, 1).reshape(-1, ref.shape[1]))
        )
        assert err <= limit * 1.001, (i, err, limit)
    looser = [c for c in sizing["candidates"] if not c["accepted"]]
    assert all(c["points"] < sizing["candidates"][-1]["points"] for c in looser)


def test_the_service_takes_a_load_history_and_times(plate_dataset) -> None:
    """A request with ``history`` and ``times`` (the context hrom declares) is answered as
    ``predict(mu, history=..., times=...)``; a malformed one is a one-line 422."""
    from nirom.serve.app import Predictor, RequestError

    ds, model = plate_dataset.dataset, plate_dataset.model
    mu = ds.parameter_sets([plate_dataset.ids[0]])[0]
    history = model.model.history({**mu, "load": 1.5 * mu["load"]}).to_dict()
    times = [float(t) for t in model.model.times[::2]]
    predictor = Predictor(model)
    body = predictor.check({"parameters": mu, "history": history, "times": times, "std": False})
    answer = predictor.predict(body)
    expected = model.predict(mu, history=history, times=times)
    for name in ("u", "indicator"):
        np.testing.assert_array_equal(np.asarray(answer["fields"][name]), expected[name])
    with pytest.raises(RequestError, match="'times' must be a list of numbers"):
        predictor.predict(predictor.check({"parameters": mu, "times": "soon"}))
    with pytest.raises(RequestError, match="unknown key"):
        predictor.check({"parameters": mu, "mesh": {}})


def test_refinement_scores_an_hrom_by_its_indicator(plate_dataset) -> None:
    """A model without error bars that declares an error indicator is scored by it."""
    from nirom.refinement import uncertainty

    ds, model = plate_dataset.dataset, plate_dataset.model
    x = ds.parameters(plate_dataset.ids[:3])
    expected = model.predict(x)["indicator"].reshape(3, -1).max(axis=1)
    np.testing.assert_array_equal(uncertainty(model, x), expected)
