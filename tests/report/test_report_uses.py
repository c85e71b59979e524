"""The uses in the HTML report: every kept run, where the samples came from, units, sensors."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from nirom import Dataset
from nirom.apps.calibration import calibrate
from nirom.apps.optimization import optimize, optimize_verified, pareto_front
from nirom.apps.uq import propagate
from nirom.report.html import ordinal, write_report


def _page(small_block, out: Path, results: list[Path], **kwargs) -> str:
    path = write_report(
        small_block.gp,
        small_block.test,
        out / "report.html",
        model_path=small_block.gp_path,
        results=results,
        **kwargs,
    )
    return path.read_text(encoding="utf-8")


def _notes(page: str) -> list[str]:
    return re.findall(r"<p class='note'>(.*?)</p>", page)


def test_the_report_shows_every_uq_run(small_block, tmp_path: Path) -> None:
    model = small_block.gp
    for n in (64, 32):
        propagate(model, n_samples=n, quantities=["max(u)"]).save(tmp_path / "uq", model.mesh_)
    page = _page(small_block, tmp_path, [tmp_path / "uq"])
    assert "<h2>Uncertainty propagation, run 1 of 2</h2>" in page
    assert "<h2>Uncertainty propagation, run 2 of 2</h2>" in page
    assert "<h2>Results of the uses</h2>" in page
    assert f"<td>{tmp_path / 'uq'}</td>" in page and f"<td>{tmp_path / 'uq-2'}</td>" in page
    assert page.index("64 qmc samples") < page.index("32 qmc samples")  # oldest first


def test_the_report_shows_one_optimum_and_a_later_pareto_front(small_block, tmp_path) -> None:
    model = small_block.rbf
    optimize(model, "max(u)", n_starts=2).save(tmp_path / "opt")
    pareto_front(model, {"max(u)": "min", "mean(u)": "max"}, n_trials=16).save(tmp_path / "opt")
    page = _page(small_block, tmp_path, [tmp_path / "opt"])
    assert "<h2>Design optimization, run 1 of 2</h2>" in page
    assert "<p>minimum of max(u)" in page and "Pareto-optimal of 16 trials" in page


@pytest.mark.parametrize(
    ("n", "text"),
    [
        *[(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th")],
        *[(13, "13th"), (21, "21st"), (22, "22nd"), (23, "23rd"), (101, "101st"), (112, "112th")],
    ],
)
def test_ordinals(n: int, text: str) -> None:
    assert ordinal(n) == text


def test_the_pareto_table_says_which_rows_it_shows(small_block, tmp_path) -> None:
    front = pareto_front(small_block.rbf, {"max(u)": "min", "mean(u)": "max"}, n_trials=80)
    folder = front.save(tmp_path / "opt")[0].parent
    doc = json.loads((folder / "optimize.json").read_text())
    doc["pareto_front"] = (doc["pareto_front"] * 50)[:50]  # 50 points: every 3rd of them
    (folder / "optimize.json").write_text(json.dumps(doc))
    page = _page(small_block, tmp_path, [folder])
    (note,) = [n for n in _notes(page) if "Pareto-optimal" in n]
    assert note == "50 Pareto-optimal of 80 trials; every 3rd shown, by the first objective"


def test_the_report_says_which_samples_verify_appended(small_block, tmp_path) -> None:
    data = Dataset(shutil.copytree(small_block.train.path, tmp_path / "train.nirom"))
    result, _ = optimize_verified(data, small_block.rbf, "max(u)", max_iterations=1, n_starts=2)
    folder = result.save(tmp_path / "opt")[0].parent
    day = data.read_meta(64)["written_at"][:10]
    # the report of the model fitted before: 65 samples in the dataset, 64 in the fit
    page = _page(small_block, tmp_path, [folder], train=data)
    assert (
        "65 samples in the dataset; the model was fitted on 64; 1 appended by "
        f"<code>nirom optimize --verify</code> on {day} (samples 64; result {folder}), not in "
        "this model's fit." in _notes(page)
    )
    assert f"each solved sample was appended to {data.path.resolve()}" in page
    # without the optimize result, the report still counts them, and says what it cannot know
    page = _page(small_block, tmp_path, [], train=data)
    assert (
        "65 samples in the dataset; the model was fitted on 64; 1 not used by the model "
        f"(samples 64, written on {day}); the dataset does not record what added them"
    ) in page


def test_negative_quantiles_of_a_field_never_negative_are_explained(small_block, tmp_path):
    model = small_block.gp
    folder = propagate(model, n_samples=64).save(tmp_path / "uq", model.mesh_)[0].parent
    doc = json.loads((folder / "uq.json").read_text())
    assert doc["fields"]["u"]["unit"] == "1"
    assert set(doc["fields"]["u"]["minimum"]) == {"mean", "q0.05", "q0.5", "q0.95"}
    doc["fields"]["u"]["minimum"]["q0.05"] = -0.0012  # as a surrogate's undershoot near zero
    (folder / "uq.json").write_text(json.dumps(doc))
    page = _page(small_block, tmp_path, [folder], train=small_block.train)
    assert (
        "u is not negative in any of the 64 training samples, yet the q0.05 map reaches -0.0012"
        in page
    )
    assert "The error bars (mean +- z std, Gaussian) also extend below zero" in page
    assert page.index("uq_field_u.png") < page.index("is not negative in any")  # under the maps
    assert "<td>1 (dimensionless)</td>" in page


def test_uq_colour_bars_name_the_field_and_its_unit(small_block, tmp_path, monkeypatch) -> None:
    import nirom.apps.plots as plots

    seen = []
    real = plots.plot_maps

    def spy(mesh, panels, path, title="", *, colorbars=""):
        seen.append((len(panels), colorbars))
        return real(mesh, panels, path, title, colorbars=colorbars)

    monkeypatch.setattr(plots, "plot_maps", spy)
    model = small_block.gp
    propagate(model, n_samples=32).save(tmp_path / "uq", model.mesh_)
    ((n, bars),) = seen
    assert bars == ["u (dimensionless)"] * (n - 1) + ["share of the variance"]
    with pytest.raises(ValueError, match="2 colour-bar labels for 3 panels"):
        real(
            model.mesh_,
            [("a", model.mesh_.points[:, 0])] * 3,
            tmp_path / "x.png",
            colorbars=["a", "b"],
        )


def test_the_calibration_section_shows_its_observations(small_block, tmp_path) -> None:
    obs = {"field": "u", "nodes": [40, 84], "values": [0.05, 0.06], "noise_std": 0.003}
    result = calibrate(small_block.gp, obs, n_walkers=16, n_steps=40)
    paths = result.save(tmp_path / "cal")
    assert "observations.png" in {p.name for p in paths}
    doc = json.loads((tmp_path / "cal" / "calibrate.json").read_text())
    x, y = small_block.gp.mesh_.points[40, :2]
    assert doc["sensor_locations"]["u[40]"][:2] == pytest.approx([x, y])
    page = _page(small_block, tmp_path, [tmp_path / "cal"])
    assert "<p>Observations used</p>" in page
    row = re.search(
        r"<tr><td>u\[40\]</td><td>\(([^)]*)\)</td><td>([^<]*)</td><td>([^<]*)</td>", page
    )
    assert row is not None and row.group(2) == "0.05" and row.group(3) == "0.003"


def test_the_terminal_summary_names_the_unit(small_block) -> None:
    from rich.console import Console

    from nirom.estimator import jsonable
    from nirom.report.uses import print_uq

    result = propagate(small_block.rbf, n_samples=32)
    result.units = {"u": "K"}
    console = Console(record=True, width=200)
    print_uq(jsonable(result.summary()), console)
    assert "field u [K]: mean in [" in console.export_text()
