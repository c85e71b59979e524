"""nirom.documents.read_document: the one reader of small JSON/TOML files."""

from pathlib import Path

import pytest

from nirom.documents import read_document
from nirom.errors import StudyError

_WORDS = {"missing": "study file not found", "unreadable": "not a readable TOML file"}


def test_reads_toml_and_json(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "a.json").write_text('{"x": 1}', encoding="utf-8")
    assert read_document(tmp_path / "a.toml", StudyError, toml=True, **_WORDS) == {"x": 1}
    assert read_document(tmp_path / "a.json", StudyError, toml=False, **_WORDS) == {"x": 1}


def test_missing_file_is_one_line_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "none.toml"
    with pytest.raises(StudyError) as info:
        read_document(path, StudyError, toml=True, **_WORDS)
    assert str(info.value).splitlines()[0] == f"{path}: study file not found"


@pytest.mark.parametrize("content", [b"x = = 1", b"\xff\xfe"])
def test_unreadable_file_names_it_and_the_reason(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    with pytest.raises(StudyError) as info:
        read_document(path, StudyError, toml=True, **_WORDS)
    assert str(info.value).startswith(f"{path}: not a readable TOML file (")
