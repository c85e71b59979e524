"""The demo study runs end to end, writes what it says, and resumes."""

from __future__ import annotations

from pathlib import Path

import meshio
import numpy as np
from rich.console import Console

from nirom import Dataset
from nirom.demo import run_demo


def test_demo_fits_evaluates_plots_and_resumes(tmp_path: Path) -> None:
    console = Console(record=True, width=160)
    result = run_demo(tmp_path, n_samples=16, n_test=6, resolution=12, console=console)
    train, test = result["train"], result["test"]
    assert (len(train), len(test)) == (16, 6)
    text = console.export_text()
    assert "train.nirom: solved 16 sample(s), 0 already on disk" in text
    assert "Surrogates on 6 held-out samples" in text and "pod-gp" in text and "pod-rbf" in text
    vtu = meshio.read(tmp_path / "sample_000000.vtu")
    np.testing.assert_allclose(vtu.point_data["u"], train.field("u", [0])[0])
    for name in ("u_worst_sample.png", "u_singular_values.png", "u_error_vs_modes.png"):
        assert (tmp_path / name).stat().st_size > 10_000
    assert (tmp_path / "pod-gp.model" / "model.json").is_file()
    assert "pod-gp" in (tmp_path / "report.json").read_text()
    gp = result["reports"]["pod-gp"]["fields"]["u"]
    assert gp["relative_l2"]["mean"] < 0.5  # a working fit, even from 16 samples
    assert 0.0 <= gp["coverage"] <= 1.0

    # A larger second run solves only the new design points.
    console = Console(record=True, width=160)
    result = run_demo(tmp_path, n_samples=20, n_test=6, resolution=12, console=console)
    assert "train.nirom: solved 4 sample(s), 16 already on disk" in console.export_text()
    reopened = Dataset(train.path)
    assert reopened.sample_ids() == list(range(20))
    np.testing.assert_array_equal(reopened.parameters(), reopened.space.sample(20, "sobol", seed=0))
