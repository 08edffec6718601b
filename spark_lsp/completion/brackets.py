"""Bracket depth of streamed code, fed piece by piece, skipping strings and comments."""

from __future__ import annotations

from dataclasses import dataclass

OPENERS = "([{"
CLOSERS = ")]}"


@dataclass(frozen=True)
class Lexis:
    """The little a bracket counter must know about a language's strings and comments."""

    line_comment: str | None = "//"
    block_comments: bool = True
    quotes: str = "\"'"
    multiline_quotes: str = ""  # quotes whose strings may span lines (JS/Go backticks)
    triple_quotes: bool = False


_PYTHON = Lexis(line_comment="#", block_comments=False, quotes="\"'", triple_quotes=True)
_LEXIS: dict[str, Lexis] = {
    "python": _PYTHON,
    "javascript": Lexis(quotes="\"'`", multiline_quotes="`"),
    "typescript": Lexis(quotes="\"'`", multiline_quotes="`"),
    "tsx": Lexis(quotes="\"'`", multiline_quotes="`"),
    "go": Lexis(quotes="\"'`", multiline_quotes="`"),
    "rust": Lexis(quotes='"'),  # a `'` is as often a lifetime as a char literal
}
_DEFAULT = Lexis()


def lexis_for(language: str | None) -> Lexis:
    return _LEXIS.get(language or "", _DEFAULT)


class BracketCounter:
    """Depth of `([{` minus `)]}` over everything fed so far (strings and comments ignored).

    `min_depth` is the lowest depth reached: below zero means the text closed a bracket that was
    opened before it (a block's closing brace).
    """

    def __init__(self, lexis: Lexis) -> None:
        self.lexis = lexis
        self.depth = 0
        self.min_depth = 0
        self._quote = ""  # the open string's delimiter ("" outside strings)
        self._block_comment = False
        self._line_comment = False
        self._escape = False

    @property
    def in_string(self) -> bool:
        return bool(self._quote)

    def feed(self, text: str) -> None:
        lexis = self.lexis
        i, n = 0, len(text)
        while i < n:
            ch = text[i]
            if ch == "\n":
                self._line_comment = False
                self._escape = False
                if len(self._quote) == 1 and self._quote not in lexis.multiline_quotes:
                    self._quote = ""  # an unterminated one-line string ends with its line
                i += 1
                continue
            if self._line_comment:
                i += 1
                continue
            if self._block_comment:
                if text.startswith("*/", i):
                    self._block_comment = False
                    i += 2
                else:
                    i += 1
                continue
            if self._quote:
                if self._escape:
                    self._escape = False
                elif ch == "\\":
                    self._escape = True
                elif text.startswith(self._quote, i):
                    i += len(self._quote)
                    self._quote = ""
                    continue
                i += 1
                continue
            if lexis.line_comment and text.startswith(lexis.line_comment, i):
                self._line_comment = True
                i += len(lexis.line_comment)
                continue
            if lexis.block_comments and text.startswith("/*", i):
                self._block_comment = True
                i += 2
                continue
            if ch in lexis.quotes:
                triple = ch * 3
                if lexis.triple_quotes and text.startswith(triple, i):
                    self._quote = triple
                    i += 3
                else:
                    self._quote = ch
                    i += 1
                continue
            if ch in OPENERS:
                self.depth += 1
            elif ch in CLOSERS:
                self.depth -= 1
                self.min_depth = min(self.min_depth, self.depth)
            i += 1


def depth_of(text: str, language: str | None) -> int:
    """The bracket depth at the end of `text` (one-shot helper)."""
    counter = BracketCounter(lexis_for(language))
    counter.feed(text)
    return counter.depth
