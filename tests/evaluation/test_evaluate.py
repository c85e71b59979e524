"""evaluate: fields one by one, and references of zero norm reported per field and sample."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from rich.console import Console

from nirom.errors import FieldError
from nirom.evaluation import evaluate, l2_norms, relative_l2
from nirom.evaluation.evaluate import zero_references
from nirom.report.terminal import print_evaluation


def test_only_the_named_fields_are_evaluated(reordered: SimpleNamespace) -> None:
    report = evaluate(reordered.model, reordered.test, fields=["v", "u", "v"], n_timing=2)
    assert list(report["fields"]) == ["v", "u"]
    assert "not_predicted" not in report
    whole = evaluate(reordered.model, reordered.test, n_timing=2)
    assert list(whole["fields"]) == ["u", "v", "s", "p", "g"]
    assert report["fields"]["u"] == whole["fields"]["u"]


def test_an_unknown_field_is_refused_naming_the_model_s_fields(
    reordered: SimpleNamespace,
) -> None:
    with pytest.raises(FieldError) as excinfo:
        evaluate(reordered.model, reordered.test, fields=["u", "sigma"])
    assert str(excinfo.value) == "no field 'sigma' in the model; its fields: u, v, s, p, g"


def test_a_zero_reference_is_reported_not_fatal(reordered: SimpleNamespace) -> None:
    test, model = reordered.test, reordered.model
    report = evaluate(model, test, n_timing=2)
    p = report["fields"]["p"]
    # p = 0 in the samples with a < 0.5: ids 0 and 2 of the test set
    assert p["zero_reference"] == 2
    assert p["zero_reference_samples"] == [0, 2]
    ref, pred = test.field("p"), model.predict(test.parameters())["p"]
    mass = test.mesh.mass_matrix()
    kept = relative_l2(pred[[1, 3]], ref[[1, 3]], mass=mass)
    assert p["relative_l2"]["mean"] == pytest.approx(kept.mean(), rel=1e-12)
    assert p["relative_l2"]["max"] == pytest.approx(kept.max(), rel=1e-12)
    absolute = l2_norms(pred[[0, 2]], mass)
    assert absolute.max() > 0  # the model errs there, so the absolute error means something
    assert p["absolute_l2"]["mean"] == pytest.approx(absolute.mean(), rel=1e-12)
    assert report["fields"]["u"]["zero_reference"] == 0
    assert "zero_reference_samples" not in report["fields"]["u"]


def test_a_field_zero_in_every_sample_has_no_relative_figures(
    reordered: SimpleNamespace,
) -> None:
    ids = [0, 2]  # p = 0 in both
    report = evaluate(reordered.model, reordered.test, ids=ids, fields=["p"], n_timing=2)
    p = report["fields"]["p"]
    assert p["relative_l2"] is None and p["rrmse"] is None
    assert p["zero_reference"] == 2 and p["absolute_l2"]["max"] > 0
    console = Console(record=True, width=140)
    print_evaluation(report, "rbf", console)
    text = console.export_text()
    assert "p *" in text
    assert "* p: the reference is zero in 2 of 2 samples (0, 2), left out of its relative" in text


def test_the_terminal_table_flags_the_field(reordered: SimpleNamespace) -> None:
    report = evaluate(reordered.model, reordered.test, n_timing=2)
    console = Console(record=True, width=140)
    print_evaluation(report, "rbf", console)
    text = console.export_text()
    assert "* p: the reference is zero in 2 of 4 samples (0, 2)" in text
    assert "u *" not in text


def test_zero_references_are_relative_to_the_largest() -> None:
    norms = np.array([0.0, 1e-20, 1e-3, 2.0])
    np.testing.assert_array_equal(zero_references(norms), [True, True, False, False])
    np.testing.assert_array_equal(zero_references(np.zeros(3)), [True, True, True])


def test_the_speed_up_says_what_it_compares(small_block: SimpleNamespace) -> None:
    """By default the solve times recorded at generation; with time_solves the recorded
    solver solves the test samples again in this run, and both times are from this run."""
    recorded = evaluate(small_block.gp, small_block.test, n_timing=2)["timing"]
    assert recorded["solve_source"] == "recorded at generation (16 samples)"
    assert recorded["solve_s"] == pytest.approx(np.median(small_block.test.solve_times()))
    now = evaluate(small_block.gp, small_block.test, time_solves=2)["timing"]
    assert now["solve_source"] == "timed in this run (2 samples, thermal-block)"
    assert now["speedup"] == pytest.approx(now["solve_s"] / now["predict_s"])
    assert now["solve_s"] > 0 and now["predict_s"] > 0


def test_time_solves_needs_a_recorded_solver(reordered: SimpleNamespace) -> None:
    from nirom.errors import DatasetError

    with pytest.raises(DatasetError, match="no reproducible solver recorded"):
        evaluate(reordered.model, reordered.test, time_solves=1)
