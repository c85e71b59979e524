"""Terminal output: rich tables of what nirom holds and measured.

Tables printed to a file or a pipe take the width they need (:func:`print_tables`)
instead of being cut at 80 columns. Progress bars live in :mod:`nirom.progress`.
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from nirom.progress import interactive

# Natural width a table is measured at before printing it to a file or a pipe (characters).
UNLIMITED_WIDTH = 1_000_000


def print_tables(console: Console, *tables: Table) -> None:
    """Print ``tables``; to a file or a pipe each at its full natural width, so no cell
    is cut (rich would fit them to 80 columns there). Sets ``Table.width`` of those."""
    if interactive(console) or console.is_terminal:
        console.print(*tables)
        return
    wide = console.options.update_width(UNLIMITED_WIDTH)
    for table in tables:
        natural = Measurement.get(console, wide, table).maximum
        if natural > console.width:
            table.width = natural
    console.print(*tables, crop=False)


def _human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _steps(times: list[float]) -> str:
    if len(times) == 1:
        return f"1 (t = {times[0]:g})"
    return f"{len(times)} (t = {times[0]:g}..{times[-1]:g})"


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
        steps = "steady" if f["times"] is None else _steps(f["times"])
        fields.add_row(f["name"], f["location"], str(f["components"]), steps, f["unit"])
    print_tables(console, params, fields)
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
    rule = s.get("quadrature")
    if rule:
        total = f", {rule['points']:,} in all" if rule["points"] is not None else ""
        console.print(
            f"Quadrature: {rule['points_per_cell']} points per {rule['cell_type']} cell "
            f"({rule['element']} element){total}; quadrature fields are cell-major "
            "(entry c * n_q + q)",
            highlight=False,
        )
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
    median = f", median solve {times[len(times) // 2]:.3g} s" if times else ""
    console.print(
        f"[bold]{report.dataset.path}[/]: solved {report.solved}, "
        f"[red]failed {report.failed}[/], already on disk {report.skipped}; "
        f"wall time {report.wall_time_s:.1f} s{median}",
        highlight=False,
    )
    kept = list(report.dataset.statuses().values()).count("failed") - report.failed
    if kept > 0:
        console.print(
            f"  {kept} sample(s) recorded as failed before were left failed: "
            "--retry-failed reruns them (nirom info --json gives their reasons)",
            highlight=False,
        )
    for sample_id, reason in report.failures[:5]:
        first = reason.strip().splitlines()[0] if reason.strip() else "(no reason)"
        console.print(f"  sample {sample_id} failed: {first}", highlight=False, markup=False)
    if len(report.failures) > 5:
        console.print(f"  ... and {len(report.failures) - 5} more (nirom info --json lists all)")
    if report.warnings:  # once per run: the first, and how many samples share a warning
        sample_id, message = report.warnings[0]
        others = len({i for i, _ in report.warnings}) - 1
        more = f" (and {others} more sample(s); their info records it)" if others else ""
        console.print(f"[yellow]warning[/]: sample {sample_id}: {message}{more}", highlight=False)


def print_prediction(
    mean: dict[str, Any], std: dict[str, Any] | None, seconds: float, console: Console
) -> None:
    """Summarise predicted fields (range of values and of the standard deviation)."""
    table = Table(title=f"Prediction ({1e3 * seconds:.2f} ms)", title_justify="left")
    for col in ("field", "shape", "min", "max", "mean"):
        table.add_column(col)
    if std is not None:
        table.add_column("std (max)")
    for name, value in mean.items():
        row = [name, str(tuple(value.shape)), f"{value.min():.4g}", f"{value.max():.4g}"]
        row.append(f"{value.mean():.4g}")
        if std is not None:
            row.append(f"{std[name].max():.3g}")
        table.add_row(*row)
    print_tables(console, table)


def print_evaluation(report: dict[str, Any], label: str, console: Console) -> None:
    """Print :func:`nirom.evaluation.evaluate.evaluate` output as a table."""
    title = f"{label} on {report['n_samples']} samples"
    table = Table(title=title, title_justify="left")
    level = round(100 * report["level"])
    for col in ("field", "rel. L2 mean", "rel. L2 max", "norm", "RRMSE", "floor", "modes"):
        table.add_column(col)
    table.add_column(f"{level}% coverage")
    for name, m in report["fields"].items():
        floor = m.get("projection_floor", {}).get("mean")
        cover = m.get("coverage")
        relative, rrmse = m.get("relative_l2"), m.get("rrmse")
        table.add_row(
            f"{name} *" if m.get("zero_reference") else name,
            "-" if relative is None else f"{relative['mean']:.3%}",
            "-" if relative is None else f"{relative['max']:.3%}",
            m["norm"],
            "-" if rrmse is None else f"{rrmse:.3g}",
            "-" if floor is None else f"{floor:.3%}",
            str(m.get("n_modes", "-")),
            "-" if cover is None else f"{cover:.1%}",
        )
    print_tables(console, table)
    for name, m in report["fields"].items():
        if m.get("zero_reference"):
            line = (
                f"* {name}: the reference is zero in {m['zero_reference']} of "
                f"{report['n_samples']} samples"
            )
            if "zero_reference_samples" in m:
                line += f" ({', '.join(map(str, m['zero_reference_samples']))})"
            line += ", left out of its relative figures"
            if "absolute_l2" in m:
                a = m["absolute_l2"]
                line += f"; absolute error there: mean {a['mean']:.3g}, max {a['max']:.3g}"
            console.print(line, highlight=False)
    if report.get("not_predicted"):
        console.print(f"Not predicted by this model: {', '.join(report['not_predicted'])}")
    for key, value in (report.get("model_details") or {}).items():
        shown = f"{value:.1%}" if "accuracy" in key and isinstance(value, float) else value
        console.print(f"{key.replace('_', ' ').capitalize()}: {shown}", highlight=False)
    for name, m in report["fields"].items():
        if "bound" in m:
            b = m["bound"]
            console.print(
                f"Error bound of {name} ({b['norm']}): above the error on "
                f"{b['bounded_fraction']:.0%} of samples; effectivity median "
                f"{b['effectivity']['median']:.3g}, max {b['effectivity']['max']:.3g}"
            )
        r2 = m.get("r2")
        if r2 is not None and r2 < 0:
            console.print(
                f"[bold yellow]warning:[/] field {name!r}: R2 = {r2:.3g} < 0, the model does "
                "worse than predicting the samples' mean field (more training samples, "
                "another model or fewer parameters?)",
                highlight=False,
            )
    t = report["timing"]
    line = f"One prediction: {1e3 * t['predict_s']:.3f} ms (median, after warm-up)"
    if "speedup" in t:
        line += f"; solve: {t['solve_s']:.3g} s; speed-up {t['speedup']:.0f}x"
        if "solve_source" in t:
            line += f" (solves {t['solve_source']})"
    console.print(line, highlight=False)


def print_model_comparison(reports: dict[str, dict[str, Any]], console: Console) -> None:
    """One row per model: test error, coverage, fit and predict times, speed-up."""
    first = next(iter(reports.values()))
    field = next(iter(first["fields"]))
    level = round(100 * first["level"])
    title = f"Surrogates on {first['n_samples']} held-out samples (field {field!r})"
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("model", "L2 mean", "L2 max", "floor", "modes"):
        table.add_column(col)
    for col in (f"{level}% cover", "fit", "predict", "speedup"):
        table.add_column(col)
    for label, report in reports.items():
        m, t = report["fields"][field], report["timing"]
        cover = m.get("coverage")
        table.add_row(
            label,
            "-" if m["relative_l2"] is None else f"{m['relative_l2']['mean']:.2%}",
            "-" if m["relative_l2"] is None else f"{m['relative_l2']['max']:.1%}",
            f"{m['projection_floor']['mean']:.2%}" if "projection_floor" in m else "-",
            str(m.get("n_modes", "-")),
            "-" if cover is None else f"{cover:.1%}",
            f"{report['fit_s']:.1f}s" if "fit_s" in report else "-",
            f"{1e3 * t['predict_s']:.2f}ms",
            f"{t['speedup']:.0f}x" if "speedup" in t else "-",
        )
    print_tables(console, table)
    console.print(
        f"Relative errors in the {first['fields'][field]['norm']} norm; floor: the error of "
        "projecting on the POD basis, which no POD surrogate can beat."
    )
