"""Bounds and sanitising for every model answer: at most so many characters and lines per
suggestion, and nothing the editor should not draw (control characters but tab and newline,
ANSI escape sequences, bidi controls, lone surrogates).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spark_lsp.models.base import ModelBadResponse


@dataclass(frozen=True)
class Bounds:
    """The most a suggestion may hold."""

    chars: int
    lines: int


# Ghost text: far more than any max_tokens a user sets (128 tokens are ~500 characters).
INLINE = Bounds(chars=16_000, lines=400)
# A code action's answer: a generated function or a rewritten selection.
ACTION = Bounds(chars=400_000, lines=8_000)


class AnswerTooLong(ModelBadResponse):
    """The model's answer passed its bounds (a model that ignores `max_tokens`)."""

    kind = "too-long"


# CSI (`ESC [ … final`) and OSC (`ESC ] … BEL / ESC \`) sequences: the whole sequence goes.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b\n]{0,256}(?:\x07|\x1b\\)?"
                   r"|\x1b[@-_]?")
# A sequence that is over (so a chunk ending after it holds nothing back).
_ANSI_DONE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b\n]*(?:\x07|\x1b\\)|[@-Z\\^_])")
# C0 controls but tab and newline, DEL, C1 controls, bidi controls and marks, lone surrogates.
_UNWANTED = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NEWLINES = re.compile(r"\r\n?")


def sanitize(text: str) -> str:
    """`text` without what must not reach the editor. `\\r\\n` and `\\r` become `\\n`; a
    surrogate pair split into two escapes (valid JSON) is joined into its character first."""
    if not text.isascii() and any("\ud800" <= ch <= "\udfff" for ch in text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "ignore")
    if "\r" in text:
        text = _NEWLINES.sub("\n", text)
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    return _UNWANTED.sub("", text)


def exceeds(text: str, bounds: Bounds) -> bool:
    return len(text) > bounds.chars or text.count("\n") >= bounds.lines


def within(text: str, bounds: Bounds) -> str:
    """`text` cut to the whole lines that fit `bounds` ("" when its first line alone does not
    fit: a cut line is not code)."""
    if not exceeds(text, bounds):
        return text
    lines = text.split("\n")[: bounds.lines]
    kept, size = [], 0
    for line in lines:
        size += len(line) + 1
        if size - 1 > bounds.chars:
            break
        kept.append(line)
    return "\n".join(kept)


class ChunkCleaner:
    """Sanitises a stream chunk by chunk: holds back the end of a chunk that may continue in
    the next one (an unfinished escape sequence, the first half of a surrogate pair)."""

    _HOLD = 32  # an escape sequence longer than this is junk anyway

    def __init__(self) -> None:
        self._held = ""

    def feed(self, chunk: str) -> str:
        text = self._held + chunk
        self._held = ""
        cut = len(text)
        escape = text.rfind("\x1b", max(0, len(text) - self._HOLD))
        if escape >= 0 and not _ANSI_DONE.match(text, escape):
            cut = escape
        if cut == len(text) and text and "\ud800" <= text[-1] <= "\udbff":
            cut -= 1
        self._held = text[cut:]
        return sanitize(text[:cut])

    def flush(self) -> str:
        held, self._held = self._held, ""
        return sanitize(held)
