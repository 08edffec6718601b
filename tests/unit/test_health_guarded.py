"""GuardedBackend: masking, breaker, deadline and partial answers, against scripted backends and
the fake model server on real loopback HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from spark_lsp.model_request import ModelRequest
from spark_lsp.models import guarded as guarded_module
from spark_lsp.models.base import ModelBadResponse, ModelError, ModelServerError, ModelTimeout
from spark_lsp.models.guarded import GuardedBackend
from spark_lsp.models.health import BreakerPolicy, CircuitOpen
from spark_lsp.models.ollama import OllamaBackend
from spark_lsp.redaction.mask import MASK
from spark_lsp.settings import ModelSettings
from tests.fakemodel import FakeModelServer


class Scripted:
    """A backend whose streams follow a script: text chunks, then maybe an error or a hang."""

    provider = "scripted"
    prompt_style = "fim_fields"

    def __init__(self) -> None:
        self.chunks: list[str] = ["ok"]
        self.error: ModelError | None = None
        self.hang = False
        self.drip: float | None = None  # then: one more chunk every `drip` seconds, forever
        self.delay = 0.0  # before the first chunk
        self.requests: list[ModelRequest] = []
        self.closed_streams = 0
        self.cancelled_streams = 0

    def stream(self, request: ModelRequest) -> AsyncIterator[str]:
        self.requests.append(request)
        return self._stream()

    async def _stream(self) -> AsyncIterator[str]:
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            for chunk in self.chunks:
                yield chunk
            while self.drip is not None:
                await asyncio.sleep(self.drip)
                yield "."
            if self.hang:
                await asyncio.Event().wait()
            if self.error is not None:
                raise self.error
        except asyncio.CancelledError:
            self.cancelled_streams += 1
            raise
        finally:
            self.closed_streams += 1

    async def ping(self) -> str:
        return "scripted"

    async def aclose(self) -> None:
        pass


def guarded(inner: object, timeout_ms: int = 2000, threshold: int = 3,
            shown: list[str] | None = None) -> GuardedBackend:
    return GuardedBackend(
        inner,  # type: ignore[arg-type]
        ModelSettings(provider="ollama", url="http://x", timeout_ms=timeout_ms),
        name="fast model",
        show=shown.append if shown is not None else None,
        policy=BreakerPolicy(failure_threshold=threshold, base_backoff_s=60.0),
    )


async def collect(backend: GuardedBackend, request: ModelRequest | None = None) -> str:
    stream = backend.stream(request or ModelRequest(prefix="x"))
    try:
        return "".join([chunk async for chunk in stream])
    finally:
        await stream.aclose()  # type: ignore[attr-defined]


async def test_requests_are_masked_before_the_backend_sees_them() -> None:
    inner = Scripted()
    secret = "sk-" + "live" * 8
    await collect(guarded(inner), ModelRequest(prefix=f"key = '{secret}'\n", suffix=secret))
    sent = inner.requests[0]
    assert secret not in sent.prefix + sent.suffix
    assert MASK in sent.prefix


async def test_breaker_stops_calls_after_repeated_failures_and_shows_once() -> None:
    inner = Scripted()
    inner.chunks, inner.error = [], ModelServerError("HTTP 500", 500)
    shown: list[str] = []
    backend = guarded(inner, shown=shown)
    errors = []
    for _ in range(10):
        with pytest.raises(ModelError) as info:
            await collect(backend)
        errors.append(type(info.value))
    assert len(inner.requests) == 3
    assert errors[:3] == [ModelServerError] * 3
    assert set(errors[3:]) == {CircuitOpen}
    assert len(shown) == 1


async def test_a_fault_after_some_text_ends_the_stream_with_that_text() -> None:
    inner = Scripted()
    inner.chunks, inner.error = ["return ", "a"], ModelBadResponse("cut")
    backend = guarded(inner)
    assert await collect(backend) == "return a"
    assert backend.breaker.consecutive_failures == 1


@pytest.fixture
def short_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guarded_module, "STOP_GRACE_S", 0.1)


async def test_the_deadline_bounds_a_hanging_stream_and_keeps_partial_text(
    short_grace: None,
) -> None:
    inner = Scripted()
    inner.chunks, inner.hang = ["par", "tial"], True
    backend = guarded(inner, timeout_ms=200)
    started = time.monotonic()
    assert await collect(backend) == "partial"
    assert time.monotonic() - started < 1.0
    # a stream that never yields again is cancelled after the grace: deadline + 0.1 s
    assert await backend.drained(timeout=2)
    assert inner.closed_streams == 1

    inner.chunks = []
    started = time.monotonic()
    with pytest.raises(ModelTimeout):
        await collect(backend)
    assert time.monotonic() - started < 1.0
    assert await backend.drained(timeout=2)
    assert inner.closed_streams == 2


async def test_a_request_s_own_deadline_replaces_the_model_s(short_grace: None) -> None:
    """Code actions wait longer than completions on the same backend: the limit travels with
    the request (`deadline_ms`)."""
    inner = Scripted()
    inner.chunks, inner.hang = [], True
    backend = guarded(inner, timeout_ms=5000)
    started = time.monotonic()
    with pytest.raises(ModelTimeout, match="within 150 ms"):
        await collect(backend, ModelRequest(prefix="x", deadline_ms=150))
    assert time.monotonic() - started < 1.0
    inner.chunks, inner.hang, inner.drip = ["slow"], False, None
    inner.delay = 0.3
    longer = guarded(inner, timeout_ms=100)
    assert await collect(longer, ModelRequest(prefix="x", deadline_ms=2000)) == "slow"
    with pytest.raises(ModelTimeout, match="within 100 ms"):
        await collect(longer)


async def test_cancellation_is_not_a_failure_and_never_reaches_the_inner_stream() -> None:
    inner = Scripted()
    inner.chunks, inner.drip = [], 0.02
    backend = guarded(inner, threshold=1)
    task = asyncio.ensure_future(collect(backend))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert backend.breaker.state == "closed"
    assert await backend.drained(timeout=1)  # closed at its next chunk, ~20 ms later
    assert (inner.closed_streams, inner.cancelled_streams) == (1, 0)


async def test_a_stopped_http_stream_is_aborted_at_once_not_at_its_next_chunk(
    fake_model: FakeModelServer,
) -> None:
    """The model would generate the next chunk for nothing: the socket is shut down under the
    pending read, the pump ends, and the pool keeps no busy connection."""
    fake_model.reply, fake_model.chunk_size, fake_model.chunk_delay = "abcdefgh", 4, 3.0
    fake_model.first_chunk_delay = 0.0
    settings = ModelSettings(provider="ollama", url=fake_model.url, model="m", timeout_ms=10_000)
    backend = GuardedBackend(OllamaBackend(settings), settings)
    try:
        stream = backend.stream(ModelRequest(prefix="x"))
        assert await anext(stream) == "abcd"
        started = time.monotonic()
        await stream.aclose()  # type: ignore[attr-defined]
        assert await backend.drained(timeout=2)
        assert time.monotonic() - started < 1.5  # not the 3 s to the next chunk
        assert backend.open_connections(busy_only=True) == 0
        assert backend.breaker.state == "closed"
        assert fake_model.tokens_sent <= 1  # (its count may lag the write it follows)
        assert backend.open_connections() == 0  # that connection is gone
    finally:
        await backend.aclose()


async def test_a_stopped_stream_whose_rest_has_arrived_is_read_to_the_end_and_its_connection_kept(
    fake_model: FakeModelServer,
) -> None:
    """A model that had already finished: reading the rest costs no generation and saves the
    next request a new connection."""
    fake_model.reply, fake_model.chunk_size, fake_model.chunk_delay = "x" * 80, 4, 0.0
    settings = ModelSettings(provider="ollama", url=fake_model.url, model="m", timeout_ms=10_000)
    backend = GuardedBackend(OllamaBackend(settings), settings)
    try:
        for _ in range(3):
            stream = backend.stream(ModelRequest(prefix="x"))
            assert await anext(stream) == "xxxx"
            await asyncio.sleep(0.05)  # the whole reply is in our socket's buffer by now
            await stream.aclose()  # type: ignore[attr-defined]
            assert await backend.drained(timeout=2)
            assert backend.open_connections() == 1  # kept, and reused by the next request
            assert backend.open_connections(busy_only=True) == 0
        assert fake_model.disconnects == 0
    finally:
        await backend.aclose()


@pytest.mark.parametrize("fault", ["500", "429", "garbage", "cut", "hang", "refuse", "truncated"])
async def test_every_fault_of_the_fake_server_becomes_a_model_error_in_time(
    fake_model: FakeModelServer, fault: str
) -> None:
    fake_model.fault = fault
    fake_model.retry_after = "1"
    settings = ModelSettings(provider="ollama", url=fake_model.url, model="m", timeout_ms=500)
    backend = GuardedBackend(OllamaBackend(settings), settings, name="fast model")
    started = time.monotonic()
    try:
        text = await collect(backend)
    except ModelError:
        text = None
    finally:
        await backend.aclose()
    assert time.monotonic() - started < 0.5 + 0.5
    if fault in ("cut", "truncated"):
        assert text  # the text that arrived before the stream broke
    else:
        assert text is None
    assert backend.breaker.consecutive_failures == 1
    if fault == "429":
        assert backend.breaker.state == "open"
        assert 0 < backend.breaker.retry_in() <= 1.0


async def test_a_reader_that_stops_early_closes_the_inner_stream_and_counts_as_success() -> None:
    inner = Scripted()
    inner.chunks, inner.drip = ["one", "two"], 0.02
    backend = guarded(inner, threshold=1)
    backend.breaker.record_failure(ModelServerError("HTTP 500", 500))
    backend.breaker.open_until = 0.0  # the backoff has passed: the next call is the probe
    stream = backend.stream(ModelRequest(prefix="x"))
    assert await anext(stream) == "one"
    await stream.aclose()  # type: ignore[attr-defined]
    assert backend.breaker.state == "closed"
    assert await backend.drained(timeout=1)
    assert (inner.closed_streams, inner.cancelled_streams) == (1, 0)


async def test_streams_that_keep_breaking_open_the_breaker_but_still_give_their_text() -> None:
    inner = Scripted()
    inner.chunks, inner.error = ["partial"], ModelBadResponse("cut")
    shown: list[str] = []
    backend = guarded(inner, shown=shown)
    texts = []
    for _ in range(3):
        texts.append(await collect(backend))
    assert texts == ["partial"] * 3
    assert backend.breaker.state == "open"
    assert len(shown) == 1


@pytest.mark.parametrize("fault", [None, "error-event", "500", "cut", "truncated"])
async def test_cancelling_readers_at_any_moment_leaks_no_pooled_connection(
    fake_model: FakeModelServer, fault: str | None
) -> None:
    """Readers cancelled at every moment of a request's life (connect, headers, body, close):
    afterwards the HTTP pool holds no connection that is still busy (httpcore#1093)."""
    fake_model.fault = fault
    fake_model.chunk_delay = 0.001
    settings = ModelSettings(provider="ollama", url=fake_model.url, model="m", timeout_ms=1000)
    backend = GuardedBackend(OllamaBackend(settings), settings,
                             policy=BreakerPolicy(failure_threshold=10**6))
    try:
        for step in range(40):
            task = asyncio.ensure_future(collect(backend))
            await asyncio.sleep(step * 0.0002)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        assert await backend.drained(timeout=5)
        pool = backend.inner._client._transport._pool  # type: ignore[attr-defined]
        busy = [c for c in pool.connections if not (c.is_idle() or c.is_closed())]
        assert busy == []
    finally:
        await backend.aclose()
