"""Build aside, fsync, rename into place: whole or nothing, and the old copy kept on failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from nirom.atomic import built_aside, fsync_tree, move_into_place


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
