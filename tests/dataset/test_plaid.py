"""PLAID round trip: a tensile2d dataset nirom writes, exported with pyplaid and read back."""

import numpy as np
import pytest

from nirom.dataset import Dataset
from nirom.dataset.plaid import export_plaid, import_plaid
from nirom.errors import DatasetError
from nirom.generation import generate

pytest.importorskip("plaid")


def test_round_trip_through_plaid(tmp_path):
    generate("tensile2d", tmp_path / "ds", 3, seed=2, workers=0, solver_options={"mesh_size": 0.3})
    ds = Dataset(tmp_path / "ds")
    export_plaid(ds, tmp_path / "plaid")
    assert len(list((tmp_path / "plaid" / "samples").iterdir())) == 3
    back = import_plaid(tmp_path / "plaid", tmp_path / "back", inputs=ds.space.scalar_names)
    assert back.per_sample_mesh and back.space.scalar_names == ds.space.scalar_names
    assert {n: (s.location, s.components) for n, s in back.fields.items()} == {
        n: (s.location, s.components) for n, s in ds.fields.items()
    }
    for i in range(3):
        a, b = ds.sample(i), back.sample(i)
        np.testing.assert_array_equal(a.mesh.points, b.mesh.points)
        np.testing.assert_array_equal(a.mesh.cells[0][1], b.mesh.cells[0][1])
        for name in ds.fields:
            np.testing.assert_array_equal(a.fields[name], b.fields[name])
        assert all(a.mu[n] == b.mu[n] for n in ds.space.scalar_names)
    with pytest.raises(DatasetError, match="'Q'"):
        import_plaid(tmp_path / "plaid", tmp_path / "again", inputs=["Q"])


def test_cli_round_trip(tmp_path):
    from nirom.cli import main

    generate("tensile2d", tmp_path / "ds", 2, seed=4, workers=0, solver_options={"mesh_size": 0.3})
    assert main(["plaid-export", str(tmp_path / "ds"), "--out", str(tmp_path / "plaid")]) == 0
    names = Dataset(tmp_path / "ds").space.scalar_names
    args = ["plaid-import", str(tmp_path / "plaid"), "--out", str(tmp_path / "back")]
    assert main([*args, *[f"--input={n}" for n in names]]) == 0
    assert Dataset(tmp_path / "back").counts()["done"] == 2
    assert main(["plaid-export", str(tmp_path / "ds"), "--out", str(tmp_path / "plaid")]) == 1
