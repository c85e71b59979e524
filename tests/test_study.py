"""Studies declared in TOML: checked with clear errors, run end to end."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from nirom import Dataset
from nirom.cli import main
from nirom.study import StudyError, load_study

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

SMALL = textwrap.dedent(
    """
    out = "results"

    [solver]
    name = "thermal-block"
    options = { nx_blocks = 2, ny_blocks = 2, resolution = 12 }

    [train]
    samples = 12

    [test]
    samples = 4
    design = "random"
    seed = 1

    [generation]
    workers = 0

    [[surrogates]]
    model = "pod-gp"
    energy = 1e-4
    options = { n_restarts = 0 }

    [[surrogates]]
    model = "pod-rbf"
    modes = 3
    """
)


def test_run_a_study_from_the_shell(tmp_path: Path, capsys) -> None:
    study = tmp_path / "study.toml"
    study.write_text(SMALL)
    assert main(["run", str(study)]) == 0
    out = tmp_path / "results"
    assert len(Dataset(out / "train.nirom")) == 12 and len(Dataset(out / "test.nirom")) == 4
    report = json.loads((out / "report.json").read_text())
    assert set(report) == {"pod-gp", "pod-rbf"}
    assert report["pod-rbf"]["fields"]["u"]["n_modes"] == 3
    assert report["pod-gp"]["fields"]["u"]["coverage"] is not None
    assert (out / "pod-gp.model" / "model.json").is_file()
    assert (out / "u_error_vs_modes.png").is_file()
    assert "Surrogates on 4 held-out samples" in capsys.readouterr().out


def test_shipped_example_is_a_valid_study() -> None:
    config = load_study(EXAMPLES / "thermal_block_study.toml")
    assert config["train"]["samples"] > 0


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda t: t.replace('name = "thermal-block"', ""), "exactly one of 'name' or 'config'"),
        (lambda t: t.replace("samples = 12", "samples = 0"), r"\[train\] samples"),
        (lambda t: t.replace('model = "pod-rbf"', 'model = "forest"'), "'forest'"),
        (lambda t: t.replace("modes = 3", "mode = 3"), "unknown surrogate entry key"),
        (lambda t: t.replace('design = "random"', 'design = "halton"'), r"\[test\] design"),
        (lambda t: t + "\n[[[", "not a readable TOML file"),
    ],
)
def test_bad_study_files_name_the_problem(tmp_path: Path, edit, match: str) -> None:
    study = tmp_path / "study.toml"
    study.write_text(edit(SMALL))
    with pytest.raises(StudyError, match=match):
        load_study(study)


def test_missing_study_is_a_one_line_error(tmp_path: Path, capsys) -> None:
    assert main(["run", str(tmp_path / "nope.toml")]) == 1
    assert "study file not found" in capsys.readouterr().err


NEURAL = textwrap.dedent(
    """
    out = "results"

    [solver]
    name = "burgers"
    options = { resolution = 64 }

    [train]
    samples = 24

    [test]
    samples = 6
    seed = 1

    [generation]
    workers = 0

    [[surrogates]]
    model = "fno"
    options = { modes = 8, width = 8, n_layers = 1, epochs = 2, progress = false }

    [[surrogates]]
    model = "pod-rbf"
    modes = 4

    [evaluation]
    norm = "euclidean"
    """
)


def test_a_study_of_field_inputs_compares_a_neural_operator_and_pca(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    study = tmp_path / "study.toml"
    study.write_text(NEURAL)
    assert main(["run", str(study)]) == 0
    report = json.loads((tmp_path / "results" / "report.json").read_text())
    assert set(report) == {"fno", "pod-rbf"}
    assert report["fno"]["fields"]["u"]["norm"] == "Euclidean"
    assert (tmp_path / "results" / "fno.model" / "model.json").is_file()


def test_shipped_burgers_example_is_a_valid_study() -> None:
    config = load_study(EXAMPLES / "burgers_study.toml")
    assert config["surrogates"][0]["model"] == "fno"


HROM = textwrap.dedent(
    """
    [solver]
    name = "plate-hole"

    [train]
    samples = 3

    [generation]
    workers = -1
    scheduler = "cosine"

    [[surrogates]]
    model = "hrom"
    """
)


def test_hrom_takes_the_generation_workers_and_scheduler_unless_its_options_give_them(
    tmp_path: Path,
) -> None:
    study = tmp_path / "study.toml"
    study.write_text(HROM)
    with pytest.raises(StudyError, match="study.toml: hrom: workers must be a non-negative"):
        load_study(study)
    study.write_text(HROM.replace("workers = -1", "workers = 1"))
    with pytest.raises(StudyError, match="study.toml: hrom: scheduler must be a Dask scheduler"):
        load_study(study)
    study.write_text(HROM + 'options = { workers = 0, scheduler = "tcp://127.0.0.1:8786" }\n')
    assert load_study(study)["surrogates"][0]["model"] == "hrom"
    # fno fits in this process: its `scheduler` (of the learning rate) is not the Dask one
    fno = HROM.replace('"cosine"', '"tcp://127.0.0.1:8786"').replace('"hrom"', '"fno"')
    study.write_text(fno)
    assert load_study(study)["surrogates"][0]["model"] == "fno"
