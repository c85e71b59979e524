"""Result folders: a run never replaces an earlier one; every kept run is found again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nirom.apps.optimization import optimize, pareto_front
from nirom.apps.results import find_results, result_folder, write_results
from nirom.apps.uq import propagate


def _write(out: Path, kind: str = "uq", **summary) -> Path:
    folder = result_folder(out, kind)
    return write_results(folder, kind, {"kind": kind, **summary}, {}, [])[0].parent


def test_a_second_run_goes_to_a_numbered_folder(tmp_path: Path) -> None:
    out = tmp_path / "gp-uq"
    assert _write(out, n=1) == out
    assert _write(out, n=2) == tmp_path / "gp-uq-2"
    assert _write(out, n=3) == tmp_path / "gp-uq-3"
    assert json.loads((out / "uq.json").read_text())["n"] == 1  # the first is kept
    assert [d["n"] for d in find_results([out])] == [1, 2, 3]
    # another kind in the same folder is no clash; a replacing run writes in place
    assert _write(out, "optimize") == out
    assert result_folder(out, "uq", replace=True) == out


def test_numbers_follow_the_runs_and_relative_paths_stay_relative(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _write(Path("r"))
    (tmp_path / "r-7").mkdir()  # a gap: the next run comes after the largest number
    assert _write(Path("r")) == Path("r-8")
    assert _write(Path("."), "sensitivity") == Path(".")
    assert _write(Path("."), "sensitivity") == tmp_path.with_name(f"{tmp_path.name}-2")


def test_two_uq_runs_keep_both_folders(small_block, tmp_path: Path) -> None:
    model = small_block.rbf
    first = propagate(model, n_samples=64, seed=0).save(tmp_path / "uq", model.mesh_)
    second = propagate(model, n_samples=32, seed=1).save(tmp_path / "uq", model.mesh_)
    assert first[0].parent == tmp_path / "uq" and second[0].parent == tmp_path / "uq-2"
    assert all(p.is_file() for p in [*first, *second])
    assert [d["n_samples"] for d in find_results([tmp_path / "uq"])] == [64, 32]


def test_a_pareto_front_after_one_optimum_keeps_both(small_block, tmp_path: Path) -> None:
    model = small_block.rbf
    single = optimize(model, "max(u)", n_starts=2).save(tmp_path / "opt")
    front = pareto_front(model, {"max(u)": "min", "mean(u)": "max"}, n_trials=16).save(
        tmp_path / "opt"
    )
    assert single[0].parent == tmp_path / "opt" and front[0].parent == tmp_path / "opt-2"
    found = find_results([tmp_path / "opt"])
    assert ["pareto_front" in d for d in found] == [False, True]
    assert found[0]["objective"] == "max(u)"


def test_the_uq_verb_says_where_the_second_run_went(small_block, tmp_path, capsys) -> None:
    from nirom.cli import main

    argv = ["uq", str(small_block.rbf_path), "-n", "32", "-o", str(tmp_path / "r")]
    assert main(argv) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"file(s) to {tmp_path / 'r'}" in out and "r-2" not in out
    assert main(argv) == 0
    out = " ".join(capsys.readouterr().out.split())  # rich may wrap a long path
    assert f"file(s) to {tmp_path / 'r-2'}" in out
    assert (tmp_path / "r" / "uq.json").is_file() and (tmp_path / "r-2" / "uq.json").is_file()
