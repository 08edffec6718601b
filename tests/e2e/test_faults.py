"""Model faults through the real server and real loopback HTTP: every request is answered within
`timeout_ms` + a margin, a persistent fault is shown once per kind, recovery is logged once, and the
circuit breaker stops hammering a failing endpoint."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from tests.e2e.lsp import inline_completion, lsp_session, open_document
from tests.fakemodel import FakeModelServer

URI = "file:///work/faults.py"
TEXT = "def add(a, b):\n    \n"
TIMEOUT_MS = 800
MARGIN_S = 1.5  # process scheduling on a loaded 2-core machine; the deadline itself is TIMEOUT_MS
THRESHOLD = 3  # failures before the breaker opens (BreakerPolicy's default)


def settings_for(url: str) -> dict[str, Any]:
    return {"fast": {"provider": "ollama", "url": url, "model": "m", "timeout_ms": TIMEOUT_MS},
            "completion": {"debounce_ms": 0}}


class Typist:
    """Types one new statement before each request, as a user would, so every request is at a
    new place (the completion cache and request joining never hide a model call)."""

    def __init__(self, client: LanguageClient) -> None:
        self.client = client
        self.row = 1
        self.version = 1
        open_document(client, URI, TEXT)

    async def ask(self) -> tuple[Any, float]:
        """Type, then one inline completion at the cursor: (result, seconds it took)."""
        self.version += 1
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=self.version),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line=self.row, character=4),
                                  end=types.Position(line=self.row, character=4)),
                text=f"x{self.version} = {self.version}\n    ")],
        ))
        self.row += 1
        started = time.monotonic()
        result = await asyncio.wait_for(inline_completion(self.client, URI, self.row, 4), 30)
        return result, time.monotonic() - started


@pytest.fixture
async def client(fake_model: FakeModelServer, tmp_path: Path) -> AsyncIterator[LanguageClient]:
    async with lsp_session(settings_for(fake_model.url), tmp_path) as client:
        yield client


@pytest.fixture
def typist(client: LanguageClient) -> Typist:
    return Typist(client)


def text_of(result: Any) -> str | None:
    if result is None:
        return None
    items = result.items if isinstance(result, types.InlineCompletionList) else result
    return items[0].insert_text if items else None


def fault_messages(client: LanguageClient) -> list[str]:
    return [m.message for m in client.messages if "is failing" in m.message]


def recovered_lines(client: LanguageClient) -> list[str]:
    return [m.message for m in client.log_messages if "recovered" in m.message]


@pytest.mark.parametrize("fault", ["500", "503", "garbage", "hang", "refuse"])
async def test_a_persistent_fault_is_answered_in_time_shown_once_and_not_hammered(
    client: LanguageClient, typist: Typist, fake_model: FakeModelServer, fault: str
) -> None:
    fake_model.fault = fault
    fake_model.retry_after = "30"  # 503 carries one too: only 429 opens the breaker for it
    for _ in range(6 if fault == "hang" else 10):
        result, seconds = await typist.ask()
        assert result is None
        assert seconds < TIMEOUT_MS / 1000 + MARGIN_S, f"{fault}: answered after {seconds:.2f} s"
    # The server sends showMessage/logMessage before the response, so they are here already.
    assert len(fault_messages(client)) == 1, fault_messages(client)
    assert any("failed" in m.message for m in client.log_messages)
    # while the breaker is open, keystrokes are skipped quietly (no log line per keystroke)
    assert not [m.message for m in client.log_messages if "circuit-open" in m.message]
    if fault != "refuse":  # the fake drops "refuse" connections before recording them
        # the breaker opened after THRESHOLD failures: the rest never reached the endpoint
        assert len(fake_model.requests) == THRESHOLD, len(fake_model.requests)


async def test_connection_refused_is_answered_at_once_and_shown_once(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # nothing listens on `port` any more: connections are refused
    async with lsp_session(settings_for(f"http://127.0.0.1:{port}"), tmp_path) as client:
        typist = Typist(client)
        for _ in range(8):
            result, seconds = await typist.ask()
            assert result is None and seconds < MARGIN_S
        assert len(fault_messages(client)) == 1
        assert "cannot connect" in fault_messages(client)[0]


async def test_429_opens_the_breaker_for_retry_after_then_recovers_once(
    client: LanguageClient, typist: Typist, fake_model: FakeModelServer
) -> None:
    fake_model.fault = "429"
    fake_model.retry_after = "1"
    result, _ = await typist.ask()
    opened = time.monotonic()  # the breaker opened just before this answer
    assert result is None
    for _ in range(4):
        result, _ = await typist.ask()
        assert result is None
    assert len(fake_model.requests) == 1, "the endpoint was called again before Retry-After"
    assert len(fault_messages(client)) == 1
    assert "rate-limited" in fault_messages(client)[0]

    fake_model.fault = None
    await asyncio.sleep(max(0.0, opened + 1.1 - time.monotonic()))  # Retry-After is time itself
    result, _ = await typist.ask()
    assert text_of(result) == fake_model.reply
    for _ in range(3):
        assert text_of((await typist.ask())[0]) == fake_model.reply
    assert len(recovered_lines(client)) == 1
    assert len(fault_messages(client)) == 1


async def test_after_recovery_a_new_fault_is_shown_again(
    client: LanguageClient, typist: Typist, fake_model: FakeModelServer
) -> None:
    fake_model.fault = "500"
    for _ in range(THRESHOLD):
        await typist.ask()
    assert len(fault_messages(client)) == 1
    fake_model.fault = None
    deadline = time.monotonic() + 5
    while text_of((await typist.ask())[0]) is None:  # the breaker lets a probe through after 1 s
        assert time.monotonic() < deadline, "never recovered"
        await asyncio.sleep(0.1)
    assert len(recovered_lines(client)) == 1
    fake_model.fault = "500"
    for _ in range(THRESHOLD):
        await typist.ask()
    assert len(fault_messages(client)) == 2


@pytest.mark.parametrize("fault", ["cut", "truncated", "error-event"])
async def test_a_stream_broken_mid_way_gives_the_text_that_arrived(
    typist: Typist, fake_model: FakeModelServer, fault: str
) -> None:
    fake_model.reply = "return first_value + second_value"
    fake_model.chunk_size = 6
    fake_model.fault = fault
    result, seconds = await typist.ask()
    assert seconds < TIMEOUT_MS / 1000 + MARGIN_S
    text = text_of(result)
    assert text, f"{fault}: the partial answer was dropped"
    assert fake_model.reply.startswith(text.strip())
    assert len(text.strip()) < len(fake_model.reply)


async def test_a_slow_stream_cannot_hold_the_answer_past_the_deadline(
    typist: Typist, fake_model: FakeModelServer
) -> None:
    fake_model.reply = "return " + " + ".join(f"v{i}" for i in range(40))
    fake_model.chunk_size = 3
    fake_model.chunk_delay = 0.1  # the whole answer would take ~6 s
    result, seconds = await typist.ask()
    assert seconds < TIMEOUT_MS / 1000 + MARGIN_S
    text = text_of(result)
    if text is not None:
        assert fake_model.reply.startswith(text.strip())
    assert fake_model.wait_for_disconnect(5), "the slow stream was not closed"


async def test_a_cancelled_request_gets_one_answer_and_closes_its_stream(
    client: LanguageClient, typist: Typist, fake_model: FakeModelServer
) -> None:
    reply = fake_model.reply
    fake_model.reply, fake_model.chunk_size = "x" * 400, 2
    fake_model.first_chunk_delay, fake_model.chunk_delay = 0.3, 0.05  # ~10 s to stream it all
    params = types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=URI),
        position=types.Position(line=1, character=4),
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Invoked),
    )
    pending = asyncio.ensure_future(client.protocol.send_request_async(
        types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id="cancel-me"))
    deadline = time.monotonic() + 5
    while not fake_model.requests:  # the model call has started (the fake runs in a thread)
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="cancel-me"))
    with pytest.raises(JsonRpcException) as info:
        await asyncio.wait_for(pending, MARGIN_S)
    assert "-32800" in str(info.value) or "cancel" in str(info.value).lower()
    # the stream closes at its next chunk: the model stops generating for nobody
    assert fake_model.wait_for_disconnect(2), "the cancelled request's stream stayed open"
    assert fake_model.tokens_sent < 20
    fake_model.reply, fake_model.first_chunk_delay, fake_model.chunk_delay = reply, 0.0, 0.0
    assert text_of((await typist.ask())[0]) == fake_model.reply


async def debug_stats(client: LanguageClient) -> dict[str, int]:
    result = await client.protocol.send_request_async("spark/debugStats", None)
    return result if isinstance(result, dict) else dict(result._asdict())


async def test_a_burst_of_cancelled_and_failing_requests_leaks_no_task_or_connection(
    client: LanguageClient, typist: Typist, fake_model: FakeModelServer
) -> None:
    """A small soak (benchmarks/soak.py is the big one): requests cancelled at random moments,
    superseded, and served through random faults; afterwards the server is back to its resting
    figures."""
    await typist.ask()
    resting = await debug_stats(client)
    fake_model.reply, fake_model.chunk_size, fake_model.chunk_delay = "x = 1\n" * 20, 3, 0.002
    faults = [None, None, None, "cut", "error-event", "truncated", "garbage"]
    pending = []
    for step in range(60):
        fake_model.fault = faults[step % len(faults)]
        typist.version += 1
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=URI),
            position=types.Position(line=1, character=4),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Automatic))
        msg_id = f"burst-{step}"
        pending.append(asyncio.ensure_future(client.protocol.send_request_async(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id)))
        await asyncio.sleep(0.001 * (step % 7))
        if step % 3 == 0:
            client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
    results = await asyncio.wait_for(asyncio.gather(*pending, return_exceptions=True), 30)
    assert len(results) == 60  # every request answered (a result or an error), none lost
    fake_model.fault = None
    deadline = time.monotonic() + 10
    while True:  # streams asked to stop close at their next chunk: let them
        stats = await debug_stats(client)
        settled = (stats["inflight"] == 0 and stats["busy_connections"] == 0
                   and stats["tasks"] <= resting["tasks"])
        if settled or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert settled, (resting, stats)


async def test_a_model_without_fim_tokens_is_explained_and_not_hammered(
    fake_model: FakeModelServer, tmp_path: Path
) -> None:
    """llama-server answers /infill with 501 for a model without FIM tokens (SmolLM2)."""
    fake_model.fault = "501"
    fake_model.error_message = ("Infill is not supported by this model: prefix token is"
                                " missing. suffix token is missing. middle token is missing.")
    settings = {"fast": {"provider": "llamacpp", "url": fake_model.url, "model": "m",
                         "timeout_ms": TIMEOUT_MS}, "completion": {"debounce_ms": 0}}
    async with lsp_session(settings, tmp_path) as client:
        typist = Typist(client)
        for _ in range(6):
            result, _ = await typist.ask()
            assert result is None
        refusals = [m.message for m in client.messages if "refuses" in m.message]
        assert len(refusals) == 1, client.messages
        assert "no FIM tokens" in refusals[0] and "openai-completions" in refusals[0]
        assert "Infill is not supported" in refusals[0]
        assert len(fake_model.requests) == 1  # not probed again every few seconds
