"""Inline completion through the real server and a fake model on loopback: ghost text and its
range, the status notification, typed-through cache, supersede and $/cancelRequest closing the
model's stream, the early stop, and Helix's deadline-bound `textDocument/completion`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.lsp import inline_completion, lsp_session, open_document
from tests.fakemodel import FakeModelServer

URI = "file:///work/add.py"
SOURCE = "def add(a, b):\n    return \n"  # the cursor goes to (1, 11)


def settings(fake: FakeModelServer, **completion: Any) -> dict[str, Any]:
    return {"fast": {"provider": "ollama", "url": fake.url, "model": "m"},
            "completion": {"debounce_ms": 0, **completion}}


@pytest.fixture
async def client(fake_model: FakeModelServer) -> AsyncIterator[LanguageClient]:
    async with lsp_session(settings(fake_model)) as client:
        client.statuses = []  # type: ignore[attr-defined]

        @client.feature("spark/status")
        def on_status(params: Any) -> None:
            client.statuses.append(params)  # type: ignore[attr-defined]

        yield client


def items_of(result: Any) -> list[types.InlineCompletionItem]:
    if result is None:
        return []
    return list(result.items if isinstance(result, types.InlineCompletionList) else result)


def type_char(client: LanguageClient, version: int, line: int, character: int, text: str) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=version),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=line, character=character),
                              end=types.Position(line=line, character=character)),
            text=text)],
    ))


def send_inline(client: LanguageClient, msg_id: str, line: int, character: int
                ) -> asyncio.Future[Any]:
    """An inline completion request with a known id (to cancel it)."""
    params = types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=URI),
        position=types.Position(line=line, character=character),
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Automatic))
    future = client.protocol.send_request(types.TEXT_DOCUMENT_INLINE_COMPLETION, params,
                                          msg_id=msg_id)
    return asyncio.wrap_future(future)


async def model_called(fake: FakeModelServer, count: int = 1) -> None:
    deadline = time.monotonic() + 5
    while len(fake.requests) < count:
        assert time.monotonic() < deadline, "the model was never called"
        await asyncio.sleep(0.01)


async def disconnected(fake: FakeModelServer, count: int = 1) -> float:
    """Seconds until the fake saw `count` clients hang up mid-stream (fails after 2 s)."""
    started = time.monotonic()
    assert await asyncio.to_thread(fake.wait_for_disconnect, 2.0, count)
    return time.monotonic() - started


async def inflight(client: LanguageClient) -> int:
    stats = await client.protocol.send_request_async("spark/debugStats", {})
    return int(stats["inflight"] if isinstance(stats, dict) else stats.inflight)


async def test_ghost_text_with_its_range_and_a_status(client: LanguageClient,
                                                      fake_model: FakeModelServer) -> None:
    fake_model.reply = "a + b\n\ndef sub(a, b):\n"
    open_document(client, URI, SOURCE)
    items = items_of(await inline_completion(client, URI, 1, 11))
    assert [i.insert_text for i in items] == ["a + b"]
    assert items[0].range == types.Range(start=types.Position(line=1, character=11),
                                         end=types.Position(line=1, character=11))
    # the server sends the status before the answer, on the same ordered stream
    status = client.statuses[-1]  # type: ignore[attr-defined]
    assert (status.tier, status.model, status.source) == ("fast", "m", "model")
    assert status.latencyMs > 0


async def test_typing_through_a_suggestion_makes_no_model_call(
    client: LanguageClient, fake_model: FakeModelServer
) -> None:
    fake_model.reply = "compute_total(a, b)\n"
    open_document(client, URI, SOURCE)
    assert [i.insert_text for i in items_of(await inline_completion(client, URI, 1, 11))] == [
        "compute_total(a, b)"]
    for i, ch in enumerate("comput"):
        type_char(client, 2 + i, 1, 11 + i, ch)
        items = items_of(await inline_completion(client, URI, 1, 12 + i))
        assert [x.insert_text for x in items] == ["compute_total(a, b)"[i + 1 :]]
        assert items[0].range is not None and items[0].range.start.character == 12 + i
    assert len(fake_model.requests) == 1
    assert client.statuses[-1].source == "cache"  # type: ignore[attr-defined]


async def test_a_superseded_request_closes_its_model_stream(
    client: LanguageClient, fake_model: FakeModelServer
) -> None:
    fake_model.reply, fake_model.chunk_size, fake_model.chunk_delay = "x" * 400, 2, 0.05
    open_document(client, URI, SOURCE)
    first = send_inline(client, "first", 1, 11)
    await model_called(fake_model)
    type_char(client, 2, 1, 11, "a")
    second = send_inline(client, "second", 1, 12)
    assert await disconnected(fake_model) < 2.0
    assert await first is None  # answered, with nothing
    client.protocol.notify("$/cancelRequest", types.CancelParams(id="second"))
    with pytest.raises(Exception, match="cancel"):
        await second
    await disconnected(fake_model, 2)
    assert await inflight(client) == 0


async def test_cancel_request_closes_the_model_stream(
    client: LanguageClient, fake_model: FakeModelServer
) -> None:
    fake_model.reply, fake_model.chunk_size, fake_model.chunk_delay = "x" * 400, 2, 0.05
    open_document(client, URI, SOURCE)
    request = send_inline(client, "doomed", 1, 11)
    await model_called(fake_model)
    client.protocol.notify("$/cancelRequest", types.CancelParams(id="doomed"))
    assert await disconnected(fake_model) < 2.0
    with pytest.raises(Exception, match="cancel"):
        await request
    assert await inflight(client) == 0


async def test_the_stream_is_closed_once_the_statement_is_complete(
    client: LanguageClient, fake_model: FakeModelServer
) -> None:
    tail = "".join(f"    line_{i} = {i}\n" for i in range(100))
    fake_model.reply, fake_model.chunk_size, fake_model.chunk_delay = "b = 2\n" + tail, 4, 0.02
    open_document(client, URI, "def f():\n    a = 1\n    \n")
    items = items_of(await inline_completion(client, URI, 2, 4))
    assert [i.insert_text for i in items] == ["b = 2"]
    await disconnected(fake_model)
    total = -(-len(fake_model.reply) // 4)  # ~430 tokens
    assert fake_model.tokens_sent <= 12 < total  # 2 needed; a few more on a loaded machine


async def test_helix_gets_what_is_ready_by_the_deadline(fake_model: FakeModelServer) -> None:
    fake_model.reply = "compute_the_total_of_everything_here(a, b)" * 4
    # The whole answer takes ~17 s; the deadline leaves a busy machine time to send the request
    # and read a chunk or two.
    fake_model.chunk_size, fake_model.chunk_delay = 3, 0.3
    async with lsp_session(settings(fake_model, answer_deadline_ms=1000), editor="helix") as client:
        open_document(client, URI, SOURCE)
        started = time.monotonic()
        result = await client.text_document_completion_async(types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=URI),
            position=types.Position(line=1, character=11),
            context=types.CompletionContext(trigger_kind=types.CompletionTriggerKind.Invoked)))
        elapsed = time.monotonic() - started
    assert elapsed < 5  # the deadline's, not the answer's
    items = result.items if isinstance(result, types.CompletionList) else result
    assert items and items[0].text_edit is not None
    text = items[0].text_edit.new_text
    assert text and fake_model.reply.startswith(text) and len(text) < len(fake_model.reply)
    assert len(items[0].label) <= 40
