"""Token counting for prompt budgets: the model's tokenizer when one is at hand, else an estimate.

The estimate counts the pieces a GPT-2-style BPE pre-tokenizer splits text into (a word with its
leading space, a run of punctuation, a run of whitespace), plus one token per 3 letters of a long
word beyond 6 and per 3 capitals of an upper-case run beyond the first (few upper-case words are
in a vocabulary). Calibrated against the SmolLM2 tokenizer (the embedded model's) on random
40-line blocks of real code: real tokens average 3.83 characters for Python, 3.32 for JavaScript
and 3.72 for TypeScript. For whole blocks of httpx / pygls / hypothesis the estimate is off by
-1.3 % / +4.2 % / -1.4 %; summed line by line, as the context builder sums it, by +9.3 % / +12.1 %
/ +6.5 %: it errs on the side of more tokens. `benchmarks/context_recall.py --calibrate` prints
these figures again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

TokenCounter = Callable[[str], int]

_PIECES = re.compile(
    r"""'(?:[sdmt]|ll|ve|re)| ?[A-Za-z]+| ?[0-9]| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")
_LONG_WORD = re.compile(r"[A-Za-z]{9,}")
_CAPITALS = re.compile(r"[A-Z]{3,}")  # vocabularies hold few upper-case words: they split


def estimate_tokens(text: str) -> int:
    """Tokens `text` takes in a BPE code tokenizer (calibrated; see the module docstring)."""
    if not text:
        return 0
    count = len(_PIECES.findall(text))
    for word in _LONG_WORD.findall(text):
        count += (len(word) - 6) // 3
    for run in _CAPITALS.findall(text):
        count += (len(run) - 1) // 3
    return count


class CachedCounter:
    """A counter that remembers short texts (lines repeat from one keystroke to the next)."""

    def __init__(self, count: TokenCounter, max_entries: int = 50_000, max_chars: int = 400
                 ) -> None:
        self.count = count
        self._cache: dict[str, int] = {}
        self._max_entries = max_entries
        self._max_chars = max_chars

    def __call__(self, text: str) -> int:
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        value = self.count(text)
        if len(text) <= self._max_chars:
            if len(self._cache) >= self._max_entries:
                self._cache.clear()
            self._cache[text] = value
        return value


cached_estimate = CachedCounter(estimate_tokens)


class _CountsTokens(Protocol):
    def count_tokens(self, text: str) -> int: ...


def counter_for(backend: object | None) -> tuple[TokenCounter, bool]:
    """The counter to budget a backend's prompts with, and whether it is the model's own
    tokenizer (then the builder checks the finished prompt with it once more)."""
    count = getattr(backend, "count_tokens", None)
    if callable(count):

        def safe(text: str) -> int:
            try:
                return int(count(text))
            except Exception:  # a tokenizer failure must not fail the completion
                return estimate_tokens(text)

        return CachedCounter(safe, max_entries=5_000), True
    return cached_estimate, False
