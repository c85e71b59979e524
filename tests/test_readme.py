"""Every Python block of README.md and of the guide pages (docs/guide/) runs as written
(at a test's sizes), in a fresh process.

The tutorials (docs/tutorials/) are not run here: the documentation build executes them
(``python -m sphinx -W docs docs/_build/html``, in CI; ``tests/test_docs.py -m slow``).

The blocks run in order in one folder, each as its own script (``python block_N.py``), so
a block that starts worker processes without ``if __name__ == "__main__":`` fails here as
it does for a user. The only edits are the size replacements in ``SMALL``, each of which
must occur in those pages (a changed page fails loudly instead of running at full size).
Files that a block reads from a shell block before it (``tb-uses.model``,
``plate.nirom``) are made by running those shell lines, at small sizes too.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from nirom.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
#: The guide pages, in the order their blocks run (a block reads what the ones before wrote).
GUIDE = [
    "surrogates",
    "neural",
    "uses",
    "mechanics",
    "reduced-basis",
    "geometry",
    "hrom",
    "own-solver",
]
#: Every page whose ``python`` and ``bash`` blocks the tests run: the README, then the guide.
PAGES = [README, *(ROOT / "docs" / "guide" / f"{name}.md" for name in GUIDE)]


def pages_text() -> str:
    """The README and the guide pages, one after the other, as one text."""
    return "\n".join(page.read_text() for page in PAGES)


# README text -> the same at a test's size.
SMALL = {
    "ThermalBlock(resolution=96)": "ThermalBlock(resolution=12)",
    "sample(32, design": "sample(12, design",
    '32, workers=2, solver_options={"resolution": 96}': (
        '4, workers=2, solver_options={"resolution": 12}'
    ),
    '{"resolution": 85, "solve_resolution": 421}': '{"resolution": 15, "solve_resolution": 29}',
    '"darcy-py.nirom", 200,': '"darcy-py.nirom", 12,',
    '"darcy-py-test.nirom", 20,': '"darcy-py-test.nirom", 3,',
    'PODSurrogate(regressor="gp", discarded_energy=1e-6)': (
        'PODSurrogate(regressor="gp", discarded_energy=1e-3, regressor_params={"n_restarts": 0})'
    ),
    'PODSurrogate(regressor="gp", n_modes=8)': (
        'PODSurrogate(regressor="gp", n_modes=3, regressor_params={"n_restarts": 0})'
    ),
    "epochs=100).fit(train)": "epochs=2, progress=False).fit(train)",
    "modes=12, width=32, padding=9": "modes=4, width=4, padding=9",
    '"tb-test.nirom",\n    8,': '"tb-test.nirom",\n    3,',
    'solver_options={"resolution": 96},\n)': 'solver_options={"resolution": 12},\n)',
    "k=5)": "k=3)",
    "n_base=512)": "n_base=32)",
    'calibrate(model, "examples/observations.json")': (
        'calibrate(model, "examples/observations.json", n_steps=60, n_walkers=24)'
    ),
    "plate_with_hole(10, 50, 100, 9)": "plate_with_hole(10, 50, 100, 3)",
    "np.linspace(0, 20, 41)": "np.linspace(0, 10, 5)",
    "times=[0, 2.5, 5, 10, 20]": "times=[0, 2.5, 5]",
    'make_solver("plate-hole")': 'make_solver("plate-hole", {"resolution": 3, "cycles": 1})',
}
# Shell lines of the README that make what later Python blocks read, and their sizes.
SHELL = {
    "nirom generate thermal-block --samples 64 --out tb-uses.nirom": " -s resolution=12",
    "nirom fit tb-uses.nirom --model pod-gp --energy 1e-4 --out tb-uses.model": (
        """ -O 'regressor_params={"n_restarts": 0}'"""
    ),
    "nirom generate plate-hole --samples 4 --out plate.nirom": " -s resolution=3 -s cycles=1",
    "nirom train-rb thermal-block -d greedy.nirom -o rb.model --basis 60 --candidates 2000": (
        " --basis 6 --candidates 50 -s resolution=12"
    ),
    "nirom train-rb elasticity -s parameters=lame -d bracket.nirom -o bracket.model --basis 20 "
    "--candidates 500": " --basis 6 --candidates 50 -s refine=2",
    "nirom generate plate-hole --samples 10 --out plate-rom.nirom": " -s resolution=3 -s cycles=1",
    "nirom fit plate-rom.nirom --model hrom --out plate.hrom": "",
}


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_every_size_replacement_and_shell_line_is_in_the_pages() -> None:
    text = pages_text()
    missing = [old for old in [*SMALL, *SHELL] if old not in text]
    assert not missing, (
        f"README and docs/guide no longer hold {missing}: update tests/test_readme.py"
    )


def test_every_guide_page_with_code_is_run() -> None:
    """A new page of docs/guide with a ``python`` or ``bash`` block must join GUIDE."""
    with_code = {
        p.stem
        for p in (ROOT / "docs" / "guide").glob("*.md")
        if "```python" in p.read_text() or "```bash" in p.read_text()
    }
    assert with_code <= set(GUIDE), f"add {sorted(with_code - set(GUIDE))} to GUIDE"


# Every Python block of the README and the guide (generation, fits of each family, uses,
# the service): the longest test of the default run; its limit is scaled by the load as
# every test's.
@pytest.mark.timeout(900)
def test_readme_python_blocks_run_as_written(tmp_path: Path, monkeypatch, capsys) -> None:
    pytest.importorskip("torch")
    text = pages_text()
    for old, new in SMALL.items():
        text = text.replace(old, new)
    (tmp_path / "examples").symlink_to(README.parent / "examples")
    monkeypatch.chdir(tmp_path)
    for line, extra in SHELL.items():
        assert main(shlex.split(line + extra)[1:]) == 0, line
    capsys.readouterr()
    env = {**os.environ, "PYTHONPATH": str(README.parent / "src")}
    # A block that starts worker processes runs as a script of its own, as a user would
    # run it; the others run one after the other in one process (one import of nirom),
    # each as __main__ with fresh globals.
    blocks = python_blocks(text)
    scripts = []
    for k, block in enumerate(blocks):
        (tmp_path / f"block_{k}.py").write_text(block)
        scripts.append([f"block_{k}.py"] if "workers=2" in block else [])
    serial = [f"block_{k}.py" for k, own in enumerate(scripts) if not own]
    runner = "import runpy, sys\nfor p in sys.argv[1:]:\n    runpy.run_path(p, run_name='__main__')"
    for argv in [s for s in scripts if s] + [["-c", runner, *serial]]:
        done = subprocess.run(
            [sys.executable, *argv], capture_output=True, text=True, env=env, check=False
        )
        assert done.returncode == 0, f"README/guide block(s) {argv[-1]}:\n{done.stderr[-3000:]}"
