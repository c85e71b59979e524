"""The ``nirom`` command starts without its heavy libraries: they load in the verbs.

Checked by what a fresh process has imported (robust to a loaded machine), not by
its time; ``benchmarks/timings.py`` prints the times.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

import nirom
from nirom.cli import app, names
from nirom.cli.app import app_verbs

#: libraries that take 0.1 to 2 s each to import; none is needed before a verb runs
HEAVY = (
    "torch",
    "sklearn",
    "dask.distributed",
    "matplotlib",
    "fastapi",
    "zarr",
    "scipy.stats",
    "pandas",
    "numba",
)

_LOADED = """
import json, sys
{code}
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def heavy_modules_after(code: str) -> list[str]:
    """The :data:`HEAVY` modules a fresh Python has imported after running ``code``."""
    script = _LOADED.format(code=code, heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize(
    "code",
    [
        "import nirom.cli",
        "import nirom",
        "from nirom import NiromError, __version__",
        "from nirom.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass",
        "from nirom.cli import main\nmain(['fit', 'x', '--bogus'])",
        "from nirom.cli import main\nmain(['predict', 'no-such-model', '-p', 'a=1'])",
    ],
    ids=["import-cli", "import-nirom", "errors", "help", "usage-error", "missing-model"],
)
def test_start_up_imports_no_heavy_library(code: str) -> None:
    assert heavy_modules_after(code) == []


def test_help_lists_every_verb_with_its_summary() -> None:
    env = {**os.environ, "COLUMNS": "250", "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "nirom.cli", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    listed = done.stdout.split("Commands", 1)[1]
    verbs = app_verbs()
    assert len(verbs) == 19
    for command in app.registered_commands:
        name = command.name or command.callback.__name__
        summary = (command.callback.__doc__ or "").split(".")[0]
        assert summary and summary in listed, name
        assert re.search(rf"\s{re.escape(name)}\s{{2,}}", listed), name


def test_help_names_agree_with_the_registries() -> None:
    from nirom.solvers import solver_names
    from nirom.surrogates.factory import MODELS

    assert tuple(MODELS) == names.MODELS
    assert tuple(solver_names()) == names.SOLVERS


def test_lazy_package_keeps_its_public_names() -> None:
    from nirom.dataset import Dataset
    from nirom.parameters import ParameterSpace

    assert nirom.Dataset is Dataset and nirom.ParameterSpace is ParameterSpace
    namespace: dict[str, object] = {}
    exec("from nirom import *", namespace)  # the star import itself is what is tested
    assert set(nirom.__all__) <= set(namespace) and set(nirom.__all__) <= set(dir(nirom))
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        nirom.Nothing  # noqa: B018


def test_every_package_imports_alone() -> None:
    """Each package of nirom imports first in a fresh process: the package root is lazy,
    so an import cycle between packages shows only there (``import nirom.cases`` did)."""
    from pathlib import Path

    root = Path(nirom.__file__).parent
    names = (p.parent.name for p in root.glob("*/__init__.py"))
    packages = ["nirom", *sorted(f"nirom.{name}" for name in names if name != "cli")]
    runs = {
        name: subprocess.Popen(
            [sys.executable, "-c", f"import {name}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in packages
    }
    failed = {name: run.communicate()[1].strip().splitlines()[-1:] for name, run in runs.items()}
    assert {name: err for name, err in failed.items() if runs[name].returncode} == {}
