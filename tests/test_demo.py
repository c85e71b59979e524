"""The demo study runs end to end, writes what it says, and resumes."""

from __future__ import annotations

from pathlib import Path

import meshio
import numpy as np
from rich.console import Console

from nirom import Dataset
from nirom.demo import run_demo


def test_demo_writes_dataset_vtu_and_plot_then_resumes(tmp_path: Path) -> None:
    console = Console(record=True, width=120)
    ds = run_demo(tmp_path, n_samples=4, resolution=12, console=console)
    assert len(ds) == 4
    assert ds.counts()["failed"] == 0
    vtu = meshio.read(tmp_path / "sample_000000.vtu")
    np.testing.assert_allclose(vtu.point_data["u"], ds.field("u", [0])[0])
    assert (tmp_path / "demo_fields.png").stat().st_size > 10_000
    assert "Solved 4 sample(s); 0 were already on disk" in console.export_text()

    # A larger second run solves only the new design points.
    console = Console(record=True, width=120)
    ds2 = run_demo(tmp_path, n_samples=6, resolution=12, console=console)
    assert "Solved 2 sample(s); 4 were already on disk" in console.export_text()
    assert ds2.sample_ids() == list(range(6))
    reopened = Dataset(ds.path)
    np.testing.assert_array_equal(reopened.parameters(), reopened.space.sample(6, "sobol", seed=0))
