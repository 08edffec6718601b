"""An incremental tree-sitter tree for one document.

Edits are recorded on the old tree as they arrive (cheap); the reparse happens once, when someone
asks for the tree, reusing every unchanged subtree. A reader that can live with the row being
typed on left as it was (`edited_tree`) skips even that while the edits stay on one row: in a
30,000-line module a reparse costs milliseconds, because tree-sitter relinks every top-level
node.

The tree also keeps a short log of what changed (each edit, and the ranges whose syntax the
reparse changed) so that derived data such as the outline can be updated for the changed part
only (`changes_since`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from tree_sitter import Parser, Point, Tree

from spark_lsp.syntax.changes import ByteEdit, Change, ChangedRange
from spark_lsp.syntax.languages import grammar

ReadCallback = Callable[[int, Point], bytes]

MAX_LOGGED_CHANGES = 256


def read_all(read: ReadCallback) -> bytes:
    """The whole text, through a read callback. (py-tree-sitter 0.26.1 leaks every bytes object
    a read callback returns to `Parser.parse` — one reference each, so RSS grows with every
    reparse — hence the parser is given plain bytes, kept up to date edit by edit.)"""
    chunks: list[bytes] = []
    offset = row = column = 0
    while chunk := read(offset, Point(row, column)):
        chunks.append(chunk)
        offset += len(chunk)
        newlines = chunk.count(b"\n")
        row += newlines
        column = len(chunk) - chunk.rfind(b"\n") - 1 if newlines else column + len(chunk)
    return b"".join(chunks)


class IncrementalTree:
    """Keeps one tree up to date with a document through `edit` + lazy `tree`."""

    def __init__(self, language: str, read: ReadCallback) -> None:
        self.language = language
        self._parser = Parser(grammar(language))
        self._read = read
        self._tree: Tree | None = None
        # The text the tree was parsed from, then edited: edited in place, because splicing a
        # 1 MB `bytes` costs a millisecond a keystroke. (Trees hold on to it, so a node's `.text`
        # would show later edits: text is read from the document's lines, never from nodes.)
        self._text: bytearray | None = None
        self._dirty = True
        self.reparse_count = 0
        self.serial = 0  # counts logged changes
        self._log: deque[tuple[int, Change]] = deque(maxlen=MAX_LOGGED_CHANGES)
        self._log_start = 0  # changes before this serial are not (or no longer) in the log
        # The row all edits since the last parse lie within (None: some edit spans rows).
        self._unparsed_row: int | None = None

    def edit(self, change: ByteEdit) -> None:
        """Record one edit (called after the document's text changed)."""
        if self._text is not None:
            self._text[change.start_byte : change.old_end_byte] = change.inserted
        if self._tree is not None:
            self._tree.edit(
                start_byte=change.start_byte,
                old_end_byte=change.old_end_byte,
                new_end_byte=change.new_end_byte,
                start_point=change.start_point,
                old_end_point=change.old_end_point,
                new_end_point=change.new_end_point,
            )
        self._record(change)
        row = change.start_point[0]
        within_row = change.old_end_point[0] == change.new_end_point[0] == row
        self._unparsed_row = row if within_row and (not self._dirty or self._unparsed_row == row) \
            else None
        self._dirty = True

    @property
    def is_dirty(self) -> bool:
        """Edits arrived since the last parse."""
        return self._dirty

    def edited_tree(self, row: int) -> Tree:
        """The tree without reparsing when every edit since the last parse lies within `row`:
        the old tree with those edits applied, exact everywhere but on that row (where nodes
        keep their old kinds and extents). Else the reparsed tree, as `tree` gives it."""
        if self._dirty and self._tree is not None and self._unparsed_row == row:
            return self._tree
        return self.tree

    def reset(self) -> None:
        """Forget the old tree (the whole text was replaced)."""
        self._tree = None
        self._text = None
        self._dirty = True
        self.serial += 1
        self._log.clear()
        self._log_start = self.serial

    def _record(self, change: Change) -> None:
        self.serial += 1
        if len(self._log) == self._log.maxlen:
            self._log_start = self._log[0][0] + 1
        self._log.append((self.serial, change))

    def changes_since(self, serial: int) -> list[Change] | None:
        """Changes after `serial` in order, or None when the log no longer reaches back there."""
        if serial < self._log_start or serial > self.serial:
            return None
        return [change for number, change in self._log if number > serial]

    @property
    def tree(self) -> Tree:
        if self._dirty or self._tree is None:
            if self._tree is None or self._text is None:
                self._text = bytearray(read_all(self._read))
                self._tree = self._parser.parse(self._text)
            else:
                old = self._tree
                self._tree = self._parser.parse(self._text, old)
                for r in old.changed_ranges(self._tree):
                    self._record(ChangedRange(r.start_byte, r.end_byte, r.start_point.row,
                                              r.end_point.row, r.start_point.column))
            self._dirty = False
            self._unparsed_row = None
            self.reparse_count += 1
        return self._tree
