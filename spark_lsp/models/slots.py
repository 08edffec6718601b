"""llama.cpp's prompt-cache knobs: `cache_prompt: true` and a stable `id_slot` per document.

llama-server keeps each slot's last prompt evaluated and reuses its longest common prefix with
the next prompt of that slot. Without `id_slot` a request goes to any idle slot — when the slot
that holds the document's prompt is still busy with the request just superseded, the new one
lands on a slot with another prompt and is evaluated in full. With it, the request waits the few
milliseconds until its own slot is free. Whether the server is llama.cpp, and how many slots it
has, comes from its `/props` (asked once, at the first request, which waits for the answer up to
`PROBE_WAIT_S`; until the answer, requests carry no slot). Other servers answer 404 there and
get none of these fields.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

# Documents served at once, each in a slot of its own; beyond this many they share slots in turn.
# llama-server has 4 slots unless started with another `--parallel`.
MAX_DOCUMENTS = 64
# How long the first request waits for /props. A local server answers in milliseconds; without
# the wait the first prompt landed on another slot than the ones after it and was evaluated in
# full twice (1.7 s each for ~330 tokens on llama-server at one thread, issue 17).
PROBE_WAIT_S = 0.5


class SlotMap:
    """Which slot each document's prompts go to, once the server is known to be llama.cpp."""

    def __init__(self, props: Callable[[], Awaitable[Any]], known: bool = False) -> None:
        self._props = props
        self.is_llama_cpp = known  # the `llamacpp` provider: yes, before /props answers
        self.total_slots: int | None = None
        self._probe: asyncio.Task[None] | None = None
        self._documents: dict[str, int] = {}

    def fields(self, key: str) -> dict[str, Any]:
        """The body fields for a request of document `key` ("" for none in particular)."""
        self._probing()
        if not self.is_llama_cpp:
            return {}
        fields: dict[str, Any] = {"cache_prompt": True}
        if key and self.total_slots:
            if key not in self._documents:
                if len(self._documents) >= MAX_DOCUMENTS:
                    self._documents.clear()
                self._documents[key] = len(self._documents)
            fields["id_slot"] = self._documents[key] % self.total_slots
        return fields

    async def known(self) -> None:
        """Wait (once, at most `PROBE_WAIT_S`) for the /props answer, so that the first request
        already goes to the document's slot and gets what llama.cpp alone takes."""
        probe = self._probing()
        if not probe.done():
            await asyncio.wait({probe}, timeout=PROBE_WAIT_S)

    def _probing(self) -> asyncio.Task[None]:
        """The /props probe, started at the first call."""
        if self._probe is None:
            self._probe = asyncio.ensure_future(self._ask())
        return self._probe

    async def _ask(self) -> None:
        try:
            props = await self._props()
        except Exception as exc:  # any answer but llama.cpp's: not llama.cpp
            log.debug("no llama.cpp /props (%s): no slot per document", exc)
            return
        slots = props.get("total_slots") if isinstance(props, dict) else None
        if isinstance(slots, int) and slots > 0:
            self.is_llama_cpp = True
            self.total_slots = slots
            log.info("llama.cpp server with %d slots: one per document, prompt cache on", slots)

    async def aclose(self) -> None:
        if self._probe is not None and not self._probe.done():
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
