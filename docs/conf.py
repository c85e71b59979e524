"""Sphinx configuration of nirom's documentation (``python -m sphinx -W docs docs/_build/html``).

Tutorials are MyST notebooks (``tutorials/*.md``) executed at every build by myst-nb: one
that raises fails the build. The API reference is generated from the docstrings
(autosummary), the CLI reference from the Typer app's click command (sphinx-click).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))  # cli_reference, benchmark_list: directives of these pages

# Tutorials run in kernels of their own: one BLAS thread each; the kernel's start-up file
# (_ext/kernel_startup.py, installed in an IPython folder under _build so that nothing is
# written beside the sources) shows figures inline and prints progress as plain lines.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
_STARTUP = HERE / "_build" / "ipython" / "profile_default" / "startup"
_STARTUP.mkdir(parents=True, exist_ok=True)
shutil.copyfile(HERE / "_ext" / "kernel_startup.py", _STARTUP / "00-nirom-docs.py")
os.environ["IPYTHONDIR"] = str(_STARTUP.parents[1])
os.environ.pop("MPLBACKEND", None)  # a backend set outside would hide the figures

from nirom import __version__  # noqa: E402

project = "nirom"
author = "the nirom developers"
copyright = "the nirom developers"
version = release = __version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "cli_reference",
    "benchmark_list",
    "sphinx_copybutton",
]

exclude_patterns = ["_build", "_ext", "**/*-runs", "jupyter_execute", ".jupyter_cache"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb"}

# MyST: fences stay plain code blocks (```python is shown, not run); {code-cell} runs.
myst_enable_extensions = ["colon_fence", "dollarmath", "deflist"]
myst_heading_anchors = 3

# Executed tutorials: every build runs them; an error stops the build.
nb_execution_mode = "force"
nb_execution_timeout = 900
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
nb_kernel_rgx_aliases = {".*": "python3"}

# API reference from the docstrings.
autosummary_generate = True
autosummary_imported_members = False
# Each object on the page of the module that defines it (a package's re-exports in its
# __all__ are documented once, where they live).
autodoc_default_options = {"members": True, "show-inheritance": True, "ignore-module-all": True}
autodoc_typehints = "description"
autodoc_member_order = "bysource"
autodoc_mock_imports: list[str] = []
napoleon_google_docstring = True
napoleon_numpy_docstring = True

html_theme = "furo"
html_title = f"nirom {release}"
html_static_path: list[str] = []
html_show_sourcelink = True


def _skip_member(app, what, name, obj, skip, options):
    """Leave out scikit-learn's generated metadata-routing setters (``set_fit_request``)."""
    if re.fullmatch(r"set_\w+_request", name):
        return True
    return None


class _DocstringMarkup(logging.Filter):
    """Drop reST markup warnings raised by docstrings (not by these pages).

    nirom's docstrings are written as plain text for ``help()``: ``(n, *shape)``, ``|x|``,
    an unqualified ``dim`` naming two attributes. The API pages show them as written;
    markup and cross-reference warnings from the pages of docs/ still fail the build.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        kind = getattr(record, "type", None)
        subtype = getattr(record, "subtype", None)
        if kind not in ("docutils", "ref") or (kind == "ref" and subtype != "python"):
            return True
        where = str(getattr(record, "location", "") or "")
        return not ("docstring of" in where or "reference/generated/" in where)


def _install_filter(app) -> None:
    for handler in logging.getLogger("sphinx").handlers:
        handler.filters.insert(0, _DocstringMarkup())


def setup(app):
    """Hooks: the skipped members, the docstring-markup filter."""
    app.connect("autodoc-skip-member", _skip_member)
    app.connect("builder-inited", _install_filter)
