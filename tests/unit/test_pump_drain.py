"""A stopped HTTP stream is read on only for the tail of an answer already on its way: never
past `DRAIN_MAX_CHARS`, even when the chunks come without a pause (asyncio then never runs the
timers that end the draining: data already buffered is read without yielding to the loop)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from spark_lsp.models.guarded import DRAIN_MAX_CHARS, _Pump


class Pouring:
    """A stream that never pauses and never yields to the event loop, with `abort`."""

    def __init__(self, chunk: str) -> None:
        self.chunk = chunk
        self.read = 0
        self.aborted = False
        self.pouring = False  # from now on, never yield to the loop

    def __aiter__(self) -> AsyncIterator[str]:
        return self

    async def __anext__(self) -> str:
        if self.aborted or self.read > 4_000_000:  # (ends a run without the bound)
            raise StopAsyncIteration
        if not self.pouring:
            await asyncio.sleep(0)
        self.read += len(self.chunk)
        return self.chunk

    def abort(self) -> bool:
        self.aborted = True
        return True


async def test_a_stream_that_never_pauses_is_read_on_at_most_the_drain_bound() -> None:
    inner = Pouring("x" * 8192)
    pump = _Pump(inner, grace_s=5.0)
    await pump.queue.get()
    while pump.queue.qsize() < 3:  # the reader is behind: chunks are queued
        await asyncio.sleep(0)
    started = inner.read
    inner.pouring = True
    pump.stop()
    await asyncio.wait_for(pump.task, 5)
    assert inner.aborted and inner.read < 4_000_000  # stopped long before the stream's end
    assert inner.read - started <= DRAIN_MAX_CHARS + 2 * 8192
