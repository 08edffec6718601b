"""One model call of an action: stream the answer through its stop conditions, and tell the
progress sink what is being generated, how long it has run and how much has arrived.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from spark_lsp.completion import stops
from spark_lsp.completion.bounds import ACTION
from spark_lsp.completion.stops import StreamWrapper
from spark_lsp.model_request import ModelRequest
from spark_lsp.models.base import Backend

TICK_S = 1.0  # how often progress says how long the model has been at work


class ProgressSink(Protocol):
    """Work-done progress as the service reports it; `on_cancel` runs if the user cancels."""

    async def begin(self, title: str, message: str, on_cancel: Callable[[], None]) -> None: ...

    def report(self, message: str) -> None: ...

    def end(self, message: str) -> None: ...


class Watch:
    """What progress reports: the task, the model, since when, and the lines received."""

    def __init__(self, what: str, model: str, sink: ProgressSink | None) -> None:
        self.what, self.model, self.sink = what, model, sink
        self.started = time.monotonic()
        self.lines = 0
        self.step = ""

    def message(self) -> str:
        elapsed = time.monotonic() - self.started
        got = f", {self.lines + 1} lines so far" if self.lines else ""
        return f"{self.what} with {self.model}{self.step}: {elapsed:.0f} s{got}"

    def report(self) -> None:
        if self.sink is not None:
            self.sink.report(self.message())

    async def tick(self) -> None:
        """Report every TICK_S until cancelled (also while no text has arrived yet)."""
        while True:
            await asyncio.sleep(TICK_S)
            self.report()


async def collect(backend: Backend, request: ModelRequest,
                  wrappers: Sequence[StreamWrapper], watch: Watch) -> str:
    """The answer's text after its stop conditions; the model stream is closed when they stop
    (or on cancellation)."""
    chunks: list[str] = []
    # First of all: sanitised, and refused past the bounds (a model that ignores max_tokens).
    bounded = stops.stop_at_bounds(backend.stream(request), ACTION, refuse=True)
    stream = stops.apply_stops(bounded, wrappers)
    async with stops.closing(stream):
        async for chunk in stream:
            chunks.append(chunk)
            watch.lines += chunk.count("\n")
    return "".join(chunks)
