"""The modules a Python file binds to names (`import typing`, `import a.b as c`, `from a import
b` when `a/b` is a module), where each is — a workspace file, else an installed package or the
standard library (`workspace.packages`) — and which of its names the workspace's files use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from spark_lsp.context.memo import Memo
from spark_lsp.context.related import Workspace
from spark_lsp.syntax.file_outline import FileOutline
from spark_lsp.syntax.symbols import Import
from spark_lsp.workspace.modules import STDLIB
from spark_lsp.workspace.packages import ReadyPackages

MAX_MODULE_NAMES = 15  # per module: the most used by the workspace
LISTED_KINDS = frozenset({"function", "class", "variable", "attribute", "type", "module"})


def is_listable(name: str) -> bool:
    """Dunders say nothing a model does not know, `__private` names are not reachable from
    outside their class, one-letter names are noise."""
    return len(name) > 1 and not name.startswith("__")


def public_names(outline: FileOutline) -> list[str]:
    """What a workspace module offers to `module.name` users: its public top-level definitions
    and, for a package's `__init__`, the public names it imports."""
    names = [s.name for s in outline.members("", positioned=False)
             if s.kind in LISTED_KINDS and not s.name.startswith("_")]
    if outline.path.replace("\\", "/").rsplit("/", 1)[-1].startswith("__init__."):
        names += [b.local for imp in outline.imports() for b in imp.bindings
                  if not b.local.startswith("_")]
    return names


def module_aliases(imports: Sequence[Import]) -> list[tuple[Import, str, str]]:
    """Python imports that bind a module (not a name in it) to a local name, as (import, local
    name, dotted module): `import typing`, `import a.b as c`, `from a import b` (when `a/b` is
    a module: the caller checks)."""
    found = []
    for imp in imports:
        for binding in imp.bindings:
            if not binding.name:  # `import a.b as c` / `import a`
                found.append((imp, binding.local, imp.module))
            elif not imp.wildcard and imp.module is not None:
                dotted = f"{imp.module}.{binding.name}" if imp.module else binding.name
                found.append((imp, binding.local, "." * imp.level + dotted))
    return found


def _is_module_file(path: str, name: str) -> bool:
    """Whether `path` is module `name` itself (`name.py`, `name/__init__.py`), not its parent."""
    parts = path.replace("\\", "/").split("/")
    stem = parts[-1].rsplit(".", 1)[0]
    return stem == name or (stem == "__init__" and len(parts) > 1 and parts[-2] == name)


def _top_package(imp: Import) -> Import:
    """`import a.b` binds `a`: the import of `a` alone."""
    top = imp.module.split(".")[0]
    return Import(top, 0, imp.bindings, False, imp.row, imp.end_row, f"import {top}")


@dataclass(frozen=True)
class Module:
    """A module an alias names: where it is and its public names."""

    path: str
    names: Sequence[str]


def _external(packages: ReadyPackages, dotted: str, is_excluded: Callable[[str], bool]
              ) -> Module | None:
    external = packages.module(dotted, is_excluded)
    return None if external is None else Module(external.path, external.names)


def aliased_modules(imports: Sequence[Import], path: str, language: str,
                    workspace: Workspace | None, packages: ReadyPackages | None,
                    is_excluded: Callable[[str], bool]) -> list[tuple[str, str, Module]]:
    """(local name, dotted module, module) for each Python import that binds a module: a
    workspace file, else one of an installed package or the standard library."""
    if language != "python":
        return []
    found = []
    seen: set[tuple[str, str]] = set()  # `import httpcore` in several functions: listed once
    for imp, local, dotted in module_aliases(imports):
        if (local, dotted) in seen:
            continue
        seen.add((local, dotted))
        binding_name = next((b.name for b in imp.bindings if b.local == local), "")
        if not binding_name and local != imp.module and " as " not in imp.text:
            imp, dotted = _top_package(imp), imp.module.split(".")[0]
        module: Module | None = None
        if packages is not None and imp.level == 0 and \
                dotted.split(".")[0] in STDLIB:
            module = _external(packages, dotted, is_excluded)  # not a workspace file's tail
        if module is None and workspace is not None:
            for outline in workspace.resolve(imp, path, language, binding_name):
                if not binding_name or _is_module_file(outline.path, binding_name):
                    module = Module(outline.path, public_names(outline))
                    break
        if module is None and packages is not None and imp.level == 0:
            module = _external(packages, dotted, is_excluded)
        if module is not None and module.path != path:
            found.append((local, dotted.lstrip("."), module))
    return found


@dataclass(frozen=True)
class ImportedModule:
    """A module the file binds to a name, its names the workspace uses (most used first), and
    all its listable names."""

    local: str
    dotted: str
    popular: tuple[tuple[str, int], ...]
    names: frozenset[str] = frozenset()


def imported_modules(memo: Memo | None, key: tuple[object, ...], imports: Sequence[Import],
                     path: str, language: str, workspace: Workspace | None,
                     packages: ReadyPackages | None, is_excluded: Callable[[str], bool],
                     uses: Callable[[str], Mapping[str, int]]) -> list[ImportedModule]:
    """`aliased_modules` with the names of each that the workspace uses, remembered in `memo`
    while the imports and `key` (the index, its generation, the packages') are the same."""
    def find() -> list[ImportedModule]:
        found = []
        for local, dotted, module in aliased_modules(imports, path, language, workspace,
                                                     packages, is_excluded):
            popular = uses(dotted)
            offered = sorted(((n, popular[n]) for n in dict.fromkeys(module.names)
                              if popular.get(n, 0) and is_listable(n)), key=lambda item: -item[1])
            listable = frozenset(n for n in module.names if is_listable(n))
            if offered or listable:
                found.append(ImportedModule(local, dotted,
                                            tuple(offered[:MAX_MODULE_NAMES]), listable))
        return found

    if memo is None:
        return find()
    return memo.get(("imported modules", *key, tuple(
        (imp.module, imp.level, imp.bindings) for imp in imports)), find)
