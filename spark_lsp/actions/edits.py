"""Edits as the actions make them: one text change in (row, index) terms, rendered from a placement
and the answer's lines, applied to a snapshot's text, and converted to LSP (UTF-16) positions.
"""

from __future__ import annotations

from dataclasses import dataclass

from spark_lsp.actions.targets import Loc, Placement
from spark_lsp.documents.store import DocumentSnapshot
from spark_lsp.documents.text import index_to_utf16, line_body


@dataclass(frozen=True)
class TextChange:
    """Replace `start`-`end` (row, python index) with `text`."""

    start: Loc
    end: Loc
    text: str


def newline_of(snapshot: DocumentSnapshot) -> str:
    """The document's line ending (from its first line), `\\n` when it has none yet."""
    first = snapshot.lines[0] if snapshot.lines else ""
    if first.endswith("\r\n"):
        return "\r\n"
    return "\r" if first.endswith("\r") else "\n"


def render(placement: Placement, lines: list[str], newline: str = "\n") -> TextChange:
    """The change that puts `lines` (already indented) where the placement says."""
    if placement.inline_first and lines:
        lines = [lines[0][len(placement.indent):] if lines[0].startswith(placement.indent)
                 else lines[0].lstrip(), *lines[1:]]
    body = newline.join(lines)
    lead = placement.lead.replace("\n", newline)
    trail = placement.trail.replace("\n", newline)
    return TextChange(placement.start, placement.end, lead + body + trail)


def offset(snapshot: DocumentSnapshot, loc: Loc) -> int:
    """The index in the snapshot's text of a (row, index) location."""
    row, index = loc
    row = min(row, len(snapshot.lines) - 1)
    return sum(len(line) for line in snapshot.lines[:row]) + min(
        index, len(line_body(snapshot.lines[row]))
    )


def apply(snapshot: DocumentSnapshot, change: TextChange) -> str:
    """The snapshot's text with the change made."""
    text = snapshot.text
    start, end = offset(snapshot, change.start), offset(snapshot, change.end)
    return text[:start] + change.text + text[end:]


def lsp_range(snapshot: DocumentSnapshot, change: TextChange) -> tuple[Loc, Loc]:
    """The change's range as LSP (line, UTF-16 character) positions."""

    def convert(loc: Loc) -> tuple[int, int]:
        row = min(loc[0], len(snapshot.lines) - 1)
        return row, index_to_utf16(snapshot.lines[row], loc[1])

    return convert(change.start), convert(change.end)
