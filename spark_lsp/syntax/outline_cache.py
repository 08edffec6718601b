"""The live outline of an open document, updated from the tree's change log in time ∝ the change.

The edits since the last refresh (and the ranges the reparse reported as changed) are merged into
one dirty region; only the units touching it are outlined again, from the current tree.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tree_sitter import Node, Tree

from spark_lsp.syntax.changes import ByteEdit, Change, ChangedRange
from spark_lsp.syntax.file_outline import FileOutline
from spark_lsp.syntax.outline import Unit, container_of, outline_tree, unit_of
from spark_lsp.syntax.symbols import LinesSource
from spark_lsp.syntax.tree import IncrementalTree

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Region:
    """Bytes [start, end] now were [start, old_end] before; everything after moved by `moved`."""

    start: int
    end: int
    old_end: int
    moved: int
    start_row: int
    end_row: int
    old_end_row: int
    moved_rows: int


def merge(region: Region | None, change: Change) -> Region:
    """The dirty region after one more change (edit or changed range, current coordinates).

    It starts at the start of the change's first row (a definition's column is part of its
    signature) and ends on its last row (`derive` and `replace_region` take whole rows there).
    """
    if isinstance(change, ByteEdit):
        s, oe, ne = change.start_byte - change.start_point[1], change.old_end_byte, \
            change.new_end_byte
        rs, roe, rne = change.start_point[0], change.old_end_point[0], change.new_end_point[0]
    else:
        s, oe, ne = change.start_byte - change.start_column, change.end_byte, change.end_byte
        rs, roe, rne = change.start_row, change.end_row, change.end_row
    if region is None:
        return Region(s, ne, oe, ne - oe, rs, rne, roe, rne - roe)
    end_now = max(region.end, oe)
    end_rows_now = max(region.end_row, roe)
    return Region(
        start=min(region.start, s), end=end_now + (ne - oe), old_end=end_now - region.moved,
        moved=region.moved + (ne - oe),
        start_row=min(region.start_row, rs), end_row=end_rows_now + (rne - roe),
        old_end_row=end_rows_now - region.moved_rows, moved_rows=region.moved_rows + (rne - roe),
    )


def derive(tree: Tree, src: LinesSource, language: str, region: Region,
           kept: Callable[[int, int, str], bool]) -> tuple[list[Unit], dict[str, int]]:
    """Units of the current tree touching the region, in order, and how many members each
    container walked through has (to check the updated outline against).

    Past the region it goes on until a unit is found unchanged (`kept(start, end, container)`, in
    the old coordinates): an edit can change the syntax after it (a statement split in two)
    without tree-sitter's changed ranges saying so.
    """
    out: list[Unit] = []
    counts: dict[str, int] = {}
    _walk(tree.root_node, src, language, region, kept, "", "", 0, out, counts)
    return out, counts


def _walk(node: Node, src: LinesSource, language: str, region: Region,
          kept: Callable[[int, int, str], bool], parent: str, parent_kind: str, depth: int,
          out: list[Unit], counts: dict[str, int]) -> bool:
    """Derive the units of `node`'s children touching the region; True once a kept unit was
    reached past the region (everything after it is kept too: the callers stop as well)."""
    counts[parent] = counts.get(parent, 0) + node.named_child_count
    # A TreeCursor, not Node.first_named_child_for_byte: that one crashes tree-sitter 0.26 on
    # some trees.
    cursor = node.walk()
    if cursor.goto_first_child_for_byte(max(region.start - 1, node.start_byte)) is None:
        return False
    while True:
        child = cursor.node
        if child is None:
            return False
        past = child.start_byte > region.end and child.start_point.row > region.end_row
        if child.is_named and child.end_byte >= region.start:
            container = container_of(child, language)
            if past:  # the unit's extent (as `make_unit` has it) before outlining it
                end = container[1].start_byte if container is not None else child.end_byte
                if kept(child.start_byte - region.moved, end - region.moved, parent):
                    return True
            unit, body, qualname, kind = unit_of(child, container, src, language, parent,
                                                 parent_kind, depth, with_names=True)
            if unit.end_byte >= region.start:
                out.append(unit)
            if body is not None and body.end_byte >= region.start and _walk(
                    body, src, language, region, kept, qualname, kind, depth + 1, out, counts):
                return True
        if not cursor.goto_next_sibling():
            return False


class DocumentOutline:
    """Keeps a `FileOutline` in step with one document's `IncrementalTree`."""

    def __init__(self, path: str, language: str) -> None:
        self.path = path
        self.language = language
        self.outline = FileOutline(path, language)
        self._syntax: IncrementalTree | None = None
        self._serial = -1
        self.full_builds = 0
        self.units_rebuilt = 0  # units outlined again by partial updates (tests, benchmarks)

    def behind_only_on_row(self, syntax: IncrementalTree, row: int) -> bool:
        """Whether everything the outline has not seen yet (edits, and the syntax the reparse
        changed) lies within one row: typing on a line, which `refresh` can catch up with
        later from the change log."""
        if syntax is not self._syntax:
            return False
        changes = syntax.changes_since(self._serial)
        if changes is None:
            return False
        for change in changes:
            if isinstance(change, ByteEdit):
                if not (change.start_point[0] == change.old_end_point[0]
                        == change.new_end_point[0] == row):
                    return False
            elif not change.start_row == change.end_row == row:
                return False
        return True

    def refresh(self, syntax: IncrementalTree, lines: Sequence[str]) -> FileOutline:
        """Bring the outline up to date with the tree (reparsing it first if needed)."""
        tree = syntax.tree
        src = LinesSource(lines)
        changes = syntax.changes_since(self._serial) if syntax is self._syntax else None
        if changes is None:
            self._full(syntax, tree, src)
        elif changes:
            region: Region | None = None
            for change in changes:
                region = merge(region, change)
            assert region is not None
            units, counts = derive(tree, src, self.language, region, self.outline.has_unit)
            self.units_rebuilt += len(units)
            covered = max((u.end_byte - region.moved for u in units if u.end_byte > region.end),
                          default=0)
            self.outline.replace_region(region.start, region.old_end, region.old_end_row,
                                        region.moved, region.moved_rows, units, covered)
            if any(self.outline.unit_count(c) != n and self.outline.is_unique_container(c)
                   for c, n in counts.items()):
                log.debug("outline of %s out of step; rebuilding it", self.path)
                self._full(syntax, tree, src)
        self._serial = syntax.serial
        return self.outline

    def _full(self, syntax: IncrementalTree, tree: Tree, src: LinesSource) -> None:
        self.outline = FileOutline(self.path, self.language, outline_tree(tree, src, self.language,
                                                                       with_names=True))
        self._syntax = syntax
        self.full_builds += 1


__all__ = ["ChangedRange", "DocumentOutline", "Region", "derive", "merge"]
