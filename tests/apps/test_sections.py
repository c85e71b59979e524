"""The use sections of a study: the shipped example, run small, and its checks."""

from __future__ import annotations

import copy
import json
import textwrap
from pathlib import Path

import pytest
from rich.console import Console

from nirom.study import StudyError, check_study, load_study, run_study

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "thermal_block_uses_study.toml"


def _small(config: dict, base: Path) -> dict:
    c = copy.deepcopy(config)
    c["_base"] = str(base)
    c["solver"]["options"]["resolution"] = 12
    c["train"]["samples"], c["test"]["samples"] = 24, 6
    c["generation"]["workers"] = 0
    c["surrogates"][0].update(energy=1e-2, options={"n_restarts": 0})  # a few modes: fast fits
    c["uq"]["samples"] = 256
    c["sensitivity"].update(n_base=32, resamples=10)
    c["optimize"].update(max_iterations=1, starts=1)
    c["calibrate"].update(steps=120, walkers=24)
    return c


@pytest.mark.slow
def test_the_example_study_runs_every_use(tmp_path: Path) -> None:
    config = _small(load_study(EXAMPLE), tmp_path)
    result = run_study(config, console=Console(quiet=True))
    out = tmp_path / config["out"]
    for kind in ("uq", "sensitivity", "optimize", "calibrate"):
        summary = json.loads((out / kind / f"{kind}.json").read_text())
        assert summary["kind"] == kind
    assert set(result["uses"]) == {"uq", "sensitivity", "optimize", "calibrate", "report"}
    uq = json.loads((out / "uq" / "uq.json").read_text())
    assert uq["distributions"]["k_4"] == "lognormal(mean_log=0, std_log=0.5)"
    optimum = json.loads((out / "optimize" / "optimize.json").read_text())
    assert len(optimum["verification"]) == 1
    assert (out / "optimize" / "refitted.model" / "model.json").is_file()
    assert len(result["train"]) == 24  # the study's own training set is left as designed
    page = (out / "report.html").read_text()
    assert "Bayesian calibration" in page and "Design optimization" in page


SMALL = textwrap.dedent(
    """
    out = "results"
    [solver]
    name = "thermal-block"
    options = { nx_blocks = 2, ny_blocks = 2, resolution = 8 }
    [train]
    samples = 16
    [test]
    samples = 4
    seed = 1
    [generation]
    workers = 0
    [[surrogates]]
    model = "pod-gp"
    modes = 3
    options = { n_restarts = 0 }
    [uq]
    samples = 128
    distributions = { k_0 = "truncnormal(1, 0.5, 0.2, 3)" }
    [sensitivity]
    n_base = 16
    resamples = 10
    maps = false
    [optimize]
    objectives = { "max(u)" = "min", "mean(u, 0:0.5, 0:0.5)" = "max" }
    trials = 20
    [calibrate]
    observations = "obs.json"
    steps = 60
    walkers = 16
    [report]
    """
)


def test_a_small_study_with_every_section(tmp_path: Path) -> None:
    (tmp_path / "obs.json").write_text(
        json.dumps({"quantities": ["max(u)", "u[40]"], "values": [0.08, 0.05], "noise_std": 0.005})
    )
    (tmp_path / "study.toml").write_text(SMALL)
    result = run_study(load_study(tmp_path / "study.toml"), console=Console(quiet=True))
    out = tmp_path / "results"
    assert set(result["uses"]) == {"uq", "sensitivity", "optimize", "calibrate", "report"}
    assert json.loads((out / "uq" / "uq.json").read_text())["n_samples"] == 128
    assert "pareto_front" in json.loads((out / "optimize" / "optimize.json").read_text())
    calibration = json.loads((out / "calibrate" / "calibrate.json").read_text())
    assert calibration["observations"]["quantities"] == ["max(u)", "u[40]"]
    assert (out / "report.html").stat().st_size > 10_000


BASE = textwrap.dedent(
    """
    [solver]
    name = "thermal-block"
    [train]
    samples = 4
    [[surrogates]]
    model = "pod-rbf"
    """
)


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ("[uq]\nsample = 10\n", r"\[uq\] unknown key\(s\) \['sample'\]"),
        ("[sensitivity]\nmodel = 'pod-gp'\n", "model 'pod-gp' is not one of the study's"),
        ("[optimize]\nminimize = 'max(u)'\nmaximize = 'mean(u)'\n", "give one of minimize"),
        ("[calibrate]\nsteps = 10\n", "exactly one of 'observations' or 'synthetic'"),
        ("[report]\n", r"\[report\] needs a \[test\] set"),
    ],
)
def test_bad_sections_are_named(tmp_path: Path, extra: str, match: str) -> None:
    path = tmp_path / "study.toml"
    path.write_text(BASE + extra)
    with pytest.raises(StudyError, match=match):
        load_study(path)


def test_unknown_quantity_is_refused_before_any_solve(tmp_path: Path) -> None:
    path = tmp_path / "study.toml"
    path.write_text(BASE + "[uq]\nquantities = ['max(T)']\n")
    config = load_study(path)
    check_study(config)
    with pytest.raises(StudyError, match="unknown field 'T'"):
        run_study(config, console=Console(quiet=True))
    assert not (tmp_path / "study").exists()
