"""Values the context engine derives once and keeps across requests (a file's module-level names
ranked, the modules an import list names), by key, the least recently used dropped first.

A key holds the objects it is about (an outline, the index), not their `id()`: an entry can
never be mistaken for another object's that took the same address.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")


class Memo:
    """An LRU map of derived values (one per context engine; not thread-safe: the loop's)."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, object] = OrderedDict()

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        """The value for `key`, made by `make()` the first time."""
        if key in self._entries:
            self._entries.move_to_end(key)
            return self._entries[key]  # type: ignore[return-value]
        value = make()
        self._entries[key] = value
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
