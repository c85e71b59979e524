"""One check suite over every model name of the registry, as scikit-learn's estimator checks:
fit on a tiny dataset of the kind it needs, predict one set and a batch (equal), save and
load in a fresh process (identical), clone, model card, the service's batched path, and
``evaluate``. A kind added to the registry is checked here without a test of its own: the
dataset it fits on is the first candidate its own ``check_data`` accepts, the request
context it needs is built from that dataset by name (``mesh``: the sample's mesh)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from nirom import Dataset, FieldSpec, Mesh, ParameterSpace
from nirom.errors import DatasetError, ModelError
from nirom.estimator import clone
from nirom.evaluation import evaluate
from nirom.generation import generate
from nirom.parameters import FieldInput
from nirom.report.card import model_card
from nirom.saving import registry
from nirom.serve.app import Predictor
from nirom.surrogates import Surrogate, make_surrogate
from nirom.surrogates.factory import MODELS, hyperparameters

QUIET = Console(quiet=True)
#: options that make any kind that has them fit in seconds (applied by name, not by kind;
#: n_clusters: hrom-dictionary with two local models, one per training history)
FAST = {
    "epochs": 3,
    "n_restarts": 0,
    "refine": 1,
    "geometry_modes": 2,
    "patience": 2,
    "n_clusters": 2,
}
FAST_REGRESSOR = {"mlp": {"epochs": 30, "hidden": (8,)}, "gp": {"n_restarts": 0}}


def _grid_dataset(path: Path, n_samples: int = 10, n: int = 32) -> Dataset:
    """Field input u0 on a 1D grid -> u, a smoothed copy (the heat semigroup's shape)."""
    x = np.arange(n) / n
    mesh = Mesh(np.column_stack([x, np.zeros(n)]), [("line", np.c_[0 : n - 1, 1:n])])
    ds = Dataset.create(
        path, ParameterSpace([FieldInput("u0", (n,))]), [FieldSpec("u", "point")], mesh
    )
    rng = np.random.default_rng(0)
    for _ in range(n_samples):
        u0 = rng.normal(size=n)
        ds.append({"u0": u0}, {"u": np.convolve(u0, np.ones(3) / 3, mode="same")})
    return ds


@pytest.fixture(scope="module")
def candidates(tmp_path_factory) -> list[Dataset]:
    """One tiny dataset of each kind of data the kinds need."""
    root = tmp_path_factory.mktemp("contract")

    def make(solver, name, n, options):
        return generate(
            solver, root / name, n, workers=0, solver_options=options, console=QUIET,
            operators=solver == "thermal-block",
        ).dataset  # fmt: skip

    return [
        make("thermal-block", "tb.nirom", 12, {"nx_blocks": 2, "ny_blocks": 2, "resolution": 6}),
        _grid_dataset(root / "grid.nirom"),
        make("tensile2d", "tensile.nirom", 6, {"mesh_size": 0.25}),
        make("plate-hole", "plate.nirom", 3, {"resolution": 3, "steps_per_cycle": 6, "cycles": 1}),
    ]


def _fast_model(name: str) -> Surrogate:
    spec = MODELS[name]
    known = hyperparameters(spec.cls())
    params = {k: v for k, v in FAST.items() if k in known and k not in spec.fixed}
    regressor = spec.fixed.get("regressor")
    if regressor in FAST_REGRESSOR and "regressor_params" in known:
        params["regressor_params"] = FAST_REGRESSOR[regressor]
    return make_surrogate(name, **params)


def _data_for(model: Surrogate, candidates: list[Dataset]) -> Dataset:
    for ds in candidates:
        try:
            model.check_data(ds)
        except DatasetError:
            continue
        return ds
    pytest.fail(f"no candidate dataset meets {model.label}'s needs: add one to `candidates`")


def _context(model: Surrogate, ds: Dataset, sample: int) -> dict:
    return {"mesh": ds.sample(sample).mesh} if "mesh" in model.capabilities.needs else {}


def _mu(model: Surrogate, ds: Dataset, sample: int) -> dict:
    mu = ds.sample(sample).mu
    return {name: mu[name] for name in model.space_.names}


def test_every_registered_kind_has_a_model_name() -> None:
    assert set(registry("surrogate")) == {spec.kind for spec in MODELS.values()}


@pytest.fixture(scope="module", params=list(MODELS))
def fitted(request, candidates):
    model = _fast_model(request.param)
    ds = _data_for(model, candidates)
    return model.fit(ds, ds.sample_ids()[:-1]), ds


def _equal(a: dict, b: dict) -> None:
    """Equal to the round-off of float32 networks (a batch of one and of two rows may take
    other BLAS kernels)."""
    assert a.keys() == b.keys()
    for k in a:
        scale = float(np.max(np.abs(b[k]), initial=0.0))
        np.testing.assert_allclose(np.asarray(a[k]), np.asarray(b[k]), rtol=0, atol=1e-6 * scale)


def test_predicts_one_set_as_the_same_set_in_a_batch(fitted) -> None:
    model, ds = fitted
    last = ds.sample_ids()[-1]
    mu, context = _mu(model, ds, last), _context(model, ds, last)
    one = model.predict(mu, **context)
    batch = model.predict([mu, mu], **context)
    _equal(one, {k: v[0] for k, v in batch.items()})
    _equal(one, {k: v[1] for k, v in batch.items()})
    caps = model.capabilities
    if caps.std:
        mean, std = model.predict(mu, return_std=True, **context)
        _equal(mean, one)
        assert all(np.all(np.asarray(v) >= 0) for v in std.values())
    else:
        with pytest.raises(ModelError, match="has no error bars"):
            model.predict(mu, return_std=True, **context)
    if caps.bound:
        _, bounds = model.predict(mu, return_bound=True, **context)
        assert all(np.all(b["l2"] >= 0) for b in bounds.values())
    with pytest.raises(ModelError, match="takes no"):
        model.predict(mu, unknown_context=1, **context)


_FRESH = """
import json, sys
import numpy as np
from nirom import Dataset
from nirom.surrogates import Surrogate
model = Surrogate.load(sys.argv[1])
ds, sample = Dataset(sys.argv[2]), int(sys.argv[3])
mu = {name: ds.sample(sample).mu[name] for name in model.space_.names}
context = {"mesh": ds.sample(sample).mesh} if "mesh" in model.capabilities.needs else {}
np.savez(sys.argv[4], **model.predict(mu, **context))
"""


def test_save_and_load_in_a_fresh_process_predicts_identically(fitted, tmp_path) -> None:
    model, ds = fitted
    last = ds.sample_ids()[-1]
    path = model.save(tmp_path / "m.model")
    out = tmp_path / "fresh.npz"
    subprocess.run(
        [sys.executable, "-c", _FRESH, str(path), str(ds.path), str(last), str(out)], check=True
    )
    here = model.predict(_mu(model, ds, last), **_context(model, ds, last))
    with np.load(out) as fresh:
        for k, v in here.items():
            np.testing.assert_array_equal(fresh[k], v)
    loaded = Surrogate.load(path)
    assert loaded.params_to_json() == model.params_to_json()
    assert loaded.training_ids_ == model.training_ids_
    card = model_card(loaded, path)
    assert card["kind"] == model.kind and card["error_bars"] == model.capabilities.std
    assert card["training_samples"] == len(model.training_ids_)
    json.dumps(card)


def test_clone_is_unfitted_with_the_same_hyperparameters(fitted) -> None:
    model, ds = fitted
    twin = clone(model)
    assert twin.get_params() == model.get_params()
    with pytest.raises(ModelError, match="not fitted"):
        twin.predict(_mu(model, ds, 0), **_context(model, ds, 0))


def _json_context(context: dict) -> dict:
    """A request's context as JSON sends it (a mesh as points and cells)."""
    out = dict(context)
    if "mesh" in out:
        mesh = out["mesh"]
        out["mesh"] = {
            "points": mesh.points.tolist(),
            "cells": [[kind, conn.tolist()] for kind, conn in mesh.cells],
        }
    return out


def test_the_service_answers_as_predict(fitted) -> None:
    """The batched path (sets without context) and a request with its context (a mesh)."""
    model, ds = fitted
    last = ds.sample_ids()[-1]
    mu, context = _mu(model, ds, last), _context(model, ds, last)
    body = {"parameters": {k: np.asarray(v).tolist() for k, v in mu.items()}}
    body.update(_json_context(context))
    predictor = Predictor(model)
    answer = predictor.predict(predictor.check(body))
    if not context:
        (batched,) = predictor.predict_many([body])
        assert batched.keys() == answer.keys()
    expected = model.predict(mu, **context)
    for name, values in answer["fields"].items():
        _equal({name: np.asarray(values)}, {name: expected[name]})


def test_evaluate_reports_every_predicted_field(fitted) -> None:
    model, ds = fitted
    report = evaluate(model, ds, ds.sample_ids()[-1:], n_timing=1)
    assert report["n_samples"] == 1 and report["fields"]
    for metrics in report["fields"].values():
        assert np.isfinite(metrics["relative_l2"]["mean"]) or "absolute_l2" in metrics


def test_fno_refuses_a_grid_too_coarse_for_its_modes_before_any_work(tmp_path) -> None:
    ds = _grid_dataset(tmp_path / "coarse.nirom", n=16)
    with pytest.raises(DatasetError) as info:
        make_surrogate("fno").fit(ds)  # default modes=16: 32 points needed
    assert (
        str(info.value)
        .splitlines()[0]
        .endswith(
            "fno keeps 16 Fourier modes per axis, which needs 32 grid points or more (padding "
            "included); axis 0 has 16: set -O modes=8"
        )
    )
