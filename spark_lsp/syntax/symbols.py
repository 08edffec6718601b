"""Plain data the outline is made of: definitions with their signatures, imports, text access."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Kinds whose body's children are members, each outlined on its own.
CONTAINER_KINDS = frozenset({"class", "module"})


@dataclass(frozen=True)
class Symbol:
    """One definition, signature only. Rows are 0-based (see `Unit`: relative to its unit's)."""

    name: str
    kind: str  # class, module, function, type, variable, attribute, macro
    signature: str  # the header as written (dedented), without the body
    doc: str  # first line of the docstring / doc comment, "" if none
    row: int
    header_end: int  # last row of the header
    end_row: int
    depth: int  # 0 at top level
    parent: str  # qualified name of the enclosing definition, "" at top level

    @property
    def qualname(self) -> str:
        return f"{self.parent}.{self.name}" if self.parent else self.name

    def shifted(self, rows: int) -> Symbol:
        if rows == 0:
            return self
        return Symbol(self.name, self.kind, self.signature, self.doc, self.row + rows,
                      self.header_end + rows, self.end_row + rows, self.depth, self.parent)


@dataclass(frozen=True)
class Binding:
    """A name an import binds: `local` in this file, `name` in the module ("" = the module)."""

    local: str
    name: str


@dataclass(frozen=True)
class Import:
    """One import statement: the module as written, its relative level (Python dots), bindings."""

    module: str
    level: int
    bindings: tuple[Binding, ...]
    wildcard: bool
    row: int
    end_row: int
    text: str

    def shifted(self, rows: int) -> Import:
        if rows == 0:
            return self
        return Import(self.module, self.level, self.bindings, self.wildcard, self.row + rows,
                      self.end_row + rows, self.text)


class LinesSource:
    """Text of a document by tree-sitter points (row, UTF-8 byte column) over its lines."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = lines

    def line(self, row: int) -> str:
        if 0 <= row < len(self.lines):
            return self.lines[row]
        return ""

    def _column(self, row: int, byte_column: int) -> int:
        text = self.line(row)
        if text.isascii():
            return byte_column
        return len(text.encode("utf-8")[:byte_column].decode("utf-8", "ignore"))

    def text(self, start: tuple[int, int], end: tuple[int, int], max_rows: int = 1 << 30) -> str:
        """Text between two points, at most `max_rows` rows of it."""
        (r0, c0), (r1, c1) = start, end
        last = min(r1, r0 + max_rows - 1, len(self.lines) - 1)
        if last < r0:
            return ""
        end_column = self._column(last, c1) if last == r1 else len(self.line(last))
        if r0 == last:
            return self.line(r0)[self._column(r0, c0) : end_column]
        parts = [self.line(r0)[self._column(r0, c0) :]]
        parts.extend(self.lines[r0 + 1 : last])
        parts.append(self.line(last)[:end_column])
        return "".join(parts)
