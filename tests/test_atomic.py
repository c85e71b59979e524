"""Build aside, fsync, rename into place: whole or nothing, and the old copy kept on failure."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nirom.atomic import _aside_name, built_aside, fsync_tree, move_into_place, remove_stale_aside


def test_a_finished_build_appears_whole_and_leaves_no_scratch(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "model"
    with built_aside(target, tag="saving") as tmp:
        assert not tmp.exists() and tmp.parent == target.parent
        tmp.mkdir()
        (tmp / "a.json").write_text("{}")
        assert not target.exists()  # nothing visible while building
    assert (target / "a.json").read_text() == "{}"
    assert sorted(p.name for p in target.parent.iterdir()) == ["model"]


def test_a_failed_build_leaves_what_was_there(tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(RuntimeError), built_aside(target, replace=True) as tmp:
        tmp.mkdir()
        (tmp / "new.txt").write_text("new")
        raise RuntimeError("killed half way")
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
    assert (target / "old.txt").read_text() == "old"


def test_replace_swaps_a_whole_folder_and_no_replace_refuses(tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with built_aside(target, replace=True) as tmp:
        tmp.mkdir()
        (tmp / "new.txt").write_text("new")
    assert [p.name for p in target.iterdir()] == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
    with pytest.raises(FileExistsError), built_aside(target) as tmp:
        tmp.mkdir()
        (tmp / "other.txt").write_text("x")
    assert [p.name for p in target.iterdir()] == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_an_empty_folder_is_replaced_without_replace(tmp_path: Path) -> None:
    new, target = tmp_path / "new", tmp_path / "target"
    new.mkdir()
    (new / "f").write_text("1")
    target.mkdir()
    fsync_tree(new)
    move_into_place(new, target)
    assert (target / "f").read_text() == "1" and not new.exists()


def test_a_writer_killed_while_saving_leaves_a_folder_the_next_save_removes(
    tmp_path: Path,
) -> None:
    target = tmp_path / "model"
    killed = (
        "import os, sys\n"
        "from nirom.atomic import built_aside\n"
        "with built_aside(sys.argv[1], replace=True, tag='saving') as tmp:\n"
        "    tmp.mkdir()\n"
        "    os._exit(9)  # killed mid-save: no clean-up runs\n"
    )
    subprocess.run([sys.executable, "-c", killed, str(target)], check=False, timeout=120)
    [left] = tmp_path.iterdir()
    assert left.name.startswith(".model.saving-") and not any(left.iterdir())
    live = tmp_path / _aside_name(target, "saving")  # a writer alive now (this process)
    live.mkdir()
    with built_aside(target, replace=True, tag="saving") as tmp:
        tmp.mkdir()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["model", live.name])


def test_leftovers_of_older_versions_go_when_a_day_old(tmp_path: Path) -> None:
    target = tmp_path / "data.nirom"
    old, young = (
        tmp_path / ".data.nirom.creating-0123abcd",
        tmp_path / ".data.nirom.saving-89ef4567",
    )
    other = tmp_path / ".other.saving-0123abcd"  # another target's: not this write's business
    for folder in (old, young, other):
        folder.mkdir()
    day_ago = time.time() - 25 * 3600
    for folder in (old, other):
        os.utime(folder, (day_ago, day_ago))
    assert remove_stale_aside(target) == [old]
    assert young.is_dir() and other.is_dir()


def test_the_only_copy_of_a_replaced_folder_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "model"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(dead.stdout)
    trash = tmp_path / _aside_name(target, "old").replace(f"-{os.getpid()}-", f"-{pid}-")
    trash.mkdir()  # killed between moving the old copy aside and the new one in
    assert remove_stale_aside(target) == [] and trash.is_dir()
    target.mkdir()
    assert remove_stale_aside(target) == [trash]
