"""Terminal tables off a terminal: whole, at their natural width."""

from __future__ import annotations

import io

import numpy as np
from rich.console import Console
from rich.table import Table

from nirom.report.terminal import print_prediction, print_tables


def piped() -> Console:
    """A console writing to a file, as rich sees a pipe: not a terminal, 80 columns."""
    return Console(file=io.StringIO(), width=80)


def test_a_piped_table_keeps_every_value_whole() -> None:
    """rich fits tables to 80 columns off a terminal and cuts cells with '…'."""
    long_path = "/scratch/project/campaigns/2024/thermal-block/run-0042/dataset.zarr"
    console = piped()
    table = Table(title="Fields")
    for column in ("name", "location", "path", "unit"):
        table.add_column(column)
    table.add_row("temperature_at_the_outer_boundary", "point", long_path, "kelvin_per_second")
    print_tables(console, table)
    shown = console.file.getvalue()
    assert "…" not in shown
    for value in ("temperature_at_the_outer_boundary", long_path, "kelvin_per_second"):
        assert value in shown
    console = piped()
    names = [f"displacement_component_{axis}_of_the_bracket" for axis in "xyz"]
    mean = {name: np.linspace(-1.234567, 9.876543, 10) for name in names}
    print_prediction(mean, {name: np.ones(10) for name in names}, 0.00123, console)
    shown = console.file.getvalue()
    assert "…" not in shown and all(name in shown for name in names)
