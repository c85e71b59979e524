"""Damaged done samples are findable (`nirom info --check`) and repairable (`--repair`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nirom import Dataset
from nirom.cli import main
from nirom.dataset.repair import damaged_samples

GEN = ["generate", "thermal-block", "-n", "5", "-w", "0"]
GEN += ["-s", "resolution=12", "-s", "nx_blocks=2", "-s", "ny_blocks=2"]


def _chunk(ds_path: Path, sample_id: int) -> Path:
    return ds_path / "samples" / f"s{sample_id:08d}" / "fields" / "u" / "c" / "0"


@pytest.fixture
def damaged(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """A 5-sample dataset whose sample 2 lost its chunk and sample 3 has a truncated one."""
    path = tmp_path / "d.nirom"
    assert main([*GEN, "-o", str(path)]) == 0
    clean = Dataset(path).field("u")
    _chunk(path, 2).unlink()
    chunk = _chunk(path, 3)
    chunk.write_bytes(chunk.read_bytes()[:20])
    return path, clean


def test_info_check_names_the_damaged_samples(damaged, capsys) -> None:
    path, _ = damaged
    capsys.readouterr()
    assert Dataset(path).statuses()[2] == "done"  # what info alone still says
    assert main(["info", str(path), "--check"]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "sample 2: damaged on disk: fields/u" in out
    assert "sample 3: damaged on disk: fields/u" in out
    assert "2 damaged sample(s): `nirom generate ... --repair`" in out
    assert main(["info", str(path), "--check", "--json"]) == 1
    assert set(json.loads(capsys.readouterr().out)["damaged"]) == {"2", "3"}


def test_generate_repair_solves_them_again(damaged, capsys) -> None:
    path, clean = damaged
    assert main([*GEN, "-o", str(path)]) == 0  # a plain rerun skips them, as before
    assert damaged_samples(Dataset(path)).keys() == {2, 3}
    assert main([*GEN, "-o", str(path), "--repair"]) == 0
    assert "Damaged samples solved again: 2, 3" in capsys.readouterr().out
    ds = Dataset(path)
    assert damaged_samples(ds) == {}
    np.testing.assert_array_equal(ds.field("u"), clean)  # the same design points, solved
    assert main(["info", str(path), "--check"]) == 0
    assert "every done sample reads back whole" in capsys.readouterr().out
