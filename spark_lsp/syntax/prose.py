"""Rows that hold no code: blank rows and rows that begin inside a comment or a docstring (the
`prose` query). Their words are no names a completion uses, and a string or comment over
several rows is whole or absent in a prompt (its last row alone would open a string)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

from tree_sitter import Point, QueryCursor, Tree

from spark_lsp.syntax.queries import query

# The nodes of comments and strings in the grammars (what the `prose` queries capture).
_PROSE_NODES = frozenset({"comment", "string", "string_content", "line_comment",
                          "block_comment", "template_string", "raw_string_literal",
                          "string_literal", "interpreted_string_literal",
                          "concatenated_string"})


def indent_column(line: str) -> int:
    """The byte column of a row's first non-blank character."""
    body = line.lstrip(" \t")
    return len(line[: len(line) - len(body)].encode("utf-8"))


@dataclass(frozen=True)
class Prose:
    """`rows`: rows that hold no code; `blocks`: (first, last) of each comment or string over
    several rows (its rows are in `rows` when it begins a row)."""

    rows: frozenset[int] = frozenset()
    blocks: tuple[tuple[int, int], ...] = field(default=())

    def __contains__(self, row: object) -> bool:
        return row in self.rows

    @functools.cached_property
    def in_blocks(self) -> frozenset[int]:
        """The rows of the blocks (code rows where a string starts or ends included)."""
        return frozenset(r for first, last in self.blocks for r in range(first, last + 1))


def prose_rows(tree: Tree | None, lines: Sequence[str], first: int, last: int,
               language: str | None) -> Prose:
    """Rows first..last that are blank or begin inside a comment or docstring, and the
    comments and strings there that span rows."""
    last = min(last, len(lines) - 1)
    rows = {r for r in range(max(first, 0), last + 1) if not lines[r].strip()}
    q = query(language, "prose") if language is not None and tree is not None else None
    if q is None or tree is None or first > last:
        return Prose(frozenset(rows))
    blocks = []
    cursor = QueryCursor(q)
    cursor.set_point_range(Point(max(first, 0), 0), Point(last + 1, 0))
    for node in cursor.captures(tree.root_node).get("prose", ()):
        start, end = node.start_point, node.end_point
        if end.row > start.row:
            blocks.append((start.row, end.row))
        for r in range(max(start.row, first), min(end.row, last) + 1):
            if r == start.row and start.column > indent_column(lines[r]):
                continue  # a comment after code
            rows.add(r)
    return Prose(frozenset(rows), tuple(sorted(set(blocks))))


def starts_in_prose(tree: Tree | None, lines: Sequence[str], row: int) -> bool:
    """Whether one row, anywhere in the file, is blank or starts inside a comment or a string (a
    docstring's row): `row in prose_rows(…, row, row, …)` for any language, by a walk up from
    the row's first character (a third of the cost of a query per row)."""
    if tree is None:
        return False
    text = lines[row]
    if not text.strip():
        return True
    column = indent_column(text)
    node = tree.root_node.descendant_for_point_range(Point(row, column), Point(row, column))
    while node is not None and node.type not in _PROSE_NODES and node.parent is not None \
            and node.start_point == (row, column) and node.parent.start_point == (row, column):
        node = node.parent
    return node is not None and (node.type in _PROSE_NODES or (
        node.parent is not None and node.parent.type in _PROSE_NODES))
