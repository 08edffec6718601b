"""Suggestions already made, served again without a model call.

An LRU keyed by the document's text just before the cursor (and the rest of the cursor's line).
- Backspace and retype: the same key comes back, the same suggestion is served.
- Typed-through: when the text before the cursor is an earlier key plus characters that begin
  that key's suggestion, the rest of the suggestion is served (and stored under the new key).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from spark_lsp.documents.text import line_body

KEY_CHARS = 256  # how much of the text before the cursor makes the key
MAX_TYPED = 256  # how far the user may type through a suggestion and still be served


@dataclass(frozen=True)
class Cached:
    """A suggestion as stored: its text and how many characters after the cursor it replaces."""

    text: str
    replaces: int = 0  # python characters of the line's rest


def text_before(lines: Sequence[str], line: int, index: int, limit: int) -> str:
    """The last `limit` characters of the document (its lines, with their ends) before
    (line, python index). Cost: `limit`, whatever the document's size."""
    parts = [line_body(lines[line])[:index]]
    size = len(parts[0])
    row = line - 1
    while size < limit and row >= 0:
        parts.append(lines[row])
        size += len(lines[row])
        row -= 1
    text = "".join(reversed(parts)).replace("\r\n", "\n")
    return text[-limit:]


class SuggestionCache:
    """LRU of suggestions keyed by (uri, text before the cursor, rest of the line)."""

    def __init__(self, size: int = 256, key_chars: int = KEY_CHARS, max_typed: int = MAX_TYPED
                 ) -> None:
        self.size = size
        self.key_chars = key_chars
        self.max_typed = max_typed
        self._entries: OrderedDict[tuple[str, str, str], Cached] = OrderedDict()

    @property
    def span(self) -> int:
        """How much text before the cursor `lookup` needs."""
        return self.key_chars + self.max_typed

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, uri: str, before: str, line_suffix: str, entry: Cached) -> None:
        if self.size <= 0 or not entry.text.strip():
            return
        key = (uri, before[-self.key_chars :], line_suffix)
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def lookup(self, uri: str, before: str, line_suffix: str) -> Cached | None:
        """The suggestion for this place: stored for it, or the rest of one typed through."""
        key = (uri, before[-self.key_chars :], line_suffix)
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            return found
        for typed in range(1, min(self.max_typed, len(before)) + 1):
            earlier = before[:-typed]
            entry = self._entries.get((uri, earlier[-self.key_chars :], line_suffix))
            if entry is None:
                continue
            tail = before[-typed:]
            rest = entry.text[typed:]
            if entry.text.startswith(tail) and rest.strip():
                served = Cached(rest, entry.replaces)
                self.put(uri, before, line_suffix, served)
                return served
        return None

    def clear(self) -> None:
        self._entries.clear()
