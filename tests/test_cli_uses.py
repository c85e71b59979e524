"""The verbs of the uses from the shell: defaults that run alone, one-line errors."""

from __future__ import annotations

import json

import pytest

from nirom.cli import main


def test_uq_and_sensitivity_run_with_no_option(small_block, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["uq", str(small_block.gp_path)]) == 0
    out = capsys.readouterr().out
    assert "4096 QMC samples" in out and "mean(u)" in out and "max(u)" in out
    summary = json.loads((tmp_path / "gp-uq" / "uq.json").read_text())
    assert summary["surrogate_error"] and "uq_field_u.png" in summary["plots"]
    assert main(["sensitivity", str(small_block.gp_path)]) == 0
    out = capsys.readouterr().out
    assert "Sobol indices of mean(u)" in out and "Sobol indices of max(u)" in out
    assert (tmp_path / "gp-sensitivity" / "sensitivity_u_ST.png").is_file()


def test_uq_options_and_json(small_block, tmp_path, capsys) -> None:
    args = [
        "uq",
        str(small_block.rbf_path),
        "-n",
        "256",
        "--method",
        "mc",
        "-q",
        "u[40]",
        "-d",
        "k_0=normal(mean=1, std=0.2)",
        "--quantile",
        "0.5",
        "-o",
        str(tmp_path / "r"),
        "--json",
    ]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["distributions"]["k_0"] == "normal(mean=1, std=0.2)"
    assert list(summary["quantities"]) == ["u[40]"] and not summary["surrogate_error"]


def test_optimize_single_and_pareto(small_block, tmp_path, capsys) -> None:
    model = str(small_block.gp_path)
    assert (
        main(
            [
                "optimize",
                model,
                "--minimize",
                "max(u)",
                "-c",
                "mean(u) >= 0.03",
                "--starts",
                "2",
                "-o",
                str(tmp_path / "o1"),
                "--json",
            ]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["feasible"] and result["constraints"]["mean(u) >= 0.03"] >= 0.03 - 1e-6
    assert (
        main(
            [
                "optimize",
                model,
                "--minimize",
                "max(u)",
                "--maximize",
                "mean(u)",
                "--trials",
                "24",
                "-o",
                str(tmp_path / "o2"),
            ]
        )
        == 0
    )
    assert "Pareto front" in capsys.readouterr().out
    assert (tmp_path / "o2" / "pareto_front.png").is_file()


def test_calibrate_and_report(small_block, tmp_path, capsys) -> None:
    obs = tmp_path / "obs.json"
    obs.write_text(
        json.dumps({"field": "u", "nodes": [40, 84], "values": [0.05, 0.06], "noise_std": 0.003})
    )
    assert (
        main(
            [
                "calibrate",
                str(small_block.gp_path),
                str(obs),
                "--steps",
                "40",
                "--walkers",
                "16",
                "-o",
                str(tmp_path / "cal"),
            ]
        )
        == 0
    )
    out = " ".join(capsys.readouterr().out.split())  # rich wraps long lines
    assert "Posterior" in out
    assert "surrogate error in the likelihood: its covariance at the sensors" in out
    assert "the 2 sensors are worth" in out
    args = ["calibrate", str(small_block.gp_path), str(obs), "--steps", "40", "--walkers", "16"]
    assert main([*args, "--independent", "-o", str(tmp_path / "ind"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["surrogate_covariance"] == "diagonal"
    page = tmp_path / "report.html"
    assert (
        main(
            [
                "report",
                str(small_block.gp_path),
                str(small_block.test.path),
                "--out",
                str(page),
                "--results",
                str(tmp_path / "cal"),
            ]
        )
        == 0
    )
    assert "Bayesian calibration" in page.read_text()


def test_fit_records_its_time_and_data(small_block, tmp_path) -> None:
    out = tmp_path / "m.model"
    assert main(["fit", str(small_block.train.path), "--model", "pod-rbf", "--out", str(out)]) == 0
    record = json.loads((out / "fit.json").read_text())
    assert record["fit_s"] > 0 and record["training_samples"] == len(small_block.train)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["uq", "{gp}", "-d", "k_0=normal(5, 3)"], "parameter 'k_0': normal(5, 3) puts"),
        (["uq", "{gp}", "-q", "max(T)"], "unknown field 'T'"),
        (["uq", "{gp}", "-d", "k_0"], "expected NAME=SPEC"),
        (["sensitivity", "{gp}", "--n-base", "100"], "n_base must be a power of 2"),
        (["optimize", "{gp}", "--minimize", "max(u)", "-c", "mean(u) = 1"], "write QUANTITY <="),
        (["calibrate", "{gp}", "{bad}"], "'values' has 3 entries per measurement for 2 sensors"),
        (["calibrate", "{gp}", "{missing}"], "observations file not found"),
        (["uq", "{missing}"], "nothing: no such model directory"),
        (["optimize", "{gp}", "--fix", "k_0=hot"], "fixed parameter 'k_0': 'hot' is not a number"),
        (["calibrate", "{gp}", "{good}", "--walkers", "4"], "needs at least 8 (2 per parameter)"),
    ],
)
def test_bad_input_is_one_line(small_block, tmp_path, capsys, args, match: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"field": "u", "nodes": [1, 2], "values": [1, 2, 3], "noise_std": 1}))
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"quantities": ["max(u)"], "values": [0.1], "noise_std": 0.01}))
    names = {"gp": small_block.gp_path, "bad": bad, "good": good, "missing": tmp_path / "nothing"}
    argv = [a.format(**names) for a in args] + ["-o", str(tmp_path / "o")]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert match in err and len(err.splitlines()) == 1, err
