"""Terminal output: rich tables of what nirom holds and measured."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def _human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def print_dataset_summary(s: dict[str, Any], console: Console) -> None:
    """Print :meth:`Dataset.summary` output as tables."""
    console.print(f"[bold]{s['path']}[/]  (nirom dataset, format {s['format_version']})")
    if s["description"]:
        console.print(s["description"])
    params = Table(title="Parameters", title_justify="left")
    for col in ("name", "kind", "range / shape", "unit"):
        params.add_column(col)
    for p in s["parameters"]:
        extent = f"{p['shape']}" if p["kind"] == "field" else f"[{p['low']:g}, {p['high']:g}]"
        params.add_row(p["name"], p["kind"], extent, p["unit"])
    fields = Table(title="Fields", title_justify="left")
    for col in ("name", "location", "components", "time steps", "unit"):
        fields.add_column(col)
    for f in s["fields"]:
        steps = "steady" if f["times"] is None else str(len(f["times"]))
        fields.add_row(f["name"], f["location"], str(f["components"]), steps, f["unit"])
    console.print(params, fields)
    c = s["samples"]
    console.print(f"Samples: [green]{c['done']} done[/], [red]{c['failed']} failed[/]", end="")
    console.print(f", {c['staging']} unfinished writes in staging/" if c["staging"] else "")
    for failure in s["failures"][:5]:
        reason = (failure["error"] or "").strip().splitlines() or ["(no reason recorded)"]
        console.print(f"  sample {failure['id']} failed: {reason[-1]}", highlight=False)
    if len(s["failures"]) > 5:
        console.print(f"  ... and {len(s['failures']) - 5} more (nirom info --json lists all)")
    mesh = s["mesh"]
    if mesh:
        cells = ", ".join(f"{n} {t}" for t, n in mesh["cells"].items())
        console.print(f"Mesh: {mesh['points']} points, {cells} ({mesh['dim']}-D)")
    elif s["per_sample_mesh"]:
        console.print("Mesh: one per sample (varying geometry)")
    t = s["solve_time_s"]
    if t:
        console.print(
            f"Solve time: median {t['median']:.3g} s, range [{t['min']:.3g}, {t['max']:.3g}] s, "
            f"total {t['total']:.3g} s"
        )
    console.print(f"On disk: {_human_bytes(s['disk_bytes'])}")


def print_generation_report(report: Any, console: Console) -> None:
    """Print a :class:`nirom.generation.GenerationReport`."""
    times = sorted(report.solve_times_s)
    median = times[len(times) // 2] if times else float("nan")
    console.print(
        f"[bold]{report.dataset.path}[/]: solved {report.solved}, "
        f"[red]failed {report.failed}[/], already on disk {report.skipped}; "
        f"wall time {report.wall_time_s:.1f} s, median solve {median:.3g} s",
        highlight=False,
    )
    for sample_id, reason in report.failures[:5]:
        first = reason.strip().splitlines()[0] if reason.strip() else "(no reason)"
        console.print(f"  sample {sample_id} failed: {first}", highlight=False, markup=False)
    if len(report.failures) > 5:
        console.print(f"  ... and {len(report.failures) - 5} more (nirom info --json lists all)")
