"""Adaptive sampling: batches where the surrogate is least certain, solved and refitted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from nirom import DatasetError, generate
from nirom.cli import main
from nirom.refinement import refine, select_points, uncertainty
from nirom.surrogates import PODSurrogate

QUIET = Console(quiet=True)
OPTIONS = {"nx_blocks": 2, "ny_blocks": 2, "resolution": 12}


@pytest.fixture
def start(tmp_path: Path):
    ds = generate(
        "thermal-block", tmp_path / "tb", 12, workers=0, solver_options=OPTIONS, console=QUIET
    ).dataset
    model = PODSurrogate(regressor="gp", energy=1e-4, regressor_params={"n_restarts": 1}).fit(ds)
    return ds, model


def test_batch_is_uncertain_and_spread_out(start) -> None:
    ds, model = start
    points = select_points(model, 6, ds.parameters(), n_candidates=512, seed=3)
    assert points.shape == (6, 4)
    model.space_.validate_array(points)  # inside the bounds
    candidates = model.space_.sample(512, "sobol", seed=3)
    scores = uncertainty(model, candidates)
    assert uncertainty(model, points).min() > np.median(scores)
    u = model.space_.to_unit(points)
    gaps = np.linalg.norm(u[:, None] - u[None], axis=-1)[np.triu_indices(6, 1)]
    assert gaps.min() > 0.05  # not six copies of one point


def test_refine_solves_the_batch_and_reduces_uncertainty_there(start) -> None:
    ds, model = start
    report = refine(ds, model, 4, n_candidates=512, workers=0, console=QUIET)
    assert report.ids == [12, 13, 14, 15]
    assert ds.sample_ids() == list(range(16))
    np.testing.assert_allclose(ds.parameters([12, 13, 14, 15]), report.points)
    assert report.model.training_ids_ == list(range(16))
    before = uncertainty(model, report.points)
    after = uncertainty(report.model, report.points)
    assert np.all(after < before)


def test_growing_the_design_after_refine_is_refused(start) -> None:
    ds, model = start
    refine(ds, model, 2, n_candidates=256, workers=0, console=QUIET)
    with pytest.raises(DatasetError, match="sample 12 holds other parameters than design point"):
        generate("thermal-block", ds.path, 14, workers=0, solver_options=OPTIONS, console=QUIET)


def test_cli_refine(start, tmp_path: Path, capsys) -> None:
    ds, model = start
    model.save(tmp_path / "m")
    args = [
        "refine",
        str(ds.path),
        str(tmp_path / "m"),
        "-n",
        "3",
        "-w",
        "0",
        "--candidates",
        "256",
    ]
    assert main(args) == 0
    assert "Refined: solved 3, failed 0 (ids 12..14); refitted on 15 samples" in " ".join(
        capsys.readouterr().out.split()
    )
    rbf = PODSurrogate(regressor="rbf").fit(ds)
    rbf.save(tmp_path / "rbf")
    assert main(["refine", str(ds.path), str(tmp_path / "rbf"), "-n", "1", "-w", "0"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: refine needs a model with error bars or an error indicator")
