"""The hand-off when the fast tier fails: remember a refused or timed-out answer per target, so a
"Retry with stronger model" action is offered on that target, carrying what went wrong.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict

from spark_lsp.model_request import Message, ModelRequest

RETRY_PREFIX = "Spark: Retry with stronger model: "
LONGER_BUDGET = 2  # without a strong tier, the retry gets this many times the time and tokens
_KEEP = 64

Key = tuple[str, int, str, str, str]  # uri, version, kind, task, the target's identity


class Failures:
    """The last fast-tier failure of each target of each document version (a bounded memory)."""

    def __init__(self) -> None:
        self._reasons: OrderedDict[Key, str] = OrderedDict()

    def record(self, key: Key, reason: str) -> None:
        self._reasons[key] = reason
        self._reasons.move_to_end(key)
        while len(self._reasons) > _KEEP:
            self._reasons.popitem(last=False)

    def reason(self, key: Key) -> str | None:
        return self._reasons.get(key)

    def forget(self, key: Key) -> None:
        self._reasons.pop(key, None)


def retry_title(title: str, reason: str, has_strong: bool) -> str:
    """`Spark: Retry with stronger model: Generate function `f` (… what went wrong)`."""
    what = title.removeprefix("Spark: ")
    tier = "" if has_strong else "fast tier, longer budget: no strong model configured; "
    short = reason if len(reason) <= 80 else reason[:79] + "…"
    return f"{RETRY_PREFIX}{what} ({tier}before: {short})"


def hint(has_strong: bool) -> str:
    """What a refusal's message adds about the hand-off."""
    where = "the strong tier" if has_strong else "a longer budget"
    return f' Use the code action "Retry with stronger model" here ({where}).'


def with_note(request: ModelRequest, note: str) -> ModelRequest:
    """An instruction request that also says what was wrong with the answer before."""
    if not note or not request.messages:
        return request
    *head, last = request.messages
    told = (f"{last.content}\n\nA previous answer to this task was refused because {note}. "
            "Avoid that.")
    return dataclasses.replace(request, messages=(*head, Message(last.role, told)))


def longer(request: ModelRequest) -> ModelRequest:
    """The same request with more tokens (the caller gives it more time)."""
    return dataclasses.replace(request, max_tokens=request.max_tokens * LONGER_BUDGET)
