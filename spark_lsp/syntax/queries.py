"""The tree-sitter queries of each language (`queries/<lang>/<kind>.scm`), compiled once each.

See `queries/README.md` for the capture names each kind of query uses.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

from tree_sitter import Query

from spark_lsp.syntax.languages import LANGUAGES, grammar

QUERY_KINDS = ("definitions", "imports", "identifiers", "scopes", "prose")

# Where a language has no file of a kind, it inherits its parent's: TSX shares the TypeScript
# queries (same node names, plus JSX ones no query needs); TypeScript's imports are JavaScript's.
_INHERITS = {"tsx": "typescript", "typescript": "javascript"}

_SCOPE_PATTERN = re.compile(r"^\s*\((\w+)\)\s*@scope\.(\w+)\s*$")


def _read_sources() -> dict[tuple[str, str], str]:
    """Every `.scm` file, by (folder, kind): read once, when this module is imported (~40 small
    files), so no request reads one on the event loop."""
    found: dict[tuple[str, str], str] = {}
    root = resources.files("spark_lsp.syntax") / "queries"
    for folder in root.iterdir():
        if folder.is_dir():
            for kind in QUERY_KINDS:
                path = folder / f"{kind}.scm"
                if path.is_file():
                    found[(folder.name, kind)] = path.read_text(encoding="utf-8")
    return found


_SOURCES = _read_sources()


def query_source(language: str, kind: str) -> str:
    """The text of one `.scm` file (or its parent language's); empty when there is none."""
    folder: str | None = language
    while folder is not None:
        source = _SOURCES.get((folder, kind))
        if source is not None:
            return source
        folder = _INHERITS.get(folder)
    return ""


@functools.cache
def query(language: str, kind: str) -> Query | None:
    """The compiled query, or None for an unknown language or a missing file."""
    if language not in LANGUAGES:
        return None
    source = query_source(language, kind)
    if not source.strip():
        return None
    return Query(grammar(language), source)


@functools.cache
def scope_types(language: str) -> dict[str, str]:
    """Node type → scope kind (`function`, `class`, `block`), read from `scopes.scm`."""
    types: dict[str, str] = {}
    for line in query_source(language, "scopes").splitlines():
        match = _SCOPE_PATTERN.match(line)
        if match:
            types[match.group(1)] = match.group(2)
        elif line.strip() and not line.lstrip().startswith(";"):
            raise ValueError(f"{language}/scopes.scm: only `(type) @scope.kind` lines: {line!r}")
    return types
