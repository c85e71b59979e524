"""``.. nirom-benchmarks::``: one section per script of benchmarks/, from its docstring.

What each benchmark measures and how to run it is said once, in the script; this page
shows it, so the list cannot go stale when a benchmark is added or changed.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


class NiromBenchmarks(SphinxDirective):
    """Every ``benchmarks/*.py`` (not ``_*.py``): its command and its docstring."""

    def run(self) -> list[nodes.Node]:
        out: list[nodes.Node] = []
        for path in sorted(BENCHMARKS.glob("[!_]*.py")):
            self.env.note_dependency(str(path))
            doc = ast.get_docstring(ast.parse(path.read_text())) or "(no docstring)"
            section = nodes.section(ids=[nodes.make_id(f"bench-{path.stem}")], names=[path.name])
            section += nodes.title(text=path.name)
            command = f"python benchmarks/{path.name} --help"
            section += nodes.literal_block(command, command, language="bash")
            section += nodes.literal_block(doc, doc, language="text")
            out.append(section)
        return out


def setup(app: Any) -> dict[str, Any]:
    """Register the directive."""
    app.add_directive("nirom-benchmarks", NiromBenchmarks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
