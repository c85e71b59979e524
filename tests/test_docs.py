"""The documentation site (docs/): its pages hang together, and (``-m slow``) it builds.

The default run checks what needs no build: every relative link of README.md and of the
docs pages names a file that exists, every tutorial and guide page is in its table of
contents, every tutorial is an executed MyST notebook, and the command reference lists
every verb of ``nirom``. ``-m slow`` builds the site as README says (warnings are errors,
every tutorial executed; about 10 minutes on 2 cores) and checks that each tutorial's page
holds its figures.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def relative_links(page: Path) -> list[str]:
    """The relative link targets of a Markdown page (not URLs, not anchors alone)."""
    return [t for t in LINK.findall(page.read_text()) if "://" not in t]


@pytest.mark.parametrize(
    "page",
    [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_every_relative_link_names_a_file(page: Path) -> None:
    if "_build" in page.parts or "generated" in page.parts:
        pytest.skip("build output")
    missing = [t for t in relative_links(page) if not (page.parent / t).exists()]
    assert not missing, f"{page.relative_to(ROOT)} links to missing {missing}"


def toctree_entries(index: Path) -> set[str]:
    """The entries of the toctree blocks of an index page."""
    blocks = re.findall(r"```\{toctree\}\n(.*?)```", index.read_text(), flags=re.DOTALL)
    return {line.strip() for b in blocks for line in b.splitlines() if line and ":" not in line}


@pytest.mark.parametrize("folder", ["tutorials", "guide"])
def test_every_page_is_in_its_table_of_contents(folder: str) -> None:
    pages = {p.stem for p in (DOCS / folder).glob("*.md") if p.stem != "index"}
    listed = toctree_entries(DOCS / folder / "index.md")
    assert pages == listed, f"docs/{folder}/index.md: add {pages - listed}, drop {listed - pages}"


def test_every_tutorial_is_an_executed_notebook() -> None:
    tutorials = [p for p in (DOCS / "tutorials").glob("*.md") if p.stem != "index"]
    assert len(tutorials) >= 8
    for page in tutorials:
        text = page.read_text()
        assert text.startswith("---\nfile_format: mystnb\n"), f"{page.name}: not a MyST notebook"
        assert "```{code-cell}" in text, f"{page.name}: no code cell"
        assert "```python" not in text, f"{page.name}: a ```python block is shown, not run"


def test_the_command_reference_lists_every_verb() -> None:
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        from cli_commands import click_command
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    from nirom.cli.app import app_verbs

    assert set(click_command().commands) == set(app_verbs())


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_site_builds_without_warnings_with_every_tutorial_executed(tmp_path: Path) -> None:
    pytest.importorskip("myst_nb")
    pytest.importorskip("torch")
    out = tmp_path / "html"
    command = ["-m", "sphinx", "-W", "--keep-going", "-b", "html", "-q", "-E", str(DOCS), str(out)]
    done = subprocess.run(
        [sys.executable, *command],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-5000:]
    for page in (DOCS / "tutorials").glob("*.md"):
        if page.stem == "index":
            continue
        html = (out / "tutorials" / f"{page.stem}.html").read_text()
        assert "<img" in html or page.stem == "scaling-out", f"{page.stem}: no figure"
