"""What changed in a document's text, in tree-sitter's terms: an edit (`ByteEdit`), or a range
whose syntax a reparse changed (`ChangedRange`).

Here, in the syntax layer, because an edit in byte offsets and (row, byte column) points is the
tree's vocabulary, not the text's: the document's text buffer (`documents.text`) produces one
per change and the tree consumes it, so `documents` imports `syntax` and never the other way.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ByteEdit:
    """One edit in tree-sitter's terms: byte offsets and (row, byte column) points."""

    start_byte: int
    old_end_byte: int
    new_end_byte: int
    start_point: tuple[int, int]
    old_end_point: tuple[int, int]
    new_end_point: tuple[int, int]
    inserted: bytes  # the UTF-8 bytes the edit put in (new_end_byte - start_byte of them)


@dataclass(frozen=True)
class ChangedRange:
    """A range whose syntax changed in a reparse, in the coordinates after that reparse."""

    start_byte: int
    end_byte: int
    start_row: int
    end_row: int
    start_column: int = 0  # in bytes


Change = ByteEdit | ChangedRange
