"""Token healing: a prompt that ends inside a word is cut back to the word's start, a grammar holds
the model to an answer that begins with the part cut off, and that part is taken off the answer.

A prompt ending in `respon` ends in a token split the model rarely saw (`resp` + `on`), and it
goes on from that boundary instead of finishing the word: at the keystrokes of
`benchmarks/real_server.py`'s typing session SmolLM2 on llama-server answered nothing at 6 of 25
(and mostly another word), healed it began 25 of 25 with the word being typed. Only for models
that take a GBNF grammar: llama.cpp's server (known by its /props) and the embedded model.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

log = logging.getLogger(__name__)

WORD_AT_END = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# Longer than this is not a word being typed (a hash, a base64 run): not healed.
MAX_HEALED_CHARS = 40


@dataclass(frozen=True)
class Healing:
    """The prompt cut back to the start of its last word, and that word."""

    prompt: str
    word: str

    @property
    def grammar(self) -> str:
        """GBNF: the answer begins with the word (`.` matches any character, line ends too)."""
        return f'root ::= "{self.word}" .*'


def healing(prompt: str, prefix: str) -> Healing | None:
    """How to heal `prompt` (which is sent as is), or None when it does not end in the word the
    cursor is in: `prefix` is the text before the cursor (a FIM template's prompt ends in its
    own tokens, not the prefix, and is not healed)."""
    found = WORD_AT_END.search(prefix[-MAX_HEALED_CHARS - 1 :])
    if found is None or len(found.group()) > MAX_HEALED_CHARS:
        return None
    word = found.group()
    if not prompt.endswith(word):
        return None
    return Healing(prompt[: len(prompt) - len(word)], word)


class Unheal:
    """Takes the healed word off the front of a streamed answer. Set the word with `expect`
    before the first `feed` ("": nothing to take off). An answer that does not begin with the
    word (a server that ignored the grammar) gives no text at all: it would not fit the cursor."""

    def __init__(self) -> None:
        self._word = ""
        self._held = ""
        self._done = True
        self.broken = False

    def expect(self, word: str) -> None:
        self._word, self._held, self._done, self.broken = word, "", not word, False

    def feed(self, text: str) -> str:
        if self._done:
            return "" if self.broken else text
        self._held += text
        if not (self._held.startswith(self._word) or self._word.startswith(self._held)):
            self._done = self.broken = True
            log.warning("the model's answer does not begin with the healed word %r (%r): "
                        "its server ignores `grammar`; answer dropped", self._word,
                        self._held[:40])
            return ""
        if len(self._held) < len(self._word):
            return ""
        self._done = True
        return self._held[len(self._word) :]
