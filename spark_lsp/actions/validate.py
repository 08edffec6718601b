"""Refuse an answer that breaks the file: parse the edited document with tree-sitter and compare
its syntax errors with the document's before the edit.
"""

from __future__ import annotations

from tree_sitter import Node, Parser, Tree

from spark_lsp.syntax.languages import grammar


def error_extent(node: Node) -> int:
    """Bytes covered by ERROR nodes (outermost ones), plus one per MISSING node, under `node`."""
    extent = 0
    stack = [node]
    while stack:
        current = stack.pop()
        if current.is_error:
            extent += max(1, current.end_byte - current.start_byte)
            continue
        if current.is_missing:
            extent += 1
            continue
        stack.extend(c for c in current.children
                     if c is not None and (c.has_error or c.is_missing))
    return extent


def parse(language: str, text: str) -> Tree:
    return Parser(grammar(language)).parse(text.encode("utf-8"))


def check(language: str | None, before: Tree | None, after_text: str) -> str | None:
    """None when the edited text parses as well as before, else why it is refused.

    A document that parsed cleanly must still parse cleanly; in one that already had errors,
    the errors must not spread (a file that does not parse at all cannot be judged).
    """
    if language is None:
        return None
    after = parse(language, after_text)
    if not after.root_node.has_error:
        return None
    if before is None:
        return None
    if not before.root_node.has_error:
        first = _first_error(after.root_node)
        where = f" (line {first + 1})" if first is not None else ""
        return f"the answer does not parse as {language}{where}"
    if before.root_node.is_error:
        return None
    if error_extent(after.root_node) > error_extent(before.root_node):
        return f"the answer adds syntax errors to the {language} file"
    return None


def _first_error(node: Node) -> int | None:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.is_error or current.is_missing:
            return int(current.start_point.row)
        stack.extend(reversed([c for c in current.children
                               if c is not None and (c.has_error or c.is_missing)]))
    return None
