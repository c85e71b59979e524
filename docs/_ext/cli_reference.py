"""``.. nirom-cli::``: the reference of every ``nirom`` verb, from the command's own definitions.

The Typer app is turned into its click command (``typer.main.get_command``) and walked:
one section per verb with its help, its usage line and every argument and option as
``nirom VERB --help`` prints them. Nothing is written by hand, so the page cannot drift
from the command.
"""

from __future__ import annotations

from typing import Any

from cli_commands import click_command
from docutils import nodes
from sphinx.util.docutils import SphinxDirective


def _context(command: Any, name: str, parent: Any = None) -> Any:
    from typer._click import Context

    return Context(command, info_name=name, parent=parent)


def _verb_section(name: str, command: Any, root_ctx: Any) -> nodes.section:
    ctx = _context(command, name, root_ctx)
    section = nodes.section(ids=[nodes.make_id(f"nirom-{name}")], names=[f"nirom {name}"])
    section += nodes.title(text=f"nirom {name}")
    for paragraph in (command.help or "").strip().split("\n\n"):
        section += nodes.paragraph(text=" ".join(paragraph.split()))
    usage = command.get_usage(ctx).replace("Usage: ", "", 1)
    section += nodes.literal_block(usage, usage, language="text")
    items = nodes.definition_list()
    for param in command.params:
        record = param.get_help_record(ctx)
        if record is None:  # hidden
            continue
        term, text = record
        item = nodes.definition_list_item()
        item += nodes.term("", "", nodes.literal(text=term))
        item += nodes.definition("", nodes.paragraph(text=" ".join(text.split())))
        items += item
    section += items
    return section


class NiromCli(SphinxDirective):
    """Every verb of ``nirom``, in ``nirom --help`` order."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        group = click_command()
        root = _context(group, "nirom")
        return [_verb_section(n, c, root) for n, c in group.commands.items() if not c.hidden]


def setup(app: Any) -> dict[str, Any]:
    """Register the directive."""
    app.add_directive("nirom-cli", NiromCli)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
