"""The house in order: nirom's imports run down, from the uses to the ground floor.

Read from the source with :mod:`ast` (nothing is imported): every ``import`` statement
of ``src/nirom``, at the top of a file, inside a function or under ``TYPE_CHECKING``,
is an arrow from its file to the module it names; a name a package's ``__init__`` only
hands on is an arrow to the module that defines it (``from nirom import __version__``
to ``nirom._version``). A package of nirom is ``nirom.X`` (a folder or a single file);
the package root ``nirom/__init__.py`` is a package of its own.

Two rules: the ground never imports the top floor (report, apps, cli, serve, study,
demo: what people see), and no two packages, and no two files, import each other
round a circle. ``KNOWN_*`` list the arrows that still close a circle, each with how to
mend it; the tests fail on a new circle and on a listed arrow that is gone.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from pathlib import Path

import nirom

SOURCE = Path(nirom.__file__).parent

#: The top floor: what people see and run. The rest of nirom is built below it.
TOP = frozenset({"report", "apps", "cli", "serve", "study", "demo"})

#: Arrows that still close a circle between packages (importer, imported), and how to
#: mend each: the tests fail on a new circle, and on a listed arrow that is gone.
KNOWN_PACKAGE_ARROWS: dict[tuple[str, str], str] = {}

#: Arrows that still close a circle between files of one package, and how to mend each.
KNOWN_FILE_ARROWS: dict[tuple[str, str], str] = {}


def module_name(path: Path) -> str:
    """``nirom.a.b`` for ``src/nirom/a/b.py`` (``nirom.a`` for ``a/__init__.py``)."""
    parts = list(path.relative_to(SOURCE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    """Every module of nirom by name."""
    return {module_name(path): path for path in sorted(SOURCE.rglob("*.py"))}


@cache
def handed_on(name: str) -> dict[str, str]:
    """The names a package's ``__init__`` takes from its modules: name -> module."""
    path = modules().get(name)
    if path is None or path.name != "__init__.py":
        return {}
    return {
        alias.asname or alias.name: node.module
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, ast.ImportFrom) and node.module in modules()
        for alias in node.names
    }


def imported(name: str, path: Path) -> Iterator[tuple[str, int]]:
    """The nirom modules that the file ``path`` (module ``name``) imports, with the line."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from ..a import b
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            # from nirom.a import b: the module nirom.a.b if there is one, else the
            # module that defines b (nirom.a, or the file its __init__ takes b from)
            targets = [
                f"{base}.{alias.name}"
                if f"{base}.{alias.name}" in modules()
                else handed_on(base).get(alias.name, base)
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in modules():  # import nirom.a.b.Name
                target = target.rpartition(".")[0]
            if target.startswith("nirom"):
                yield target, node.lineno


@cache
def arrows() -> dict[str, dict[str, int]]:
    """module -> {imported module: first line}, within nirom."""
    found: dict[str, dict[str, int]] = {}
    for name, path in modules().items():
        found[name] = {}
        for target, line in imported(name, path):
            if target != name:
                found[name].setdefault(target, line)
    return found


def package(module: str) -> str:
    """The package of a module: ``a`` for ``nirom.a.b`` or ``nirom.a``, ``nirom`` for the root."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "nirom"


def circles(graph: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """The strongly connected parts of ``graph`` with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[tuple[str, ...]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            part = []
            while True:
                other = stack.pop()
                part.append(other)
                if other == node:
                    break
            if len(part) > 1:
                found.append(tuple(sorted(part)))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def described(part: tuple[str, ...], key: Callable[[str], str]) -> str:
    """A circle with the arrows inside it, file:line -> module."""
    ties = [
        f"{source}:{line} -> {target}"
        for source, targets in arrows().items()
        for target, line in targets.items()
        if key(source) in part and key(target) in part and key(source) != key(target)
    ]
    return f"{', '.join(part)}: " + "; ".join(ties)


def test_the_ground_imports_nothing_of_the_top_floor() -> None:
    """Generation, GP fitting and neural training imported their progress bars from
    ``nirom.report``; nothing below the top floor may import it."""
    upward = [
        f"{source}:{line} -> {target}"
        for source, targets in arrows().items()
        for target, line in targets.items()
        if package(source) not in TOP and package(target) in TOP
    ]
    assert upward == []


def package_graph() -> dict[str, dict[str, int]]:
    """package -> {imported package: number of arrows}."""
    graph: dict[str, dict[str, int]] = {}
    for source, targets in arrows().items():
        into = graph.setdefault(package(source), {})
        for target in targets:
            if package(target) != package(source):
                into[package(target)] = into.get(package(target), 0) + 1
    return graph


def without(
    graph: dict[str, dict[str, int]], known: Mapping[tuple[str, str], str]
) -> dict[str, set[str]]:
    """``graph`` less the ``known`` arrows."""
    return {a: {b for b in targets if (a, b) not in known} for a, targets in graph.items()}


def test_no_two_packages_import_each_other() -> None:
    """``apps/sections.py`` and ``study.py`` imported each other, and generation, GP
    fitting and neural training imported ``report`` (which builds on them)."""
    graph = package_graph()
    found = circles(without(graph, KNOWN_PACKAGE_ARROWS))
    assert {part: described(part, package) for part in found} == {}
    mended = [arrow for arrow in KNOWN_PACKAGE_ARROWS if arrow[1] not in graph[arrow[0]]]
    assert mended == []  # strike them from KNOWN_PACKAGE_ARROWS


def test_no_two_files_import_each_other() -> None:
    """``solvers/base.py`` imported ``solvers/command.py`` and ``cases/case.py`` to read
    a TOML file, and both build on it: it finds them in its registry now."""
    graph = {source: dict.fromkeys(targets, 1) for source, targets in arrows().items()}
    found = circles(without(graph, KNOWN_FILE_ARROWS))
    assert {part: described(part, str) for part in found} == {}
    mended = [arrow for arrow in KNOWN_FILE_ARROWS if arrow[1] not in graph[arrow[0]]]
    assert mended == []  # strike them from KNOWN_FILE_ARROWS


def test_the_arrows_are_read_as_python_reads_them() -> None:
    """The reader itself: absolute, relative, ``from package import module`` and lazy
    imports inside functions are arrows; a name taken from a module is its module."""
    assert arrows()["nirom.study"]["nirom.apps.sections"] > 0
    assert "nirom.mesh" in arrows()["nirom.demo"]  # from nirom import mesh as mesh_io
    assert "nirom" not in arrows()["nirom.demo"]
    assert "nirom.apps.uq" in arrows()["nirom.apps.sections"]  # inside a function
    assert package("nirom") == "nirom" and package("nirom.solvers.base") == "solvers"
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [("a", "b", "c")]
