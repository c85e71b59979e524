"""Every model kind checks, before any work, that a dataset is the kind of data it needs and
holds enough samples for it, and says in one line what is needed."""

import time

import pytest
from rich.console import Console

from nirom.cli import main
from nirom.errors import DatasetError, ParameterError
from nirom.generation import generate
from nirom.regression.rbf import RBFRegressor
from nirom.surrogates.factory import make_surrogate

QUIET = Console(quiet=True)
BLOCK_3X3 = {"nx_blocks": 3, "ny_blocks": 3, "resolution": 6}


@pytest.fixture(scope="module")
def block9(tmp_path_factory):
    """A 9-parameter thermal block with 8 done samples: too few for pod-rbf's linear tail."""
    path = tmp_path_factory.mktemp("needs") / "tb.nirom"
    return generate("thermal-block", path, 8, workers=0, solver_options=BLOCK_3X3, console=QUIET)


@pytest.fixture(scope="module")
def dataset(block9):
    return block9.dataset


def test_rbf_regressor_names_the_samples_it_needs():
    import numpy as np

    rng = np.random.default_rng(0)
    with pytest.raises(ParameterError) as info:
        RBFRegressor().fit(rng.random((8, 9)), rng.random((8, 2)))
    assert str(info.value).splitlines()[0].startswith("RBF interpolation needs 10 samples or more")


def test_pod_rbf_on_too_few_samples_is_one_line(dataset):
    with pytest.raises(DatasetError) as info:
        make_surrogate("pod-rbf").fit(dataset)
    text = str(info.value)
    assert len(text.splitlines()) == 1
    assert "pod-rbf needs at least 10 done samples" in text and "got 8" in text


def test_pod_gp_fits_the_same_samples(dataset):
    model = make_surrogate("pod-gp", regressor_params={"n_restarts": 0}).fit(dataset)
    assert len(model.training_ids_) == 8


def test_cli_fit_pod_rbf_prints_one_line(dataset, capsys, tmp_path):
    out = tmp_path / "rbf.model"
    assert main(["fit", str(dataset.path), "--model", "pod-rbf", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "needs at least 10 done samples" in err


@pytest.mark.parametrize(
    ("kind", "needed"),
    [
        ("mmgp", "mmgp needs a mesh per sample"),
        ("rb", "has no operators; generate it with --operators for rb"),
        ("hrom", "a hyper-reduced model needs a displacement time series 'u'"),
        ("fno", "a neural operator needs field inputs on one grid"),
    ],
)
def test_kind_of_data_refused_before_any_work(dataset, kind, needed):
    model = make_surrogate(kind)
    start = time.perf_counter()
    with pytest.raises(DatasetError) as info:
        model.check_data(dataset)
    assert needed in str(info.value).splitlines()[0]
    with pytest.raises(DatasetError, match=needed):
        model.fit(dataset)
    # Refused from the description alone, never after building anything: mmgp on this
    # dataset used to run for minutes and save a model.
    assert time.perf_counter() - start < 30
    assert not hasattr(model, "training_ids_")


def test_cli_fit_mmgp_on_a_fixed_mesh_is_one_line(dataset, capsys, tmp_path):
    out = tmp_path / "m.model"
    assert main(["fit", str(dataset.path), "--model", "mmgp", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "mmgp needs a mesh per sample" in err
    assert not out.exists()


def test_study_checks_every_model_before_fitting_the_first(tmp_path):
    from nirom.study import run_study

    config = {  # as load_study reads a study file
        "_base": str(tmp_path),
        "out": "s",
        "solver": {"name": "thermal-block", "options": BLOCK_3X3},
        "train": {"samples": 8, "design": "sobol", "seed": 0},
        "generation": {"workers": 0},
        "surrogates": [{"model": "pod-gp"}, {"model": "pod-rbf"}],
    }
    with pytest.raises(DatasetError, match="pod-rbf needs at least 10 done samples"):
        run_study(config, console=QUIET)
    assert not (tmp_path / "s" / "pod-gp.model").exists()
