"""An incremental tree-sitter tree for one document.

Edits are recorded on the old tree as they arrive (cheap); the reparse happens once, when someone
asks for the tree, reusing every unchanged subtree. Cost follows the edit, not the file.
"""

from __future__ import annotations

from collections.abc import Callable

from tree_sitter import Parser, Point, Tree

from spark_lsp.documents.text import ByteEdit
from spark_lsp.syntax.languages import grammar

ReadCallback = Callable[[int, Point], bytes]


class IncrementalTree:
    """Keeps one tree up to date with a document through `edit` + lazy `tree`."""

    def __init__(self, language: str, read: ReadCallback) -> None:
        self.language = language
        self._parser = Parser(grammar(language))
        self._read = read
        self._tree: Tree | None = None
        self._dirty = True
        self.reparse_count = 0

    def edit(self, change: ByteEdit) -> None:
        if self._tree is not None:
            self._tree.edit(
                start_byte=change.start_byte,
                old_end_byte=change.old_end_byte,
                new_end_byte=change.new_end_byte,
                start_point=change.start_point,
                old_end_point=change.old_end_point,
                new_end_point=change.new_end_point,
            )
        self._dirty = True

    def reset(self) -> None:
        """Forget the old tree (the whole text was replaced)."""
        self._tree = None
        self._dirty = True

    @property
    def tree(self) -> Tree:
        if self._dirty or self._tree is None:
            if self._tree is None:
                self._tree = self._parser.parse(self._read)
            else:
                self._tree = self._parser.parse(self._read, self._tree)
            self._dirty = False
            self.reparse_count += 1
        return self._tree

    @property
    def is_fresh(self) -> bool:
        return not self._dirty and self._tree is not None
