"""The rb surrogate: greedy training, fit from a dataset, save/load, evaluate, bad input."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from rich.console import Console

from nirom import Dataset, generate
from nirom.errors import DatasetError, ModelError
from nirom.evaluation.evaluate import evaluate
from nirom.reduced_basis import weak_greedy
from nirom.surrogates import Surrogate, make_surrogate
from nirom.surrogates.reduced_basis import RBSurrogate

OPTIONS = {"resolution": 12}


@pytest.fixture(scope="module")
def greedy(tmp_path_factory):
    path = tmp_path_factory.mktemp("rb") / "greedy.nirom"
    return weak_greedy(
        "thermal-block", path, max_basis=8, n_candidates=200, seed=0, solver_options=OPTIONS
    )


@pytest.fixture(scope="module")
def test_set(tmp_path_factory):
    path = tmp_path_factory.mktemp("rb") / "test.nirom"
    return generate(
        "thermal-block",
        path,
        6,
        design="random",
        seed=7,
        workers=0,
        solver_options=OPTIONS,
        operators=True,
        console=Console(quiet=True),
    ).dataset


def test_greedy_appends_solves_and_resumes(greedy):
    assert greedy.solved == 8 and len(greedy.dataset) == 8
    assert greedy.dataset.system(5).matrix.shape[0] == greedy.model.free.size
    more = weak_greedy(
        "thermal-block",
        greedy.dataset.path,
        max_basis=9,
        n_candidates=200,
        seed=0,
        solver_options=OPTIONS,
    )
    assert (more.resumed, more.solved, more.model.n_basis) == (8, 1, 9)
    with pytest.raises(DatasetError, match="not made by this greedy"):
        weak_greedy(
            "thermal-block",
            greedy.dataset.path,
            max_basis=9,
            n_candidates=50,
            solver_options=OPTIONS,
        )


def test_save_load_identical_in_a_fresh_process(greedy, test_set, tmp_path):
    model = RBSurrogate.from_greedy(greedy)
    x = test_set.parameters()
    fields, bounds = model.predict_with_bound(x)
    model.save(tmp_path / "model")
    script = (
        "import sys, numpy as np\n"
        "from nirom.surrogates import Surrogate\n"
        "m = Surrogate.load(sys.argv[1]); x = np.load(sys.argv[2])\n"
        "f, b = m.predict_with_bound(x)\n"
        "np.savez(sys.argv[3], u=f['u'], l2=b['l2'])\n"
    )
    np.save(tmp_path / "x.npy", x)
    subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            str(tmp_path / "model"),
            str(tmp_path / "x.npy"),
            str(tmp_path / "out.npz"),
        ],
        check=True,
    )
    out = np.load(tmp_path / "out.npz")
    np.testing.assert_array_equal(out["u"], fields["u"])
    np.testing.assert_array_equal(out["l2"], bounds["l2"])


def test_evaluate_reports_the_bound(greedy, test_set):
    model = RBSurrogate.from_greedy(greedy)
    report = evaluate(model, test_set, n_timing=3)
    bound = report["fields"]["u"]["bound"]
    assert bound["bounded_fraction"] == 1.0
    assert bound["effectivity"]["min"] >= 1.0
    with pytest.raises(ModelError, match="no error bars"):
        model.predict(test_set.parameters(), return_std=True)


def test_fit_from_a_dataset_with_operators(test_set, greedy):
    # POD-Galerkin on every greedy snapshot spans the greedy basis: same Galerkin solution.
    model = make_surrogate("rb").fit(greedy.dataset)
    again = weak_greedy(
        "thermal-block", greedy.dataset.path, max_basis=9, n_candidates=200, solver_options=OPTIONS
    )
    assert again.solved == 0 and model.model_.n_basis == again.model.n_basis
    x = test_set.parameters()
    expected = RBSurrogate.from_greedy(again).predict(x)["u"]
    np.testing.assert_allclose(model.predict(x)["u"], expected, rtol=1e-8, atol=1e-12)
    exact = test_set.field("u")
    full = make_surrogate("rb").fit(test_set)  # its own samples are reproduced
    np.testing.assert_allclose(full.predict(x)["u"], exact, atol=1e-10)


def test_dataset_without_operators_is_a_one_line_error(tmp_path):
    plain = generate(
        "thermal-block",
        tmp_path / "plain",
        3,
        workers=0,
        solver_options=OPTIONS,
        console=Console(quiet=True),
    ).dataset
    with pytest.raises(DatasetError, match="has no operators") as info:
        make_surrogate("rb").fit(Dataset(plain.path))
    assert "\n" not in str(info.value)
    assert isinstance(Surrogate, type)


def test_black_box_path_matches_the_affine_one(test_set, tmp_path):
    """Interpolation from the stored matrices alone gives the affine path's model."""
    train = generate(
        "thermal-block",
        tmp_path / "train",
        12,
        workers=0,
        solver_options=OPTIONS,
        operators=True,
        console=Console(quiet=True),
    ).dataset
    affine = make_surrogate("rb").fit(train)
    eim = make_surrogate("rb", operator="eim").fit(train)
    with pytest.raises(ModelError, match="at least 10 samples"):
        make_surrogate("rb", operator="eim").fit(train, train.sample_ids()[:9])
    assert "9 operator (interpolated)" in eim.summary()
    x = test_set.parameters()
    np.testing.assert_allclose(eim.predict(x)["u"], affine.predict(x)["u"], rtol=1e-6, atol=1e-12)
    # its terms are the blocks' stiffness matrices again (PSD): certified by min-theta
    _, bound = eim.predict_with_bound(x)
    _, exact_bound = affine.predict_with_bound(x)
    assert eim.model_.certified
    np.testing.assert_allclose(bound["alpha"], exact_bound["alpha"], rtol=1e-9)
    np.testing.assert_allclose(bound["energy"], exact_bound["energy"], rtol=1e-6)
    errors = np.sqrt(
        np.einsum(
            "ij,ij->i",
            eim.predict(x)["u"] - test_set.field("u"),
            (test_set.mesh.mass_matrix() @ (eim.predict(x)["u"] - test_set.field("u")).T).T,
        )
    )
    assert np.all(bound["l2"] >= errors)
