"""Plots a person can read: labelled axes and colour bars, error and std on one scale,
singular values without zeros falling off the log axis."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import skfem

from nirom.mesh import Mesh
from nirom.report.plots import field_comparison_figure, plot_singular_values

MESH = Mesh.from_skfem(skfem.MeshTri().refined(3))


def test_field_panels_are_labelled_and_error_and_std_share_a_scale() -> None:
    x, y = MESH.points[:, 0], MESH.points[:, 1]
    reference = np.sin(np.pi * x) * y
    prediction = reference + 0.01 * x
    std = 0.03 * y  # wider than the error: the bars should look wider
    fig = field_comparison_figure(MESH, reference, prediction, std, field="u", unit="K")
    panels = [ax for ax in fig.axes if ax.get_title()]
    bars = [ax for ax in fig.axes if not ax.get_title()]
    assert [ax.get_title() for ax in panels] == [
        "reference",
        "prediction",
        "|error|",
        "predicted std",
    ]
    assert all(ax.get_xlabel() == "x" and ax.get_ylabel() == "y" for ax in panels)
    assert [bar.get_ylabel() for bar in bars] == [
        "u (K)",
        "u (K)",
        "|error| (K)",
        "predicted std (K)",
    ]
    clims = [ax.collections[0].get_clim() for ax in panels]
    assert clims[0] == clims[1]
    assert clims[2] == clims[3] == (0.0, float(std.max()))  # one scale for error and std


def test_singular_values_skip_zeros_and_keep_an_x_range(tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    captured = {}
    original = plt.Figure.savefig

    def keep(fig, *args, **kwargs):  # look at the figure as it is written
        captured["ax"] = fig.axes[0]
        return original(fig, *args, **kwargs)

    plt.Figure.savefig = keep
    try:
        plot_singular_values({"u": np.array([3.0, 1.0, 0.0, 0.0])}, tmp_path / "s.png")
        ax = captured["ax"]
        assert list(ax.lines[0].get_ydata()) == [1.0, 1.0 / 3.0]  # no zeros on a log axis
        plot_singular_values({"u": np.array([2.0])}, tmp_path / "one.png")
        assert captured["ax"].get_xlim() == (0.5, 2.5)  # not an empty range
    finally:
        plt.Figure.savefig = original
    assert (tmp_path / "one.png").stat().st_size > 5_000
