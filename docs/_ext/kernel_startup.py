"""Kernel set-up of the executed tutorials (conf.py installs it as an IPython start-up file).

Figures are shown inline (the page keeps them as PNG), and rich's consoles act as they
do when output goes to a file: nirom's progress prints plain lines instead of live bars
(which need a terminal, or ipywidgets and a browser).
"""

import os

import matplotlib
import rich.console

os.environ["TTY_COMPATIBLE"] = "0"  # rich: not a terminal (no colours, no redraws)
os.environ["TTY_INTERACTIVE"] = "0"
os.environ.pop("FORCE_COLOR", None)
rich.console._is_jupyter = lambda: False
matplotlib.use("module://matplotlib_inline.backend_inline")
