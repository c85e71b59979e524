"""Time series: dolfinx's .pvd of PVTU steps, numbered files, and an import of XDMF series."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

from nirom.dataset import Dataset
from nirom.dataset.transfer import import_folder, read_series
from nirom.errors import MeshError
from nirom.readers import read_steps

DATA = Path(__file__).resolve().parents[1] / "data"
DOLFINX = DATA / "dolfinx"
ASCII = 1e-14


def test_dolfinx_pvd_of_vtu_2_2_steps_reads_to_what_dolfinx_wrote() -> None:
    expected = np.load(DOLFINX / "heat.npz")
    mesh, point_data, _, times = read_series(DOLFINX / "heat.pvd")
    assert times == (0.0, 0.25, 0.5)
    np.testing.assert_allclose(mesh.points, expected["points"][:, :2], atol=ASCII)
    assert point_data["u"].shape == (3, 16) and point_data["v"].shape == (3, 16, 3)
    np.testing.assert_allclose(point_data["u"], expected["u"], atol=ASCII)
    np.testing.assert_allclose(point_data["v"], expected["v"], atol=ASCII)


def test_dolfinx_pvd_of_two_process_steps() -> None:
    expected = np.load(DOLFINX / "par.npz")
    mesh, point_data, _, times = read_series(DOLFINX / "par.pvd")
    assert times == (0.0, 1.0) and mesh.n_points == 16
    np.testing.assert_allclose(point_data["u"], expected["u"], atol=ASCII)


def _numbered(tmp_path: Path, numbers: list[int]) -> None:
    """dolfinx's three steps as result_<n>.vtu, step k under numbers[k]."""
    for k, n in enumerate(numbers):
        shutil.copy(DOLFINX / f"heat_p0_{k:06d}.vtu", tmp_path / f"result_{n}.vtu")


def test_numbered_files_are_ordered_by_their_number(tmp_path: Path) -> None:
    expected = np.load(DOLFINX / "heat.npz")
    _numbered(tmp_path, [2, 9, 10])  # as text, result_10 would sort before result_2
    _, point_data, _, times = read_series(tmp_path / "result_*.vtu", times=[0, 1, 2])
    assert times == (0.0, 1.0, 2.0)
    np.testing.assert_allclose(point_data["u"], expected["u"], atol=ASCII)


def test_numbered_files_need_their_times(tmp_path: Path) -> None:
    _numbered(tmp_path, [0, 1, 2])
    pattern = tmp_path / "result_*.vtu"
    with pytest.raises(MeshError, match="give the times of the 3 files"):
        read_steps(pattern)
    with pytest.raises(MeshError, match="3 files match for 2 times"):
        read_steps(pattern, times=[0.0, 1.0])
    with pytest.raises(MeshError, match="must increase"):
        read_steps(pattern, times=[0.0, 2.0, 1.0])
    with pytest.raises(MeshError, match="no file matches"):
        read_steps(tmp_path / "other_*.vtu", times=[0.0])


def test_numbered_files_take_their_vtk_time_values(tmp_path: Path) -> None:
    text = (DATA / "vtk" / "grid_ascii.vtu").read_text()
    old = 'RangeMax="2.5">\n        2.5\n'
    assert text.count(old) == 1
    for n, t in ((1, 0.5), (2, 1.5)):
        (tmp_path / f"g{n}.vtu").write_text(text.replace(old, f'RangeMax="{t}">\n{t}\n'))
    assert [s.time for s in read_steps(tmp_path / "g?.vtu")] == [0.5, 1.5]


def test_a_pvd_naming_a_missing_step_says_which(tmp_path: Path) -> None:
    shutil.copy(DOLFINX / "heat.pvd", tmp_path / "heat.pvd")
    with pytest.raises(MeshError, match=r"heat.pvd: its step file heat000000.pvtu is not found"):
        read_series(tmp_path / "heat.pvd")


def test_import_a_folder_of_dolfinx_xdmf_series(tmp_path: Path) -> None:
    """Two samples, each dolfinx's XDMF series (+ its .h5), imported as time series."""
    folder = tmp_path / "runs"
    for name in ("a", "b"):
        (folder / name).mkdir(parents=True)
        for suffix in (".xdmf", ".h5"):
            shutil.copy(DOLFINX / f"series{suffix}", folder / name / f"series{suffix}")
    with open(folder / "parameters.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerows([["file", "k"], ["a/series.xdmf", 1.0], ["b/series.xdmf", 2.0]])
    ds = import_folder(folder, tmp_path / "ds", fields=["u", "v"])
    assert isinstance(ds, Dataset)
    assert ds.field_spec("u").times == (0.0, 0.5, 1.0)
    assert ds.field_spec("v").components == 3
    expected = np.load(DOLFINX / "series.npz")
    np.testing.assert_array_equal(ds.field("u", [1])[0], expected["u"])


def test_one_mesh_file_of_a_pvd_is_its_one_step_and_a_longer_one_is_refused() -> None:
    """read_mesh reads a .pvd collection itself (nirom.readers.pvd), no longer through the
    series reader that is built on it."""
    from nirom.readers import read_mesh

    one = read_mesh(DOLFINX / "p2.pvd")
    step = read_mesh(DOLFINX / "p2000000.pvtu")
    np.testing.assert_array_equal(one.points, step.points)
    assert one.point_data.keys() == step.point_data.keys()
    with pytest.raises(MeshError, match=r"heat.pvd: a time series of 3 steps; read it with"):
        read_mesh(DOLFINX / "heat.pvd")
