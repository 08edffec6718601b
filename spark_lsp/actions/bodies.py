"""Where a function's body lies in whole lines (after its signature and docstring), so an answer
that is only the new body can replace it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from spark_lsp.actions import syntax
from spark_lsp.actions.detect import TOP_LEVEL_WRAPPERS
from spark_lsp.actions.syntax import Source, indent_of
from spark_lsp.actions.targets import Region
from spark_lsp.documents.store import DocumentSnapshot


@dataclass(frozen=True)
class BodyRows:
    """Rows `first`..`last` (inclusive) hold the body; its lines go at `indent`."""

    first: int
    last: int
    indent: str
    has_docstring: bool = False


def _function_of(region: Region, src: Source) -> Node | None:
    """The function that the region is exactly (through decorators / export)."""
    tree = src.snapshot.tree
    if tree is None or src.rules is None:
        return None
    for node in syntax.walk(tree.root_node):
        if node.start_point.row > region.first:
            return None
        if node.type not in src.rules.functions:
            continue
        outer = node
        while outer.parent is not None and outer.parent.type in TOP_LEVEL_WRAPPERS:
            outer = outer.parent
        if outer.start_point.row == region.first and outer.end_point.row == region.last:
            return node
    return None


def body_rows(region: Region, snapshot: DocumentSnapshot) -> BodyRows | None:
    """The body's rows of the function the region is, if it has a body on lines of its own."""
    src = Source(snapshot)
    fn = _function_of(region, src)
    body = syntax.function_body(fn) if fn is not None else None
    if fn is None or body is None or src.rules is None:
        return None
    indent = indent_of(src.lines[fn.start_point.row]) + src.indent_unit
    if src.rules.braces:
        first, last = body.start_point.row + 1, body.end_point.row - 1
        if first > last:
            return None
        return BodyRows(first, last, indent)
    colon = [c for c in fn.children if c is not None and c.type == ":"
             and c.start_byte < body.start_byte]
    if not colon or colon[-1].end_point.row == body.end_point.row:
        return None  # a one-line `def f(): ...`
    first = colon[-1].end_point.row + 1
    children = [c for c in body.named_children if c is not None]
    docstring = bool(children) and syntax.is_docstring(children[0])
    if docstring:
        first = children[0].end_point.row + 1
    if first > body.end_point.row:
        return None
    return BodyRows(first, body.end_point.row, indent, docstring)
