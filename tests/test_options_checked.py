"""Options are checked before any work: one line naming the option, nothing created."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nirom.cli import main
from nirom.distributed import _under_main_guard, check_workers
from nirom.errors import NiromError

GEN = ["generate", "thermal-block", "-n", "2", "-s", "resolution=12"]


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["-w", "-1"], "--workers must be an integer >= 0"),
        (["--scheduler", "nonsense://x"], "--scheduler 'nonsense://x': expected tcp://HOST:PORT"),
        (["--scheduler", "CLOSED"], "cannot reach the Dask scheduler at tcp://127.0.0.1:"),
        (["-s", "nx_blocks=abc"], "nx_blocks must be an integer >= 1, got 'abc'"),
        (["-s", "resolution=12"], "solver option 'resolution' given twice"),
    ],
)
def test_bad_generate_options_are_one_line_and_create_nothing(
    extra: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = [f"tcp://127.0.0.1:{_closed_port()}" if e == "CLOSED" else e for e in extra]
    assert main([*GEN, "--out", str(tmp_path / "d.nirom"), *extra]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], captured.err
    assert not (tmp_path / "d.nirom").exists()  # nothing created


def test_unreachable_scheduler_fails_fast(tmp_path: Path) -> None:
    with pytest.raises(NiromError, match="cannot reach") as info:
        check_workers(2, f"tcp://127.0.0.1:{_closed_port()}", connect_s=5.0)
    assert "Connection refused" in str(info.value)


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        (["k_0=true", "k_1=1", "k_2=1", "k_3=1"], "parameter 'k_0': expected a number, got True"),
        (["k_0=1", "k_0=2", "k_1=1", "k_2=1", "k_3=1"], "parameter 'k_0' given twice"),
    ],
)
def test_bad_predict_parameters_are_refused(
    small_block, pairs: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [x for pair in pairs for x in ("-p", pair)]
    assert main(["predict", str(small_block.rbf_path), *args]) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--modes", "0"], "pod-gp: n_modes must be a positive integer"),
        (["--energy", "2", "--model", "pod-rbf"], "pod-rbf: discarded_energy must be a number"),
    ],
)
def test_bad_fit_options_are_refused_before_reading_data(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "m.model"
    assert main(["fit", str(tmp_path / "no-such.nirom"), "-o", str(out), *args]) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err
    assert not out.exists()


SCRIPT = """\
import nirom
{indent}report = nirom.generate(
{indent}    "thermal-block", "tb.nirom", 2, workers=2, solver_options={{"resolution": 12}}
{indent})
"""


def test_workers_from_an_unguarded_script_is_one_clear_line(tmp_path: Path) -> None:
    script = tmp_path / "unguarded.py"
    script.write_text(SCRIPT.format(indent=""))
    done = subprocess.run(
        [sys.executable, script.name], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert "unguarded.py, line 2" in last and 'if __name__ == "__main__":' in last, done.stderr
    assert "bootstrapping" not in done.stderr and "Nanny" not in done.stderr
    assert not (tmp_path / "tb.nirom").exists()


def test_main_guard_is_recognised(tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    guarded = "if __name__ == '__main__':\n" + textwrap.indent(SCRIPT.format(indent=""), "    ")
    script.write_text(guarded)
    assert _under_main_guard(str(script), 3)
    script.write_text(SCRIPT.format(indent=""))
    assert not _under_main_guard(str(script), 2)
