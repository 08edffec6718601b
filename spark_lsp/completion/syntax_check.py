"""Does streamed text complete a statement? Checked with tree-sitter on the document with the text
inserted at the cursor.

Only a window of the document is parsed: the outermost construct around the cursor that is at
most `MAX_WINDOW_ROWS` long (a method, a function), else a fixed band of lines. A check then
costs what that window costs, never what the file costs.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from tree_sitter import Node, Parser, Tree

from spark_lsp.documents.store import DocumentSnapshot
from spark_lsp.documents.text import line_body
from spark_lsp.syntax.languages import grammar

MAX_WINDOW_ROWS = 200
_BAND_ABOVE, _BAND_BELOW = 60, 20
CONTAINERS = frozenset({
    "module", "block", "program", "source_file", "translation_unit", "compound_statement",
    "statement_block", "declaration_list", "class_body", "field_declaration_list",
    "statement_list", "constructor_body", "enum_body", "interface_body", "switch_block",
})


@functools.cache
def _parser(language: str) -> Parser:
    return Parser(grammar(language))


@dataclass(frozen=True)
class Verdict:
    """The statement that starts the text: complete, and whether it ends with a nested block."""

    complete: bool
    ends_with_block: bool = False


def _errors_in(node: Node, lo: int, hi: int) -> bool:
    """Any ERROR or MISSING node overlapping bytes [lo, hi]."""
    if not node.has_error or node.end_byte < lo or node.start_byte > hi:
        return False
    if node.is_error or node.is_missing:
        return True
    return any(_errors_in(child, lo, hi) for child in node.children)


def _ends_with_block(node: Node) -> bool:
    current: Node | None = node
    while current is not None:
        if current.type == "block" and current is not node:
            return True
        current = current.children[-1] if current.children else None
    return False


def _window(tree: Tree, line: int, col: int, line_count: int) -> tuple[int, int]:
    node: Node | None = tree.root_node.descendant_for_point_range((line, col), (line, col))
    best: tuple[int, int] | None = None
    while node is not None and node.parent is not None:
        rows = node.end_point[0] - node.start_point[0]
        if rows > MAX_WINDOW_ROWS:
            break
        best = (node.start_point[0], node.end_point[0])
        node = node.parent
    if best is None:
        return max(0, line - _BAND_ABOVE), min(line_count - 1, line + _BAND_BELOW)
    return min(best[0], line), max(best[1], line)


def window_tree(snapshot: DocumentSnapshot, line: int, col: int) -> tuple[Tree, int] | None:
    """A fresh parse of the window around (line, byte column), and the window's first row: exact
    on the cursor's row even when the snapshot's tree is stale there."""
    if snapshot.tree is None or snapshot.language is None:
        return None
    first, last = _window(snapshot.tree, line, col, len(snapshot.lines))
    text = "".join(snapshot.lines[first : last + 1]).encode("utf-8")
    return _parser(snapshot.language).parse(text), first


class SyntaxCheck:
    """Parses window + inserted text; `verdict(text)` says whether the text's statement is done.

    Unusable (`usable` False) without a tree, or when the document already has a syntax error on
    the cursor's line: errors there would hide whether the inserted text is complete. Nothing is
    parsed until the first question.
    """

    def __init__(self, snapshot: DocumentSnapshot, line: int, index: int) -> None:
        self._snapshot, self._line, self._index = snapshot, line, index
        self._usable: bool | None = None

    @property
    def usable(self) -> bool:
        if self._usable is None:
            self._usable = self._prepare()
        return self._usable

    def _prepare(self) -> bool:
        snapshot, line = self._snapshot, self._line
        tree, language = snapshot.tree, snapshot.language
        if tree is None or language is None or not 0 <= line < len(snapshot.lines):
            return False
        raw = snapshot.lines[line]
        if raw.endswith("\r"):
            return False  # tree-sitter rows would not match our lines
        self._prefix, rest = raw[: self._index], raw[self._index :]
        self._suffix_body = line_body(rest)
        self._eol = rest[len(self._suffix_body) :]
        col = len(self._prefix.encode("utf-8"))
        first, last = _window(tree, line, col, len(snapshot.lines))
        self._parser = _parser(language)
        self._above = "".join(snapshot.lines[first:line]).encode("utf-8")
        self._below = "".join(snapshot.lines[line + 1 : last + 1]).encode("utf-8")
        self._insert_at = len(self._above) + col
        original = self._parse(b"")
        line_end = self._insert_at + len(rest.encode("utf-8"))
        return not _errors_in(original.root_node, len(self._above), line_end)

    def _parse(self, inserted: bytes) -> Tree:
        source = (self._above + self._prefix.encode("utf-8") + inserted
                  + self._suffix_body.encode("utf-8") + self._eol.encode("utf-8") + self._below)
        return self._parser.parse(source)

    def verdict(self, text: str, unit_offset: int) -> Verdict:
        """`text` is inserted at the cursor; the statement starts at `unit_offset` (a python index
        into the cursor's line prefix + text: its first non-blank character)."""
        if not self.usable:
            return Verdict(False)
        inserted = text.encode("utf-8")
        tree = self._parse(inserted)
        start = len(self._above) + len((self._prefix + text)[:unit_offset].encode("utf-8"))
        end = self._insert_at + len(inserted)
        if _errors_in(tree.root_node, start, end):
            return Verdict(False)
        node = tree.root_node.named_descendant_for_byte_range(start, start)
        if node is None:
            return Verdict(False)
        # The largest node starting where the statement starts is the statement; it must end
        # inside the text (if it runs on, the document's next lines were swallowed into it).
        while (
            node.parent is not None
            and node.parent.start_byte == start
            and node.parent.type not in CONTAINERS
        ):
            node = node.parent
        if node.start_byte != start or node.end_byte > end or node.type in CONTAINERS:
            return Verdict(False)
        return Verdict(True, ends_with_block=_ends_with_block(node))
