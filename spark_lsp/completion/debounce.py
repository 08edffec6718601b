"""Debounce per document that coalesces bursts of keystrokes without delaying isolated ones.

A request waits `delay` only when the previous request for the same document came less than
`delay` before it (a burst); a newer request then supersedes it while it waits, so only the last
keystroke of a burst reaches the model, `delay` after it. A keystroke after a pause goes at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Debouncer:
    """Remembers when each key was last asked for; says how long a new request should wait."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last: dict[str, float] = {}

    def delay_for(self, key: str, delay: float) -> float:
        """Record a request for `key` now; the seconds it should wait before calling the model."""
        now = self._clock()
        previous = self._last.get(key)
        self._last[key] = now
        if delay <= 0 or previous is None or now - previous >= delay:
            return 0.0
        return delay

    def forget(self, key: str) -> None:
        self._last.pop(key, None)
