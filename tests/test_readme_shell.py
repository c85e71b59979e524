"""Every shell block of README.md and of the guide pages (docs/guide/) runs as pasted, in
order, in one fresh folder.

A block preceded by ``<!-- not run: REASON -->`` (set-up with ``pip install``, or one that
needs FEniCSx, covered by ``tests/test_fenicsx_examples.py``) is skipped; every other
``bash`` block runs with ``bash -euo pipefail`` in one temporary folder holding a link
``examples`` to the repository's examples, as a user would run them there.

The default run checks that every block parses (``bash -n``) and holds no synopsis
(``[--opt]``, ``a|b``, ``...``, ``<NAME>``), and runs the blocks ``CHEAP`` names at a test's
sizes (the replacements in ``SMALL``, each of which must occur in the pages). ``-m slow``
runs every runnable block in order at those sizes (about 7 minutes on 2 loaded cores), and
at the README's own sizes, as pasted (an hour or more on 2 cores).
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from test_readme import PAGES, ROOT, pages_text

README = ROOT / "README.md"
SKIP_MARKER = re.compile(r"<!-- not run: ([^>]+?) -->")
BLOCK = re.compile(r"(?:(<!-- not run: [^>]+? -->)\n)?```bash\n(.*?)```", flags=re.DOTALL)

# README shell text -> the same at a test's size (applied to the shell blocks only).
SMALL = {
    "--solver-option resolution=96": "--solver-option resolution=12",
    "--samples 16 --out tb-cli-gp2.model": "--samples 2 --out tb-cli-gp2.model --candidates 64",
    "--samples 1000 --out darcy.nirom -s resolution=85 -s solve_resolution=421": (
        "--samples 12 --out darcy.nirom -s resolution=15 -s solve_resolution=29"
    ),
    "--samples 100 --seed 1 --out darcy-test.nirom -s resolution=85": (
        "--samples 3 --seed 1 --out darcy-test.nirom -s resolution=15 -s solve_resolution=29"
    ),
    "-O modes=12 -O width=32": "-O modes=4 -O width=4",
    "-O epochs=100": "-O epochs=2",
    "--model pod-mlp --out darcy-pcann.model": (
        """--model pod-mlp --out darcy-pcann.model -O 'regressor_params={"epochs": 2}'"""
    ),
    "Darcy(resolution=85)": "Darcy(resolution=15)",
    "--samples 64 --out tb-uses.nirom": "--samples 24 --out tb-uses.nirom -s resolution=12",
    "--seed 1 --out tb-uses-test.nirom": "--seed 1 --out tb-uses-test.nirom -s resolution=12",
    "--energy 1e-4 --out tb-uses.model": (
        """--energy 1e-4 --out tb-uses.model -O 'regressor_params={"n_restarts": 0}'"""
    ),
    "--samples 4 --out plate.nirom": "--samples 2 --out plate.nirom -s resolution=3 -s cycles=1",
    "--samples 32 --out plate-fine.nirom -s resolution=20": (
        "--samples 2 --out plate-fine.nirom -s resolution=3"
    ),
    "-s cycles=5 -s steps_per_cycle=40": "-s cycles=1 -s steps_per_cycle=8",
    "--samples 8 --out cyl.nirom": "--samples 2 --out cyl.nirom",
    "-o rb.model --basis 60 --candidates 2000": (
        "-o rb.model --basis 6 --candidates 50 -s resolution=12"
    ),
    "-n 100 -o rb-test.nirom": "-n 4 -o rb-test.nirom -s resolution=12",
    "-o bracket.model --basis 20 --candidates 500": (
        "-o bracket.model --basis 6 --candidates 50 -s refine=2"
    ),
    "-n 20 -o bracket-test.nirom": "-n 3 -o bracket-test.nirom -s refine=2",
    "--samples 64 --out tensile.nirom": "--samples 8 --out tensile.nirom",
    "--samples 16 --out tensile-test.nirom": "--samples 2 --out tensile-test.nirom",
    "--samples 10 --out plate-rom.nirom": (
        "--samples 4 --out plate-rom.nirom -s resolution=3 -s cycles=1"
    ),
    "--samples 4 --out plate-test.nirom": (
        "--samples 2 --out plate-test.nirom -s resolution=3 -s cycles=1"
    ),
}


# First lines of the blocks the default run runs (at SMALL sizes): the first runnable block.
CHEAP = (
    "nirom generate thermal-block --samples 16 --out tb-cli.nirom --workers 2 --design sobol \\",
)


@dataclass(frozen=True)
class ShellBlock:
    """One ``bash`` block of a page: its first line's number, code, skip reason, page."""

    line: int
    code: str
    skip: str | None
    page: str = "README.md"

    @property
    def where(self) -> str:
        """``docs/guide/uses.md line 12``: where a reader finds the block."""
        return f"{self.page} line {self.line}"

    @property
    def first_line(self) -> str:
        return self.code.splitlines()[0] if self.code else ""


def shell_blocks(text: str, page: str = "README.md") -> list[ShellBlock]:
    """A page's ``bash`` blocks, in order, with the reason of a ``not run`` marker."""
    blocks = []
    for match in BLOCK.finditer(text):
        line = text.count("\n", 0, match.start(2)) + 1
        reason = SKIP_MARKER.fullmatch(match.group(1)).group(1) if match.group(1) else None
        blocks.append(ShellBlock(line, match.group(2), reason, page))
    return blocks


def all_shell_blocks() -> list[ShellBlock]:
    """The ``bash`` blocks of the README and the guide pages, in the order they run."""
    return [
        block
        for page in PAGES
        for block in shell_blocks(page.read_text(), str(page.relative_to(ROOT)))
    ]


def synopsis_tokens(code: str) -> list[str]:
    """Unquoted words of a block (comments left out) that only a synopsis holds."""
    lexer = shlex.shlex(code, posix=False)  # keeps quotes: quoted text is not checked
    lexer.whitespace_split = True
    lexer.commenters = "#"
    return [
        w
        for w in lexer
        if not {"'", '"'} & set(w)
        and (
            "..." in w
            or re.match(r"\[\S", w)
            or re.fullmatch(r"[\w.-]+(\|[\w.-]+)+", w)
            or re.search(r"<[A-Za-z_]+>", w)
        )
    ]


def test_every_marker_precedes_a_shell_block_and_every_size_replacement_is_in_the_pages():
    text = pages_text()
    blocks = all_shell_blocks()
    assert len(blocks) == text.count("```bash"), "a bash fence the block pattern missed"
    skipped = [b for b in blocks if b.skip]
    assert len(skipped) == len(SKIP_MARKER.findall(text)), (
        "a '<!-- not run: ... -->' marker that is not just before a ```bash block"
    )
    assert skipped and len(skipped) < len(blocks)
    code = "".join(b.code for b in blocks if not b.skip)
    missing = [old for old in SMALL if old not in code]
    assert not missing, f"README/guide shell blocks no longer hold {missing}: update SMALL"


@pytest.mark.parametrize(
    "block", all_shell_blocks(), ids=lambda b: f"{Path(b.page).stem}-L{b.line}"
)
def test_shell_block_parses_and_is_no_synopsis(block: ShellBlock) -> None:
    done = subprocess.run(["bash", "-n"], input=block.code, capture_output=True, text=True)
    assert done.returncode == 0, f"{block.where}: {done.stderr.strip()}"
    found = synopsis_tokens(block.code)
    assert not found, f"{block.where} ({block.first_line}): synopsis words {found}"


def run_blocks(blocks: list[ShellBlock], folder: Path, timeout_s: float) -> int:
    """Run blocks in order in folder with ``bash -euo pipefail``; the number run."""
    (folder / "examples").symlink_to(README.parent / "examples")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    ran = 0
    for k, block in enumerate(blocks):
        if block.skip:
            continue
        script = folder / f"readme_block_{k}.sh"
        script.write_text(block.code)
        proc = subprocess.Popen(
            ["bash", "-euo", "pipefail", script.name],
            cwd=folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: a server it left is ended below
        )
        try:
            out, _ = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            pytest.fail(f"{block.where} ({block.first_line}): over {timeout_s} s")
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        assert proc.returncode == 0, (
            f"{block.where} ({block.first_line}) exited {proc.returncode}:\n{out[-3000:]}"
        )
        ran += 1
    return ran


def at_small_sizes(block: ShellBlock) -> ShellBlock:
    """The block with every ``SMALL`` replacement made."""
    code = block.code
    for old, new in SMALL.items():
        code = code.replace(old, new)
    return ShellBlock(block.line, code, block.skip, block.page)


def test_cheap_readme_shell_blocks_run_at_small_sizes(tmp_path: Path) -> None:
    blocks = [b for b in all_shell_blocks() if b.first_line in CHEAP]
    assert [b.first_line for b in blocks] == list(CHEAP), "update CHEAP: a page changed"
    assert run_blocks([at_small_sizes(b) for b in blocks], tmp_path, timeout_s=600) == len(CHEAP)


@pytest.mark.slow
def test_readme_shell_blocks_run_in_order_at_small_sizes(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    text = pages_text()
    blocks = [at_small_sizes(b) for b in all_shell_blocks()]
    ran = run_blocks(blocks, tmp_path, timeout_s=1200)
    assert ran == len(blocks) - len(SKIP_MARKER.findall(text))


@pytest.mark.slow
def test_readme_shell_blocks_run_as_pasted(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    text = pages_text()
    blocks = all_shell_blocks()
    ran = run_blocks(blocks, tmp_path, timeout_s=4 * 3600)
    assert ran == len(blocks) - len(SKIP_MARKER.findall(text))
