"""Cross-validation and learning curves on a real (small) thermal-block study."""

from __future__ import annotations

import pytest
from rich.console import Console

from nirom import DatasetError, generate
from nirom.evaluation.validation import cross_validate, learning_curve
from nirom.surrogates import PODSurrogate

OPTIONS = {"nx_blocks": 2, "ny_blocks": 2, "resolution": 12}
QUIET = Console(quiet=True)


def factory() -> PODSurrogate:
    return PODSurrogate(regressor="gp", energy=1e-4, regressor_params={"n_restarts": 0})


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("val")
    train = generate(
        "thermal-block", root / "train", 40, workers=0, solver_options=OPTIONS, console=QUIET
    ).dataset
    test = generate(
        "thermal-block",
        root / "test",
        10,
        design="random",
        seed=1,
        workers=0,
        solver_options=OPTIONS,
        console=QUIET,
    ).dataset
    return train, test


def test_cross_validation_uses_every_sample_once(data) -> None:
    train, _ = data
    cv = cross_validate(factory, train, k=4, seed=0)
    assert cv["k"] == 4 and len(cv["folds"]) == 4
    assert sum(f["n_samples"] for f in cv["folds"]) == 40
    u = cv["fields"]["u"]
    assert 0 < u["relative_l2_mean"] < 1 and u["relative_l2_std_over_folds"] >= 0
    assert 0 <= u["coverage"] <= 1
    with pytest.raises(DatasetError, match="k must be in"):
        cross_validate(factory, train, k=1)


def test_learning_curve_error_falls_with_more_samples(data) -> None:
    train, test = data
    curve = learning_curve(factory, train, test, [8, 40])
    assert [r["n_train"] for r in curve] == [8, 40]
    errors = [r["fields"]["u"]["relative_l2"]["mean"] for r in curve]
    assert errors[1] < errors[0]
    with pytest.raises(DatasetError, match="outside"):
        learning_curve(factory, train, test, [41])


def test_an_unfitted_estimator_is_cloned_per_fold_and_matches_a_factory(data) -> None:
    train, _ = data
    model = factory()
    by_model = cross_validate(model, train, k=2, seed=3)
    by_factory = cross_validate(factory, train, k=2, seed=3)
    assert not hasattr(model, "fields_")  # each fold fitted a clone
    for a, b in zip(by_model["folds"], by_factory["folds"], strict=True):
        assert a["fields"]["u"]["relative_l2"] == b["fields"]["u"]["relative_l2"]
