"""A self-contained HTML report of a surrogate on a test dataset, for a person in a browser.

One file, no external resource: plots are PNG embedded as base64 ``data:``
URIs, the style is inline, and there is no script. Sections: the study (its
TOML, when given), the training data, the model card, test metrics per field
(:func:`nirom.evaluation.evaluate`), calibration of the error bars (observed
against nominal coverage at several levels), the worst test samples (with
the field comparison of the worst), the speed-up, and the results of the
uses (UQ, sensitivity, optimization, calibration) found in result folders:
every run kept there (``OUT``, ``OUT-2``, ...), listed with its folder and
time, oldest first.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import html
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nirom.apps.results import find_results
from nirom.dataset import Dataset
from nirom.errors import DatasetError, MeshError
from nirom.evaluation.alignment import MeshMatch, field_input_names, match_dataset
from nirom.evaluation.evaluate import evaluate, zero_references
from nirom.evaluation.metrics import coverage, l2_norms, relative_l2
from nirom.report.card import model_card, read_fit_record
from nirom.surrogates import Surrogate

LEVELS = (0.5, 0.68, 0.8, 0.9, 0.95, 0.99)

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; display: block; margin: 0.6em 0; border: 1px solid #eee; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
.note { color: #666; font-size: 0.9em; }
"""


def write_report(
    model: Surrogate,
    test: Dataset,
    out: str | os.PathLike[str],
    *,
    model_path: str | os.PathLike[str] | None = None,
    train: Dataset | None = None,
    results: Sequence[str | os.PathLike[str]] = (),
    study: str | os.PathLike[str] | None = None,
    level: float = 0.95,
    n_worst: int = 5,
) -> Path:
    """Write the report of ``model`` on ``test`` to the HTML file ``out``; return its path.

    ``train`` defaults to the dataset the fit record names (when it still
    exists); ``results`` are folders holding ``uq.json``, ``sensitivity.json``,
    ``optimize.json`` or ``calibrate.json`` (or ``KIND/`` subfolders of them);
    the later runs kept beside each (``OUT-2``, ``OUT-3``, ...) are shown too.
    """
    out = Path(out)
    card = model_card(model, model_path)
    if train is None and model_path is not None:
        recorded = read_fit_record(model_path).get("dataset")
        if recorded and Path(recorded, "zarr.json").is_file():
            train = Dataset(recorded)
    for folder in results:
        if not Path(folder).is_dir():
            raise DatasetError(f"{folder}: results folder not found")
    found = find_results(results)
    report = evaluate(model, test, level=level)  # checks the meshes first
    match = match_dataset(model, test)
    with tempfile.TemporaryDirectory(prefix="nirom-report-") as tmp:
        plots = Path(tmp)
        parts = [
            _header(model, test, card),
            _study(study),
            _training(train, test, plots, model, found),
            _card(card),
            _metrics(report),
            _calibration(model, test, plots, match),
            _worst(model, test, plots, n_worst, match),
            _speed(report),
            _result_list(found),
            *(_use(doc, found, model, train) for doc in found),
        ]
        body = "\n".join(p for p in parts if p)
    page = (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>nirom report: {_e(card['kind'])} on {_e(test.path.name)}</title>"
        f"<style>{_STYLE}</style></head><body>\n{body}\n</body></html>\n"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = out.with_name(f".{out.name}.writing")
    tmp_out.write_text(page, encoding="utf-8")
    os.replace(tmp_out, out)
    return out


# -- building blocks --------------------------------------------------------------------------
def _e(value: Any) -> str:
    return html.escape(str(value))


def _num(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return _e(value)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_num(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table>{f'<tr>{head}</tr>' if any(header) else ''}{body}</table>"


def _img(path: str | os.PathLike[str], alt: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f"<img alt='{_e(alt)}' src='data:image/png;base64,{data}'>"


def _pct(value: float | None) -> str | None:
    return None if value is None else f"{value:.2%}"


# -- sections -------------------------------------------------------------------------------------
def _header(model: Surrogate, test: Dataset, card: Mapping[str, Any]) -> str:
    from nirom._version import __version__

    when = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    where = card.get("path", "(not saved)")
    return (
        f"<h1>nirom report: {_e(card['kind'])} model on {_e(test.path.name)}</h1>"
        f"<p class='note'>model {_e(where)}; test dataset {_e(test.path.resolve())}; "
        f"written {when} by nirom {_e(__version__)}</p>"
    )


def _study(study: str | os.PathLike[str] | None) -> str:
    if study is None:
        return ""
    try:
        text = Path(study).read_text(encoding="utf-8")
    except OSError as exc:
        raise DatasetError(f"{study}: cannot read the study file ({exc})") from None
    return f"<h2>Study</h2><p class='note'>{_e(study)}</p><pre>{_e(text)}</pre>"


def _training(
    train: Dataset | None,
    test: Dataset,
    plots: Path,
    model: Surrogate,
    found: Sequence[Mapping[str, Any]],
) -> str:
    if train is None:
        return "<h2>Training data</h2><p class='note'>not recorded with the model</p>"
    rows = [
        ["dataset", str(train.path.resolve())],
        ["done samples", len(train)],
        ["parameters", ", ".join(train.space.names)],
        ["fields", ", ".join(train.fields)],
    ]
    times = train.solve_times()
    finite = times[np.isfinite(times)]
    if finite.size:
        rows.append(["median solve time (s)", float(np.median(finite))])
    if train.mesh is not None:
        rows.append(["mesh points / cells", f"{train.mesh.n_points} / {train.mesh.n_cells}"])
    rows.append(["samples by status", ", ".join(f"{k}: {v}" for k, v in train.counts().items())])
    space = train.space
    bounds = [[p.name, p.kind, p.low, p.high, p.unit] for p in space.scalars]
    out = "<h2>Training data</h2>" + _table(["", ""], rows) + _provenance(model, train, found)
    out += _table(["parameter", "kind", "low", "high", "unit"], bounds)
    if space.dim >= 2:
        out += _img(_design_plot(train, test, plots / "design.png"), "training and test samples")
    return out


def _design_plot(train: Dataset, test: Dataset, path: Path) -> Path:
    from nirom.plotting import pyplot

    plt = pyplot()
    space = train.space
    a, b = space.to_unit(train.parameters()), space.to_unit(test.parameters())
    fig, ax = plt.subplots(figsize=(4.2, 4))
    ax.scatter(a[:, 0], a[:, 1], s=10, label=f"training ({len(a)})")
    ax.scatter(b[:, 0], b[:, 1], s=14, marker="x", label=f"test ({len(b)})")
    names = space.scalar_names
    ax.set_xlabel(f"{names[0]} (unit scale)")
    ax.set_ylabel(f"{names[1]} (unit scale)")
    ax.set_title("samples in the first two parameters", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _card(card: Mapping[str, Any]) -> str:
    rows = []
    for key in (
        "kind",
        "class",
        "error_bars",
        "training_samples",
        "fit_s",
        "created_at",
        "written_by",
        "size_bytes",
    ):
        if key in card:
            rows.append([key, card[key]])
    if "modes" in card:
        rows.append(["POD modes", ", ".join(f"{k}: {v}" for k, v in card["modes"].items())])
    if "input_scales" in card:
        scales = ", ".join(f"{k}: {v}" for k, v in card["input_scales"].items())
        rows.append(["input scales", scales])
    if "std_scale" in card:
        ranges = ", ".join(
            f"{k}: {min(v):.3g}-{max(v):.3g} over {len(v)} modes"
            for k, v in card["std_scale"].items()
            if v
        )
        rows.append([f"std calibration ({card.get('std_calibration', 'on')})", ranges])
    for warning in card.get("fit_warnings") or card.get("warnings") or ():
        rows.append(["warning", warning])
    if card.get("mesh"):
        rows.append(["mesh", f"{card['mesh']['n_points']} points, {card['mesh']['n_cells']} cells"])
    rows.append(["fields", ", ".join(f["name"] for f in card["fields"])])
    out = "<h2>Model card</h2>" + _table(["", ""], rows)
    if "hyperparameters" in card:
        hyper = [[k, str(v)] for k, v in card["hyperparameters"].items()]
        out += _table(["hyperparameter", "value"], hyper)
    if "fit_s" not in card:
        out += "<p class='note'>fit time: not recorded (nirom fit and studies record it)</p>"
    return out


def _metrics(report: Mapping[str, Any]) -> str:
    rows = []
    for name, f in report["fields"].items():
        floor = f.get("projection_floor", {}).get("mean")
        relative = f.get("relative_l2") or {}
        zero = f.get("zero_reference")
        rows.append(
            [
                f"{name} (reference zero in {zero} samples)" if zero else name,
                f["norm"],
                _pct(relative.get("mean")),
                _pct(relative.get("max")),
                f["rrmse"],
                f["max_error"]["mean"],
                _pct(f.get("coverage")),
                f.get("n_modes"),
                _pct(floor),
            ]
        )
    header = [
        "field",
        "norm",
        "rel. L2 mean",
        "rel. L2 max",
        "RRMSE",
        "max error (mean)",
        f"coverage {report['level']:.0%}",
        "modes",
        "projection floor",
    ]
    return f"<h2>Test metrics ({report['n_samples']} samples)</h2>" + _table(header, rows)


def _calibration(model: Surrogate, test: Dataset, plots: Path, match: MeshMatch) -> str:
    if not model.capabilities.std:
        return "<h2>Error bars</h2><p class='note'>this model gives no error bars</p>"
    from nirom.apps.plots import plot_calibration_curve

    mean, std = model.predict(_inputs(model, test, match), return_std=True)
    mean, std = match.to_target(mean, model.fields_), match.to_target(std, model.fields_)
    rows, observed = [], {}
    for name in test.fields:
        ref = test.field(name)
        observed[name] = [coverage(ref, mean[name], std[name], level=lv) for lv in LEVELS]
        rows.append([name, *(_pct(v) for v in observed[name])])
    first = next(iter(observed))
    img = _img(
        plot_calibration_curve(
            np.array(LEVELS), np.array(observed[first]), plots / "calibration.png"
        ),
        "observed against nominal coverage",
    )
    return (
        "<h2>Calibration of the error bars</h2>"
        "<p class='note'>share of test values inside mean +- z std, against the nominal level</p>"
        + _table(["field", *(f"{lv:.0%}" for lv in LEVELS)], rows)
        + img
    )


def _inputs(model: Surrogate, test: Dataset, match: MeshMatch) -> Any:
    """The test samples' parameter sets in the model's node order."""
    x = test.parameter_sets() if test.space.field_inputs else test.parameters()
    return match.inputs(x, field_input_names(model))


def _worst(model: Surrogate, test: Dataset, plots: Path, n_worst: int, match: MeshMatch) -> str:
    from nirom.report.plots import plot_field_comparison

    ids = test.sample_ids()
    x = _inputs(model, test, match)
    name = next(iter(test.fields))
    spec = test.fields[name]
    ref = test.field(name)
    pred = match.to_target(model.predict(x), model.fields_)[name]
    n = len(ids)
    mass, series = None, spec.times is not None
    if spec.location == "global":
        pred, ref, series = pred.reshape(n, -1), ref.reshape(n, -1), False
    elif spec.location == "point" and test.mesh is not None:
        with contextlib.suppress(MeshError):  # not a finite-element mesh: Euclidean
            mass = test.mesh.mass_matrix()
    errors = np.full(n, np.nan)  # no relative error where the reference is zero
    keep = ~zero_references(l2_norms(ref, mass, time_series=series))
    if keep.any():
        errors[keep] = relative_l2(pred[keep], ref[keep], mass=mass, time_series=series)
    order = np.argsort(np.nan_to_num(errors, nan=-np.inf))[::-1][:n_worst]
    names = test.space.scalar_names
    rows = [
        [
            ids[i],
            "zero reference" if np.isnan(errors[i]) else _pct(float(errors[i])),
            *(float(test.parameters([ids[i]])[0, j]) for j in range(len(names))),
        ]
        for i in order
    ]
    out = f"<h2>Worst test samples ({name})</h2>" + _table(["sample", "rel. L2", *names], rows)
    worst = int(order[0])
    if (
        spec.location == "point"
        and spec.components == 1
        and spec.times is None
        and test.mesh is not None
    ):
        std = None
        if model.capabilities.std:
            std = match.to_target(
                model.predict(x[worst : worst + 1], return_std=True)[1], model.fields_
            )[name][0]
        try:
            path = plot_field_comparison(
                test.mesh,
                ref[worst],
                pred[worst],
                std,
                plots / "worst.png",
                title=f"sample {ids[worst]}: relative L2 error {errors[worst]:.2%}",
            )
            out += _img(path, "worst sample: reference, prediction, error, std")
        except ValueError:
            out += "<p class='note'>no field plot: not a 2-D triangle or quad mesh</p>"
    return out


def _speed(report: Mapping[str, Any]) -> str:
    t = report["timing"]
    rows = [["one full-field prediction (s)", t["predict_s"]]]
    if "solve_s" in t:
        rows += [["median solver run (s)", t["solve_s"]], ["speed-up", t["speedup"]]]
    return "<h2>Speed</h2>" + _table(["", ""], rows)


# -- where the training samples came from -------------------------------------------------------
def _ids(ids: Sequence[int], at_most: int = 8) -> str:
    """Sample ids as text, the first ``at_most`` then how many more."""
    shown = ", ".join(str(i) for i in ids[:at_most])
    return shown + (f" and {len(ids) - at_most} more" if len(ids) > at_most else "")


def _dates(stamps: Sequence[str | None]) -> str:
    """The days (YYYY-MM-DD) of ISO time stamps: one day, or the first to the last."""
    days = sorted({s[:10] for s in stamps if isinstance(s, str) and s})
    if not days:
        return "on a date not recorded"
    return f"on {days[0]}" if len(days) == 1 else f"between {days[0]} and {days[-1]}"


def _verified_samples(
    found: Sequence[Mapping[str, Any]], train: Dataset
) -> dict[int, tuple[str | None, str]]:
    """Samples of ``train`` that ``optimize --verify`` appended: id -> (written at, result folder).

    A verification entry names its dataset (results written since this
    was recorded); older ones count when the sample holds the same parameters.
    """
    where = train.path.resolve()
    out: dict[int, tuple[str | None, str]] = {}
    for doc in found:
        if doc["_kind"] != "optimize":
            continue
        for v in doc.get("verification") or []:
            i = int(v["sample_id"])
            if train.status(i) != "done":
                continue
            meta = train.read_meta(i)
            if v.get("dataset") is not None:
                same = Path(v["dataset"]) == where
            else:
                mu, stored = v.get("mu") or {}, meta.get("mu") or {}
                same = bool(mu) and all(
                    k in stored and np.isclose(stored[k], x, rtol=1e-9) for k, x in mu.items()
                )
            if same:
                out[i] = (v.get("written_at") or meta.get("written_at"), doc["_dir"])
    return out


def _provenance(model: Surrogate, train: Dataset, found: Sequence[Mapping[str, Any]]) -> str:
    """A note when the dataset's done samples are not exactly the model's training samples.

    Says how many the model was fitted on, which were appended by ``nirom
    optimize --verify`` (from the optimize results shown) and which were
    added by something the dataset does not record.
    """
    fitted_ids = model.training_ids_
    done = train.sample_ids("done")
    verified = _verified_samples(found, train)
    if fitted_ids is None:
        fitted: set[int] = set(done)
        known = False
    else:
        fitted, known = {int(i) for i in fitted_ids}, True
    extra = [i for i in done if i not in fitted]
    absent = sorted(fitted - set(done))
    if not extra and not absent and not verified:
        return ""
    parts = [f"{len(done)} samples in the dataset"]
    if known:
        parts.append(f"the model was fitted on {len(fitted)}")
    if verified:
        ids = sorted(verified)
        text = (
            f"{len(ids)} appended by <code>nirom optimize --verify</code> "
            f"{_dates([verified[i][0] for i in ids])} (samples {_ids(ids)}; "
            f"result {_e(verified[ids[0]][1])})"
        )
        if known:
            used = sum(i in fitted for i in ids)
            text += (
                ", all in this model's fit"
                if used == len(ids)
                else ", not in this model's fit"
                if used == 0
                else f", {used} of them in this model's fit"
            )
        parts.append(text)
    other = [i for i in extra if i not in verified]
    if other:
        stamps = [train.read_meta(i).get("written_at") for i in other]
        parts.append(
            f"{len(other)} not used by the model (samples {_ids(other)}, written "
            f"{_dates(stamps)}); the dataset does not record what added them "
            "(<code>nirom optimize --verify</code> and <code>nirom refine</code> append samples "
            "after a fit)"
        )
    if absent:
        parts.append(
            f"{len(absent)} of the model's training samples are not done samples of this "
            f"dataset (samples {_ids(absent)}): it was fitted on other data"
        )
    return "<p class='note'>" + "; ".join(p for p in parts if p) + ".</p>"


# -- results of the uses -----------------------------------------------------------------------
TITLES = {
    "uq": "Uncertainty propagation",
    "sensitivity": "Global sensitivity",
    "optimize": "Design optimization",
    "calibrate": "Bayesian calibration",
}


def ordinal(n: int) -> str:
    """``n`` as an English ordinal: 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, 102nd."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _result_list(found: Sequence[Mapping[str, Any]]) -> str:
    """Every result folder the report shows, with when each was written."""
    if not found:
        return ""
    rows = [[TITLES[d["_kind"]], d["_dir"], _stamp(d["_written"])] for d in found]
    return "<h2>Results of the uses</h2>" + _table(["use", "folder", "written"], rows)


def _stamp(iso: str) -> str:
    """An ISO time stamp in UTC as ``YYYY-MM-DD HH:MM:SS UTC``."""
    return iso.replace("T", " ").removesuffix("+00:00") + " UTC"


def _use(
    s: Mapping[str, Any],
    found: Sequence[Mapping[str, Any]],
    model: Surrogate,
    train: Dataset | None,
) -> str:
    kind = s["_kind"]
    same = [d for d in found if d["_kind"] == kind]
    title = TITLES[kind]
    if len(same) > 1:
        title += f", run {same.index(s) + 1} of {len(same)}"
    sections = {"uq": _uq, "sensitivity": _sensitivity, "optimize": _optimize}
    body = {**sections, "calibrate": _calibrate}[kind](s)
    after = _negative_notes(s, model, train) if kind == "uq" else ""  # under the maps
    where = f"<p class='note'>{_e(s['_dir'])}, written {_e(_stamp(s['_written']))}</p>"
    images = "".join(
        _img(Path(s["_dir"]) / p, p) for p in s.get("plots", []) if (Path(s["_dir"]) / p).is_file()
    )
    return f"<h2>{_e(title)}</h2>{where}{body}{images}{after}"


def _uq(s: Mapping[str, Any]) -> str:
    inputs = ", ".join(f"{k} ~ {v}" for k, v in s["distributions"].items())
    header = ["quantity", "mean", "std", *(f"q{q:g}" for q in s["quantiles"])]
    if s["surrogate_error"]:
        header += ["std with surrogate error", "surrogate error share"]
    rows = []
    for name, q in s["quantities"].items():
        row = [name, q["mean"], q["std"], *q["quantiles"].values()]
        if s["surrogate_error"]:
            row += [q["std_total"], _pct(q["error_share"])]
        rows.append(row)
    fields = [
        [name, _unit(f.get("unit")), *f["mean_range"], f["std_max"]]
        for name, f in s["fields"].items()
    ]
    return (
        f"<p class='note'>{s['n_samples']} {s['method']} samples; {_e(inputs)}</p>"
        + _table(header, rows)
        + _table(["field", "unit", "mean: lowest", "mean: highest", "std: highest"], fields)
    )


def _unit(unit: str | None) -> str:
    """A field's unit for a table: "1" is dimensionless; none recorded says so."""
    return {"1": "1 (dimensionless)", "": "not recorded", None: "not recorded"}.get(unit, unit)


def _negative_notes(s: Mapping[str, Any], model: Surrogate, train: Dataset | None) -> str:
    """Why maps or quantities of a field that is never negative in training go below zero."""
    if train is None:
        return ""
    from nirom.apps.quantities import QuantityError, parse_quantity

    lows: dict[str, list[tuple[str, float]]] = {}
    for name, f in s["fields"].items():
        for what, value in (f.get("minimum") or {}).items():
            if value is not None and value < 0:
                lows.setdefault(name, []).append((f"the {what} map", value))
    for text, q in s["quantities"].items():
        values = [("mean", q["mean"]), *((f"q{k}", v) for k, v in q["quantiles"].items())]
        try:
            name = parse_quantity(text, model.fields_, model.mesh_).field
        except QuantityError:
            continue
        low = [(f"{what} of {text}", v) for what, v in values if v is not None and v < 0]
        if low:
            lows.setdefault(name, []).extend(low)
    notes = []
    for name, low in lows.items():
        n = _never_negative(train, name)
        if n is None:
            continue
        what, value = min(low, key=lambda t: t[1])
        text = (
            f"{name} is not negative in any of the {n} training samples, yet {what} reaches "
            f"{value:.4g}: the surrogate's predictions are not held to the field's sign, and "
            "near zero they can dip below it. These are approximation errors of the surrogate, "
            f"not negative values of {name}."
        )
        if s["surrogate_error"]:
            text += (
                " The error bars (mean +- z std, Gaussian) also extend below zero where "
                f"{name} is small; {name} itself does not."
            )
        notes.append(f"<p class='note'>{_e(text)}</p>")
    return "".join(notes)


def _never_negative(train: Dataset, name: str) -> int | None:
    """The number of training samples when field ``name`` is >= 0 in all of them, else None."""
    if name not in train.fields:
        return None
    ids = train.sample_ids("done")
    for i in ids:  # one sample in memory at a time
        if np.nanmin(train.field(name, [i])) < 0:
            return None
    return len(ids) or None


def _sensitivity(s: Mapping[str, Any]) -> str:
    out = (
        f"<p class='note'>{s['n_evaluations']} evaluations, "
        f"{s['confidence']:.0%} bootstrap intervals</p>"
    )
    for name, ind in s["quantities"].items():
        rows = [
            [
                p,
                f"{ind['S1'][j]:.3f} +- {ind['S1_conf'][j]:.3f}",
                f"{ind['ST'][j]:.3f} +- {ind['ST_conf'][j]:.3f}",
            ]
            for j, p in enumerate(s["parameters"])
            if ind["S1"][j] is not None
        ]
        out += f"<p>{_e(name)}</p>" + _table(["parameter", "first order", "total"], rows)
    return out


def _optimize(s: Mapping[str, Any]) -> str:
    if "pareto_front" in s:
        front = sorted(s["pareto_front"], key=lambda p: next(iter(p["values"].values())))
        step = max(1, -(-len(front) // 20))  # at most about 20 rows, spread along the front
        rows = [[*p["values"].values(), *p["mu"].values()] for p in front[::step]]
        names = list(front[0]["mu"]) if front else []
        note = f"{len(front)} Pareto-optimal of {s['n_trials']} trials"
        if step > 1:
            note += f"; every {ordinal(step)} shown, by the first objective"
        return f"<p class='note'>{note}</p>" + _table([*s["objectives"], *names], rows)
    sense = "minimum" if s["sense"] == "min" else "maximum"
    out = f"<p>{sense} of {_e(s['objective'])}: {_num(s['value'])}"
    out += " (feasible)" if s["feasible"] else " (no feasible point found)"
    out += "</p>" + _table(["parameter", "value"], list(s["mu"].items()))
    if s["constraints"]:
        out += _table(["constraint", "value"], list(s["constraints"].items()))
    if s.get("verification"):
        rows = [
            [
                v["iteration"],
                v["sample_id"],
                v["surrogate"][s["objective"]],
                v["solver"][s["objective"]],
                _pct(max(v["relative_gap"].values())),
            ]
            for v in s["verification"]
        ]
        out += _table(["iteration", "sample", "surrogate", "solver", "largest gap"], rows)
        dataset = s["verification"][-1].get("dataset")
        if dataset:
            out += (
                f"<p class='note'>each solved sample was appended to {_e(dataset)} "
                "and the model refitted</p>"
            )
    return out


def _calibrate(s: Mapping[str, Any]) -> str:
    rows = [
        [
            n,
            p["mean"],
            p["std"],
            p["median"],
            f"[{p['q05']:.4g}, {p['q95']:.4g}]",
            p["map"],
            p["autocorr_time"],
        ]
        for n, p in s["parameters"].items()
    ]
    note = (
        f"{s['n_walkers']} walkers x {s['n_steps']} steps ({s['n_burn']} burn-in), acceptance "
        f"{s['acceptance']:.2f}, chain {s['chain_over_autocorr']:.0f} autocorrelation times"
    )
    return (
        f"<p class='note'>{_e(note)}</p>"
        + _table(
            ["parameter", "mean", "std", "median", "90% interval", "MAP", "autocorr. time"], rows
        )
        + _observations(s)
    )


def _observations(s: Mapping[str, Any]) -> str:
    """The observations the calibration used: sensor, where, value, noise, fit at the MAP."""
    obs = s.get("observations")
    if not obs:
        return ""
    values = np.atleast_2d(np.asarray(obs["values"], dtype=float))
    where = s.get("sensor_locations") or {}
    fit = s.get("fit_at_map") or {}
    rows = []
    for j, text in enumerate(obs["quantities"]):
        location = where.get(text)
        at_map = fit.get(text, {})
        rows.append(
            [
                text,
                "-" if location is None else "(" + ", ".join(f"{c:.4g}" for c in location) + ")",
                float(values[:, j].mean()),
                obs["noise_std"][j],
                at_map.get("predicted"),
                at_map.get("surrogate_std"),
            ]
        )
    repeats = f"mean of {len(values)} measurements" if len(values) > 1 else "one measurement"
    header = [
        "sensor",
        "location",
        f"observed ({repeats})",
        "noise std",
        "predicted at MAP",
        "surrogate std at MAP",
    ]
    return "<p>Observations used</p>" + _table(header, rows)
