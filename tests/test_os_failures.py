"""A full disk, a read-only folder and Ctrl-C: one line naming the path and cause, exit 1/130.

The full disk and the read-only folder are real: small tmpfs mounts (the test skips where
this process may not mount, e.g. without root). Ctrl-C is a real SIGINT to the process
group of a ``nirom generate`` running on a local Dask cluster.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nirom import Dataset
from nirom.cli import main

SMALL = ["-s", "resolution=12", "-s", "nx_blocks=2", "-s", "ny_blocks=2"]


@pytest.fixture
def mount(tmp_path: Path) -> Iterator:
    """``mount(options) -> folder``: a tmpfs mounted there, unmounted after the test."""
    folders: list[Path] = []

    def make(options: str) -> Path:
        folder = tmp_path / f"mnt{len(folders)}"
        folder.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        folders.append(folder)
        return folder

    yield make
    for folder in folders:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _one_error_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_full_disk_stops_generation_with_one_line(mount, capsys) -> None:
    full = mount("size=200k")
    out = full / "tb.nirom"
    code = main(["generate", "thermal-block", "-n", "12", "-o", str(out), "-w", "0", *SMALL])
    line = _one_error_line(capsys.readouterr().err)
    assert code == 1
    assert line == f"error: {out}: No space left on device"
    ds = Dataset(out)  # what was written before stays readable
    done = [i for i, s in ds.statuses().items() if s == "done"]
    assert len(done) == len(ds.field("u", done)) > 0
    assert "failed" not in ds.statuses().values()  # no sample blamed for the disk


@pytest.mark.parametrize("verb", ["generate", "fit", "export"])
def test_read_only_folder_is_one_line(verb: str, mount, small_block, capsys) -> None:
    ro = mount("ro,size=64k")
    args = {
        "generate": ["generate", "thermal-block", "-n", "2", "-o", str(ro / "x"), "-w", "0"],
        "fit": ["fit", str(small_block.train.path), "--model", "pod-rbf", "-o", str(ro / "x")],
        "export": ["export", str(small_block.train.path), "--out", str(ro / "x")],
    }[verb]
    assert main(args) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert line == f"error: {ro / 'x'}: Read-only file system"


def test_ctrl_c_on_a_local_cluster_is_one_line_and_status_130(tmp_path: Path) -> None:
    out = tmp_path / "tb.nirom"
    busy = socket.socket()  # Dask's default dashboard port taken: no warning about it either
    with contextlib.suppress(OSError):
        busy.bind(("", 8787))
        busy.listen()
    command = [sys.executable, "-m", "nirom.cli", "generate", "thermal-block", "-n", "400"]
    command += ["-o", str(out), "-w", "2", "-s", "resolution=96"]
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal gives it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 240
        while not _some_done(out) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        assert proc.poll() is None, proc.communicate()
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    finally:
        busy.close()
    assert proc.returncode == 130
    assert _one_error_line(err).startswith("error: interrupted (Ctrl-C)")  # no 8787 warning
    ds = Dataset(out)
    done = [i for i, s in ds.statuses().items() if s == "done"]
    assert len(ds.field("u", done)) == len(done) > 0


def _some_done(path: Path) -> bool:
    try:
        return "done" in Dataset(path).statuses().values()
    except Exception:  # not created yet
        return False
