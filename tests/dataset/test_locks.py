"""Per-id sample locks: exclusive across writers, and no lock files left in staging/."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from types import SimpleNamespace

from rich.console import Console

from nirom.dataset.publish import _locked, clean_locks, id_lock
from nirom.generation import generate


def lock_files(path: Path) -> list[str]:
    return sorted(p.name for p in (path / "staging").iterdir() if p.suffix == ".lock")


def test_generated_samples_leave_no_lock_files(tmp_path: Path) -> None:
    out = tmp_path / "tb"
    generate(
        "thermal-block",
        out,
        5,
        workers=0,
        solver_options={"resolution": 12},
        console=Console(quiet=True),
    )
    assert lock_files(out) == []


def test_the_lock_stays_exclusive_while_its_files_come_and_go(tmp_path: Path) -> None:
    # flock conflicts between open files even in one process: threads act as writers.
    ds = SimpleNamespace(path=tmp_path)
    (tmp_path / "staging").mkdir()
    counter = tmp_path / "counter"
    counter.write_text("0")

    def writer() -> None:
        for _ in range(40):
            with id_lock(ds, 3):  # read, wait, write: a lost update if two hold it at once
                value = int(counter.read_text())
                time.sleep(0.0005)
                counter.write_text(str(value + 1))

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert int(counter.read_text()) == 160
    assert lock_files(tmp_path) == []


def test_leftover_lock_files_go_unless_held(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    for name in ("s00000001.lock", "s00000002.lock"):
        (staging / name).touch()  # left by an earlier version
    held = _locked(staging / "s00000002.lock", blocking=True)  # a live writer's
    try:
        assert clean_locks(tmp_path) == 1
        assert lock_files(tmp_path) == ["s00000002.lock"]
    finally:
        os.close(held)
    assert clean_locks(tmp_path) == 1 and lock_files(tmp_path) == []
