"""A document's text as a list of lines, edited in place so each change costs what the edit costs.

Positions are LSP positions (line, UTF-16 code units); lines end in `\\n`, `\\r\\n` or `\\r` as the
LSP says. Each edit also yields the byte/point description tree-sitter needs for `Tree.edit`
(a `syntax.changes.ByteEdit`).
"""

from __future__ import annotations

import re

from spark_lsp.syntax.changes import ByteEdit

_LINE_WITH_END = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)")


def split_lines(text: str) -> list[str]:
    """Split keeping line ends. Always at least one line; only the last has no line end."""
    lines: list[str] = []
    end = 0
    for match in _LINE_WITH_END.finditer(text):
        lines.append(match.group())
        end = match.end()
    lines.append(text[end:])
    return lines


def line_body(line: str) -> str:
    """The line without its line end."""
    if line.endswith("\r\n"):
        return line[:-2]
    if line.endswith(("\n", "\r")):
        return line[:-1]
    return line


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (astral characters count two)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def utf16_to_index(line: str, units: int) -> int:
    """Python index in `line` for a UTF-16 column; clamped to the line's body."""
    body = line_body(line)
    if body.isascii():
        return min(units, len(body))
    count = 0
    for index, ch in enumerate(body):
        count += 2 if ord(ch) > 0xFFFF else 1
        if count > units:  # a column inside a surrogate pair stays before the character
            return index
    return len(body)


def index_to_utf16(line: str, index: int) -> int:
    prefix = line[:index]
    return utf16_len(prefix)


class PositionError(ValueError):
    """A position that is not inside the document."""


class TextBuffer:
    """Lines of one document plus the UTF-8 length of each, updated per edit."""

    def __init__(self, text: str) -> None:
        self.lines: list[str] = split_lines(text)
        self._byte_lens: list[int] = [len(line.encode("utf-8")) for line in self.lines]
        self._lone_cr_lines = sum(1 for line in self.lines if line.endswith("\r"))

    # -- reading -------------------------------------------------------------------------------

    @property
    def text(self) -> str:
        return "".join(self.lines)

    @property
    def line_count(self) -> int:
        return len(self.lines)

    @property
    def byte_length(self) -> int:
        return sum(self._byte_lens)

    def line_start_byte(self, row: int) -> int:
        return sum(self._byte_lens[:row])

    def clamp(self, line: int, character: int) -> tuple[int, int]:
        """A valid (line, python index) for an LSP position; past-the-end positions are clamped."""
        if line < 0 or character < 0:
            raise PositionError(f"negative position ({line}, {character})")
        if line >= len(self.lines):
            last = len(self.lines) - 1
            return last, len(line_body(self.lines[last]))
        return line, utf16_to_index(self.lines[line], character)

    def tree_sitter_point(self, row: int, column: int) -> tuple[int, int]:
        """(row, byte column) of our line `row` as tree-sitter counts them: only `\\n` ends a row,
        so lines ending in a lone `\\r` run on into the next one."""
        if not self._lone_cr_lines:
            return row, column
        ts_row = sum(1 for line in self.lines[:row] if line.endswith("\n"))
        previous = row - 1
        while previous >= 0 and self.lines[previous].endswith("\r"):
            column += self._byte_lens[previous]
            previous -= 1
        return ts_row, column

    def offset_in_line_bytes(self, row: int, index: int) -> int:
        return len(self.lines[row][:index].encode("utf-8"))

    def read_for_tree_sitter(self, byte_offset: int, point: tuple[int, int]) -> bytes:
        """tree-sitter's read callback: the bytes from `point` to the end of a few lines.

        Tree-sitter counts rows by `\\n` only, which matches our lines unless a line ends in a lone
        `\\r`; then the callback falls back to slicing the whole text by byte offset.
        """
        if self._lone_cr_lines:
            return self.text.encode("utf-8")[byte_offset : byte_offset + 65536]
        row, column = point
        if row >= len(self.lines):
            return b""
        chunk = [self.lines[row].encode("utf-8")[column:]]
        size = len(chunk[0])
        row += 1
        while size < 4096 and row < len(self.lines):
            encoded = self.lines[row].encode("utf-8")
            chunk.append(encoded)
            size += len(encoded)
            row += 1
        return b"".join(chunk)

    # -- editing -------------------------------------------------------------------------------

    def replace_all(self, text: str) -> None:
        self.__init__(text)  # type: ignore[misc]

    def apply(self, start: tuple[int, int], end: tuple[int, int], new_text: str) -> ByteEdit:
        """Replace the text between two LSP positions (line, UTF-16 column); return the edit."""
        s_line, s_index = self.clamp(*start)
        e_line, e_index = self.clamp(*end)
        if (e_line, e_index) < (s_line, s_index):
            s_line, s_index, e_line, e_index = e_line, e_index, s_line, s_index

        start_col_bytes = self.offset_in_line_bytes(s_line, s_index)
        end_col_bytes = self.offset_in_line_bytes(e_line, e_index)
        start_byte = self.line_start_byte(s_line) + start_col_bytes
        old_end_byte = (
            start_byte - start_col_bytes + sum(self._byte_lens[s_line:e_line]) + end_col_bytes
        )
        start_point = self.tree_sitter_point(s_line, start_col_bytes)
        old_end_point = self.tree_sitter_point(e_line, end_col_bytes)

        # Re-split from one line before to one line after the edit, so a `\r` and a `\n` that
        # the edit brings together (or apart) end up in the right lines.
        first = max(s_line - 1, 0)
        last = min(e_line + 1, len(self.lines) - 1)
        merged = (
            "".join(self.lines[first:s_line])
            + self.lines[s_line][:s_index]
            + new_text
            + self.lines[e_line][e_index:]
            + "".join(self.lines[e_line + 1 : last + 1])
        )
        replacement = split_lines(merged)
        if last != len(self.lines) - 1 and replacement[-1] == "":
            replacement.pop()
        old = self.lines[first : last + 1]
        self._lone_cr_lines += sum(1 for x in replacement if x.endswith("\r")) - sum(
            1 for x in old if x.endswith("\r")
        )
        self.lines[first : last + 1] = replacement
        self._byte_lens[first : last + 1] = [len(x.encode("utf-8")) for x in replacement]

        new_text_bytes = new_text.encode("utf-8")
        new_end_byte = start_byte + len(new_text_bytes)
        newline_count = new_text_bytes.count(b"\n")
        if newline_count:
            new_end_point = (
                start_point[0] + newline_count,
                len(new_text_bytes) - new_text_bytes.rfind(b"\n") - 1,
            )
        else:
            new_end_point = (start_point[0], start_point[1] + len(new_text_bytes))
        return ByteEdit(
            start_byte=start_byte,
            old_end_byte=old_end_byte,
            new_end_byte=new_end_byte,
            start_point=start_point,
            old_end_point=old_end_point,
            new_end_point=new_end_point,
            inserted=new_text_bytes,
        )
