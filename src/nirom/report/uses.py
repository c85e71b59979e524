"""Rich tables of the results of UQ, sensitivity, optimization and calibration (their summaries)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from nirom.report.terminal import print_tables


def _g(value: Any) -> str:
    return "-" if value is None else f"{value:.4g}"


def print_uq(s: dict[str, Any], console: Console) -> None:
    """Quantity statistics and field summaries of a propagation."""
    err = s["surrogate_error"]
    title = f"Uncertainty propagation: {s['n_samples']} {s['method'].upper()} samples"
    table = Table(title=title, title_justify="left")
    for col in ("quantity", "mean", "std", *(f"q{q:g}" for q in s["quantiles"])):
        table.add_column(col, justify="left" if col == "quantity" else "right")
    if err:
        table.add_column("std with surrogate error", justify="right")
        table.add_column("surrogate error share", justify="right")
    for name, q in s["quantities"].items():
        row = [name, _g(q["mean"]), _g(q["std"]), *(_g(v) for v in q["quantiles"].values())]
        if err:
            row += [_g(q["std_total"]), f"{q['error_share']:.1%}"]
        table.add_row(*row)
    print_tables(console, table)
    for name, f in s["fields"].items():
        unit = f" [{f['unit']}]" if f.get("unit") not in (None, "", "1") else ""
        line = (
            f"field {name}{unit}: mean in [{_g(f['mean_range'][0])}, {_g(f['mean_range'][1])}], "
            f"max std {_g(f['std_max'])}"
        )
        if err:
            line += f", surrogate error {f['error_share']:.1%} of the variance"
        console.print(line, highlight=False)
    console.print(
        "inputs: " + ", ".join(f"{k} ~ {v}" for k, v in s["distributions"].items()),
        highlight=False,
    )


def print_sensitivity(s: dict[str, Any], console: Console) -> None:
    """First-order and total indices with their confidence half-widths, per quantity."""
    level = f"{s['confidence']:.0%}"
    for name, ind in s["quantities"].items():
        table = Table(
            title=f"Sobol indices of {name} ({s['n_evaluations']} evaluations, +- {level} CI)",
            title_justify="left",
        )
        for col in ("parameter", "first order", "total"):
            table.add_column(col, justify="left" if col == "parameter" else "right")
        for j, p in enumerate(s["parameters"]):
            table.add_row(
                p,
                f"{_g(ind['S1'][j])} +- {_g(ind['S1_conf'][j])}",
                f"{_g(ind['ST'][j])} +- {_g(ind['ST_conf'][j])}",
            )
        print_tables(console, table)
    for field, peaks in s.get("map_peaks", {}).items():
        console.print(
            f"index maps of {field}: first-order index peaks at "
            + ", ".join(f"{p}: node {n}" for p, n in peaks.items()),
            highlight=False,
        )


def print_optimization(s: dict[str, Any], console: Console) -> None:
    """The optimum (single objective) or the Pareto front (several)."""
    if "pareto_front" in s:
        table = Table(
            title=f"Pareto front: {len(s['pareto_front'])} of {s['n_trials']} trials "
            f"({s['n_feasible']} feasible)",
            title_justify="left",
        )
        front = s["pareto_front"]
        names = list(front[0]["mu"]) if front else []
        for col in [*s["objectives"], *names]:
            table.add_column(col, justify="right")
        for point in sorted(front, key=lambda p: next(iter(p["values"].values()))):
            table.add_row(
                *[_g(v) for v in point["values"].values()], *[_g(v) for v in point["mu"].values()]
            )
        print_tables(console, table)
        return
    sense = "minimum" if s["sense"] == "min" else "maximum"
    table = Table(title=f"{sense} of {s['objective']}: {_g(s['value'])}", title_justify="left")
    table.add_column("parameter")
    table.add_column("value", justify="right")
    for k, v in s["mu"].items():
        table.add_row(k, _g(v))
    print_tables(console, table)
    for text, value in s["constraints"].items():
        console.print(f"constraint {text}: {_g(value)}", highlight=False)
    status = "feasible" if s["feasible"] else "[red]no feasible point found[/]"
    console.print(f"{status}; {s['n_evaluations']} surrogate evaluations in {s['seconds']:.1f} s")
    for it in s.get("verification", []):
        gap = max(it["relative_gap"].values())
        console.print(
            f"verified {it['iteration']}: sample {it['sample_id']}, "
            f"{s['objective']} surrogate {_g(it['surrogate'][s['objective']])} "
            f"solver {_g(it['solver'][s['objective']])}, largest gap {gap:.2%}",
            highlight=False,
        )


def print_calibration(s: dict[str, Any], console: Console) -> None:
    """Posterior summaries, MAP and the sampler's diagnostics."""
    table = Table(
        title=f"Posterior ({s['n_samples']} samples, {s['n_walkers']} walkers x {s['n_steps']} "
        f"steps, {s['n_burn']} burn-in)",
        title_justify="left",
    )
    for col in ("parameter", "mean", "std", "median", "90% interval", "MAP", "autocorr. time"):
        table.add_column(col, justify="left" if col == "parameter" else "right")
    for name, p in s["parameters"].items():
        table.add_row(
            name,
            _g(p["mean"]),
            _g(p["std"]),
            _g(p["median"]),
            f"[{_g(p['q05'])}, {_g(p['q95'])}]",
            _g(p["map"]),
            f"{p['autocorr_time']:.1f}",
        )
    print_tables(console, table)
    console.print(
        f"acceptance {s['acceptance']:.2f}; chain {s['chain_over_autocorr']:.0f} autocorrelation "
        f"times long (50 or more is reliable); about {s['effective_samples']:.0f} effective "
        "samples",
        highlight=False,
    )
    errors = {
        "full": "its covariance at the sensors",
        "diagonal": "its variances, independent",
    }.get(s.get("surrogate_covariance", "none"))
    worth = s.get("effective_observations")
    if errors is not None:
        line = f"surrogate error in the likelihood: {errors}"
        if worth is not None:
            n = len(s.get("sensor_locations") or {})
            line += f"; the {n} sensors are worth {worth:.1f} independent observations"
        console.print(line, highlight=False)
