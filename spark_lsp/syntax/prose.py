"""Rows that hold no code: blank rows and rows that begin inside a comment or a docstring (the
`prose` query). Their words are no names a completion uses."""

from __future__ import annotations

from collections.abc import Sequence

from tree_sitter import Point, QueryCursor, Tree

from spark_lsp.syntax.queries import query


def _indent_column(line: str) -> int:
    """The byte column of a row's first non-blank character."""
    body = line.lstrip(" \t")
    return len(line[: len(line) - len(body)].encode("utf-8"))


def prose_rows(tree: Tree | None, lines: Sequence[str], first: int, last: int,
               language: str | None) -> frozenset[int]:
    """Rows first..last that are blank or begin inside a comment or docstring."""
    last = min(last, len(lines) - 1)
    rows = {r for r in range(max(first, 0), last + 1) if not lines[r].strip()}
    q = query(language, "prose") if language is not None and tree is not None else None
    if q is None or tree is None or first > last:
        return frozenset(rows)
    cursor = QueryCursor(q)
    cursor.set_point_range(Point(max(first, 0), 0), Point(last + 1, 0))
    for node in cursor.captures(tree.root_node).get("prose", ()):
        start, end = node.start_point, node.end_point
        for r in range(max(start.row, first), min(end.row, last) + 1):
            if r == start.row and start.column > _indent_column(lines[r]):
                continue  # a comment after code
            rows.add(r)
    return frozenset(rows)
