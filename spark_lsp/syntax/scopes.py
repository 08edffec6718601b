"""The scopes around a cursor (block, function, class, module), from the tree and `scopes.scm`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tree_sitter import Node, Point, Tree

from spark_lsp.syntax.queries import scope_types

# Languages where a blank line's indentation, not the tree, says which block the cursor is in
# (tree-sitter ends a Python block at its last statement).
_INDENTED = frozenset({"python"})


@dataclass(frozen=True)
class Scope:
    kind: str  # function, class, block
    type: str  # the node type
    start_row: int
    end_row: int
    start_byte: int
    end_byte: int
    name_row: int  # the row of its header (== start_row except for decorated definitions)
    header_end: int  # the last row of its header (its body starts after it)


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" \t"))


def _header_end(node: Node, lines: Sequence[str]) -> int:
    body = node.child_by_field_name("body")
    if body is None:
        return node.start_point.row
    row = body.start_point.row
    before = lines[row][: body.start_point.column] if row < len(lines) else ""
    return max(node.start_point.row, row if before.strip() else row - 1)


def _anchor(tree: Tree, lines: Sequence[str], row: int, column: int, language: str) -> Node:
    """The node the cursor is in. On an empty (or whitespace) line of an indented language, the
    last token above it, so that the cursor belongs to the block it is indented into."""
    root = tree.root_node
    line = lines[row] if row < len(lines) else ""
    if language in _INDENTED and not line[:column].strip():
        for above in range(row - 1, -1, -1):
            body = lines[above].rstrip()
            if body.strip():
                end = len(body.encode("utf-8"))
                point = Point(above, max(end - 1, 0))
                return root.descendant_for_point_range(point, point) or root
    point = Point(row, column)
    return root.descendant_for_point_range(point, point) or root


def enclosing_scopes(tree: Tree, lines: Sequence[str], row: int, column: int,
                     language: str) -> list[Scope]:
    """Scopes around (row, byte column), innermost first."""
    types = scope_types(language)
    node: Node | None = _anchor(tree, lines, row, column, language)
    line = lines[row] if row < len(lines) else ""
    blank_indent = _indent(line) if language in _INDENTED and not line[:column].strip() else None
    cursor_indent = min(_indent(line), column) if blank_indent is not None else None
    scopes: list[Scope] = []
    while node is not None:
        kind = types.get(node.type)
        if kind is not None:
            start = node.start_point
            if cursor_indent is not None and start.row < row and kind != "block":
                # On a blank line, a definition whose header is indented as deep as the cursor
                # (or deeper) has ended: the cursor is after it, not in it.
                header = lines[start.row] if start.row < len(lines) else ""
                if _indent(header) >= cursor_indent:
                    node = node.parent
                    continue
            if cursor_indent is not None and kind == "block" and start.row < row \
                    and _indent(lines[start.row]) > cursor_indent:
                node = node.parent
                continue
            outer = node.parent if node.parent is not None and \
                node.parent.type == "decorated_definition" else node
            scopes.append(Scope(kind, node.type, outer.start_point.row,
                                max(node.end_point.row, row), outer.start_byte, node.end_byte,
                                start.row, _header_end(node, lines)))
        node = node.parent
    return scopes
