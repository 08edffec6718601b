"""The stages import one way: every import in spark_lsp, walked with `ast`, against the layers.

Every `import` and `from … import` counts, also those inside functions (an import deferred to
run time is still a dependency; deferring it only hides a cycle until then) and those under
`if TYPE_CHECKING:` (mypy checks through them: a later stage's change could break an earlier
stage's types).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "spark_lsp"
MAX_MODULE_LINES = 400

# Bottom to top. A module may import its own layer and the layers below it, never one above.
# The request's flow (documents → syntax → context → prompts → models → completion → the LSP
# answer) with two refinements the code needs: `syntax` sits below `documents`, because syntax
# is a library over text and trees that knows no open document while the document store keeps
# each document's tree (it parses with `syntax`); and `workspace` (the index of the other
# files) sits below `context`, which reads it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("spark_lsp", "spark_lsp.model_request", "spark_lsp.settings"),  # shared by every stage
    ("spark_lsp.redaction",),  # secrets kept out of what is sent to a model and of the logs
    ("spark_lsp.syntax",),
    ("spark_lsp.documents",),
    ("spark_lsp.workspace",),
    ("spark_lsp.context",),
    ("spark_lsp.prompts",),
    ("spark_lsp.models",),
    ("spark_lsp.completion",),
    ("spark_lsp.actions",),
    ("spark_lsp.preload", "spark_lsp.session", "spark_lsp.warm"),  # session state, start-up
    ("spark_lsp.framing", "spark_lsp.logs", "spark_lsp.parent", "spark_lsp.protocol"),  # LSP I/O
    ("spark_lsp.server", "spark_lsp.commands"),  # the editor's and the shell's entry points
    ("spark_lsp.cli", "spark_lsp.__main__"),
)


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module
    where: str  # path:line of the import statement

    def __str__(self) -> str:
        return f"{self.where}: {self.source} imports {self.target}"


def module_files(package: Path = PACKAGE) -> dict[str, Path]:
    """Dotted module name → file, for every module of the package."""
    modules = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool,
              modules: dict[str, Path]) -> Iterator[str]:
    """The package's modules an import statement loads: `from a import b` loads `a.b` when that
    is a module, else `a` (for the name b it defines)."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
        return
    base = node.module or ""
    if node.level:  # relative: from the module's package, one level up per extra dot
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, base] if base else package)
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        yield submodule if submodule in modules else base


def imports(package: Path = PACKAGE) -> list[Import]:
    modules = module_files(package)
    found = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = path.relative_to(package.parent)
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for target in _imported(node, module, path.name == "__init__.py", modules):
                if target.split(".")[0] != package.name:
                    continue
                while target not in modules:  # `import spark_lsp.a.b.name` → spark_lsp.a.b
                    target = target.rpartition(".")[0]
                if target != module:
                    found.append(Import(module, target, f"{where}:{node.lineno}"))
    return list(dict.fromkeys(found))  # once per statement, however many names it imports


def unit_of(module: str) -> str:
    """The package (or top-level module) a module belongs to: spark_lsp.context.plan →
    spark_lsp.context."""
    return ".".join(module.split(".")[:2])


def layer_of(module: str) -> int | None:
    unit = unit_of(module)
    for number, layer in enumerate(LAYERS):
        if unit in layer:
            return number
    return None


def test_every_package_has_a_layer() -> None:
    unplaced = sorted({unit_of(m) for m in module_files() if layer_of(m) is None})
    assert not unplaced, f"add these to LAYERS in {Path(__file__).name}: {', '.join(unplaced)}"


def test_no_import_from_a_later_layer() -> None:
    wrong = []
    for edge in imports():
        source, target = layer_of(edge.source), layer_of(edge.target)
        if source is not None and target is not None and target > source:
            wrong.append(f"{edge}: {unit_of(edge.target)} (layer {target}) is above "
                         f"{unit_of(edge.source)} (layer {source})")
    assert not wrong, "imports from a later stage into an earlier one:\n" + "\n".join(wrong)


def package_cycles(edges: list[Import]) -> list[list[Import]]:
    """One cycle (as the imports that close it) per strongly connected set of packages."""
    graph: dict[str, dict[str, Import]] = {}
    for edge in edges:
        source, target = unit_of(edge.source), unit_of(edge.target)
        if source != target:
            graph.setdefault(source, {}).setdefault(target, edge)
    cycles, seen = [], set()
    for start in sorted(graph):
        if start in seen:
            continue
        path = _path_back(graph, start)
        if path:
            cycles.append(path)
            seen.update(unit_of(edge.source) for edge in path)
    return cycles


def _path_back(graph: dict[str, dict[str, Import]], start: str) -> list[Import]:
    """The imports of a shortest path from `start` back to itself, or [] (breadth first)."""
    parents: dict[str, Import] = {}
    frontier = [start]
    while frontier:
        following = []
        for unit in frontier:
            for target, edge in sorted(graph.get(unit, {}).items()):
                if target == start:
                    path = [edge]
                    while unit_of(path[0].source) != start:
                        path.insert(0, parents[unit_of(path[0].source)])
                    return path
                if target not in parents:
                    parents[target] = edge
                    following.append(target)
        frontier = following
    return []


def test_no_cycle_between_packages() -> None:
    cycles = package_cycles(imports())
    assert not cycles, "packages that import each other:\n" + "\n".join(
        " → ".join(unit_of(edge.source) for edge in cycle) + f" → {unit_of(cycle[0].source)}, "
        "through:\n  " + "\n  ".join(str(edge) for edge in cycle) for cycle in cycles)


def test_no_module_over_the_line_limit() -> None:
    long = {path.relative_to(PACKAGE.parent): len(path.read_text(encoding="utf-8").splitlines())
            for path in module_files().values()}
    over = [f"{path}: {lines} lines" for path, lines in sorted(long.items())
            if lines > MAX_MODULE_LINES]
    assert not over, f"modules over {MAX_MODULE_LINES} lines (split them by job):\n" \
        + "\n".join(over)


def test_the_walk_sees_every_kind_of_import(tmp_path: Path) -> None:
    """The walk itself, on a package made for it: imports inside a function and under
    TYPE_CHECKING count, `from package import module` is the module, relative imports resolve,
    `import a.b.name` is the module a.b."""
    package = tmp_path / "spark_lsp"
    (package / "low").mkdir(parents=True)
    (package / "__init__.py").write_text("__version__ = '0'\n")
    (package / "low" / "__init__.py").write_text("")
    (package / "low" / "base.py").write_text("X = 1\n")
    (package / "low" / "near.py").write_text("from . import base\nfrom .base import X\n")
    (package / "high.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from spark_lsp import __version__, low\n"
        "if TYPE_CHECKING:\n    from spark_lsp.low import base\n"
        "def later() -> None:\n    import spark_lsp.low.near.X\n")
    found = {(edge.source, edge.target, edge.where) for edge in imports(package)}
    assert found == {
        ("spark_lsp.low.near", "spark_lsp.low.base", "spark_lsp/low/near.py:1"),
        ("spark_lsp.low.near", "spark_lsp.low.base", "spark_lsp/low/near.py:2"),
        ("spark_lsp.high", "spark_lsp", "spark_lsp/high.py:2"),
        ("spark_lsp.high", "spark_lsp.low", "spark_lsp/high.py:2"),
        ("spark_lsp.high", "spark_lsp.low.base", "spark_lsp/high.py:4"),
        ("spark_lsp.high", "spark_lsp.low.near", "spark_lsp/high.py:6"),
    }


def test_a_cycle_is_reported_by_the_imports_that_close_it() -> None:
    def edge(source: str, target: str) -> Import:
        return Import(f"spark_lsp.{source}.m", f"spark_lsp.{target}.m",
                      f"spark_lsp/{source}/m.py:1")

    cycles = package_cycles([edge("a", "b"), edge("b", "c"), edge("c", "a"), edge("c", "d")])
    assert cycles == [[edge("a", "b"), edge("b", "c"), edge("c", "a")]]
    assert package_cycles([edge("a", "b"), edge("b", "c"), edge("a", "c")]) == []
