"""Messages that name the right thing: the model's own name, a mismatched dataset, kept
failures, and a model that does worse than the mean."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from nirom import Dataset, generate
from nirom.cli import main
from nirom.errors import MeshError, MetricError, ModelError
from nirom.evaluation import evaluate
from nirom.surrogates import PODSurrogate

QUIET = Console(quiet=True)


def test_a_pod_rbf_model_is_named_pod_rbf(small_block) -> None:
    with pytest.raises(ModelError, match="a pod-rbf model has no error bars"):
        small_block.rbf.predict({"k_0": 1.0, "k_1": 1.0, "k_2": 1.0, "k_3": 1.0}, return_std=True)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        (
            {"resolution": 12},
            r": its parameters are \(k_0, .*k_8\), the model's \(k_0, k_1, k_2, k_3\)",
        ),
        (
            {"nx_blocks": 2, "ny_blocks": 2, "resolution": 8},
            r"'s mesh: its 81 points vs the reference's 169: the point counts differ",
        ),
    ],
)
def test_evaluating_on_another_problem_or_mesh_says_they_do_not_match(
    small_block, tmp_path: Path, options: dict, match: str
) -> None:
    other = generate(
        "thermal-block", tmp_path / "other", 2, workers=0, solver_options=options, console=QUIET
    ).dataset
    with pytest.raises((MetricError, MeshError), match="does not match the model" + match):
        evaluate(small_block.gp, other)


def test_a_rerun_reports_failures_kept_instead_of_a_nan_median(tmp_path: Path, capsys) -> None:
    args = ["generate", "thermal-block", "-n", "3", "-o", str(tmp_path / "d"), "-w", "0"]
    args += ["-s", "resolution=12", "-s", "nx_blocks=2", "-s", "ny_blocks=2"]
    assert main(args) == 0
    ds = Dataset(tmp_path / "d")
    row = ds.space.sample(4, "sobol", seed=0)[3]
    ds.record_failure(ds.space.as_dict(row), "diverged", sample_id=3)
    capsys.readouterr()
    assert main([*args[:3], "4", *args[4:]]) == 0
    out = " ".join(capsys.readouterr().out.split())  # the console wraps lines
    assert "nan" not in out
    assert "solved 0, failed 0, already on disk 4" in out
    assert "1 sample(s) recorded as failed before were left failed: --retry-failed" in out


def test_evaluate_warns_when_the_model_is_worse_than_the_mean(
    small_block, tmp_path: Path, capsys
) -> None:
    poor = PODSurrogate(regressor="rbf", n_modes=2).fit(small_block.train, ids=[0, 1, 2, 3, 4])
    poor.save(tmp_path / "poor.model")
    test = str(small_block.test.path)
    assert main(["evaluate", str(tmp_path / "poor.model"), test]) == 0
    out = " ".join(capsys.readouterr().out.split())
    report = evaluate(poor, small_block.test)
    assert report["fields"]["u"]["r2"] < 0
    assert "warning: field 'u': R2 = " in out and "worse than predicting" in out
    # A good model gets no warning, and its R2 is near 1.
    assert main(["evaluate", str(small_block.gp_path), test]) == 0
    assert "warning" not in capsys.readouterr().out
    assert evaluate(small_block.gp, small_block.test)["fields"]["u"]["r2"] > 0.99
    assert np.isfinite(report["fields"]["u"]["relative_l2"]["mean"])
