"""A dropped request's connection closes at once, also before the server has sent its headers
(llama-server sends them only when a slot starts the task), and a queued request never goes on
waiting in the server's queue."""

from __future__ import annotations

import asyncio
import time

import pytest

from spark_lsp.model_request import ModelRequest
from spark_lsp.models.factory import create_backend
from spark_lsp.models.guarded import GuardedBackend
from spark_lsp.settings import ModelSettings
from tests.fakemodel import FakeModelServer

REQUEST = ModelRequest(prompt="def add(a, b):\n    ", max_tokens=16)
# Far longer than any hang-up may take, even on a busy machine: a request left open is only
# closed by the server's own prefill ending (or our read timeout, longer still).
PREFILL_S = 8.0


def guarded(fake: FakeModelServer, provider: str = "openai-completions") -> GuardedBackend:
    settings = ModelSettings(provider=provider, url=fake.url + "/v1", model="m",
                             timeout_ms=30_000)
    return GuardedBackend(create_backend(settings), settings, mask_secrets=False)


async def started_reading(backend: GuardedBackend, fake: FakeModelServer, count: int
                          ) -> list[asyncio.Task[list[str]]]:
    """`count` streams read in tasks, once the fake has received all of them."""
    async def read() -> list[str]:
        return [chunk async for chunk in backend.stream(REQUEST)]

    tasks = [asyncio.ensure_future(read()) for _ in range(count)]
    deadline = time.monotonic() + 10
    while len(fake.requests) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    assert len(fake.requests) == count
    return tasks


async def cancel_and_time(tasks: list[asyncio.Task[list[str]]], fake: FakeModelServer,
                          count: int) -> float:
    cancelled = time.monotonic()
    for task in tasks:
        task.cancel()
    await asyncio.wait(tasks)
    assert await asyncio.to_thread(fake.wait_for_disconnect, PREFILL_S / 2, count)
    return max(fake.hangups) - cancelled


@pytest.mark.parametrize("provider", ["openai-completions", "llamacpp", "openai", "ollama"])
async def test_a_request_waiting_for_headers_is_closed_at_once(provider: str) -> None:
    with FakeModelServer(prefill_delay=PREFILL_S, hold_headers=True) as fake:
        settings = ModelSettings(provider=provider, model="m", timeout_ms=30_000,
                                 url=fake.url + ("/v1" if provider.startswith("openai") else ""))
        backend = GuardedBackend(create_backend(settings), settings, mask_secrets=False)
        tasks = await started_reading(backend, fake, 1)
        await asyncio.sleep(0.05)  # the server is in its prefill, no header sent
        took = await cancel_and_time(tasks, fake, 1)
        assert fake.hangups_before_headers == 1 and fake.started == 0
        assert took < PREFILL_S / 4
        assert await backend.drained(1.0)
        await backend.aclose()


async def test_queued_requests_leave_the_queue_when_dropped() -> None:
    with FakeModelServer(serial=True, prefill_delay=PREFILL_S, hold_headers=True) as fake:
        backend = guarded(fake)
        tasks = await started_reading(backend, fake, 3)  # one in prefill, two queued
        took = await cancel_and_time(tasks, fake, 3)
        assert fake.hangups_before_headers == 3 and fake.started == 0
        assert took < PREFILL_S / 4
        await backend.aclose()


async def test_the_reader_returns_once_the_connection_is_closed() -> None:
    """Closing a stream waits until the connection is gone, so a request sent next is never in
    flight beside the one it replaces."""
    with FakeModelServer(prefill_delay=PREFILL_S, hold_headers=True) as fake:
        backend = guarded(fake)
        stream = backend.stream(REQUEST)
        first = asyncio.ensure_future(anext(stream))
        while not fake.requests:
            await asyncio.sleep(0.005)
        first.cancel()
        await asyncio.wait({first})
        await stream.aclose()  # type: ignore[attr-defined]
        assert backend.pumps == 0
        assert backend.open_connections(busy_only=True) == 0
        await backend.aclose()


async def test_a_connection_survives_a_stream_read_to_its_end(fake_model: FakeModelServer
                                                              ) -> None:
    """Hang-up tracking must not close a connection that served its request: the next request
    reuses it."""
    backend = guarded(fake_model)
    assert "".join([c async for c in backend.stream(REQUEST)]) == fake_model.reply
    await asyncio.sleep(0.1)  # (the backend asks the server's /props once, beside it)
    connections = backend.open_connections()
    for _ in range(3):
        assert "".join([c async for c in backend.stream(REQUEST)]) == fake_model.reply
    assert backend.open_connections() == connections
    assert fake_model.disconnects == 0
    await backend.aclose()
