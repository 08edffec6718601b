"""Bad input through the real server: malformed JSON-RPC, invalid params, odd positions, unknown
languages, huge and binary documents. Every request gets exactly one answer and the server keeps
serving normal requests afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import json
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

URI = "file:///work/demo.py"


@pytest.fixture
async def client(fake_model: FakeModelServer, tmp_path: Path) -> AsyncIterator[LanguageClient]:
    settings = {"fast": {"provider": "ollama", "url": fake_model.url, "model": "m",
                         "timeout_ms": 3000},
                "completion": {"debounce_ms": 0}}
    async with lsp_session(settings, tmp_path) as client:
        yield client


class Inbox:
    """Every JSON-RPC message the client receives, as plain dicts, awaitable by id."""

    def __init__(self, client: LanguageClient) -> None:
        self.messages: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()
        protocol = client.protocol
        original = protocol.handle_message

        def record(message: Any) -> None:
            data = protocol._converter.unstructure(message) if hasattr(
                message, "__attrs_attrs__") else message
            data = dict(data) if isinstance(data, dict) else {"raw": data}
            if hasattr(message, "id"):
                data["id"] = message.id  # unstructure drops "id": null
            self.messages.append(data)
            self._arrived.set()
            original(message)

        protocol.handle_message = record  # type: ignore[method-assign]

    async def response(self, msg_id: Any, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for message in self.messages:
                if "method" not in message and message.get("id", "missing") == msg_id:
                    return message
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no response to id {msg_id!r}: {self.messages[-5:]}"
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)


def send_raw(client: LanguageClient, body: bytes) -> None:
    client.protocol.writer.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))  # type: ignore[union-attr]


async def still_serves(client: LanguageClient, fake: FakeModelServer) -> None:
    """A normal completion still works (the server neither died nor stalled)."""
    uri = "file:///work/health_check.py"
    open_document(client, uri, "def add(a, b):\n    \n")
    result = await asyncio.wait_for(inline_completion(client, uri, 1, 4), 10)
    assert result is not None, "a normal request got no suggestion after bad input"


async def test_malformed_json_gets_a_parse_error_and_the_server_lives_on(
    client: LanguageClient, fake_model: FakeModelServer
) -> None:
    inbox = Inbox(client)
    send_raw(client, b'{"jsonrpc": "2.0", "id": 41, "method": "textDocument/hover", "par')
    error = await inbox.response(None)
    assert error["error"]["code"] == -32700
    await still_serves(client, fake_model)


@pytest.mark.parametrize(
    "body",
    [
        b"[1, 2, 3]",
        b'"just a string"',
        b'{"hello": "world"}',
        b'{"jsonrpc": "2.0"}',
        b'{"jsonrpc": "1.0", "id": 77, "method": "shutdown"}',
        b"\xff\xfe\x00garbage",
    ],
)
async def test_messages_that_are_not_json_rpc_never_kill_the_server(
    client: LanguageClient, fake_model: FakeModelServer, body: bytes
) -> None:
    inbox = Inbox(client)
    send_raw(client, body)
    if b'"id": 77' in body:
        assert (await inbox.response(77))["error"]["code"] == -32600
    await still_serves(client, fake_model)


async def test_notifications_with_invalid_params_are_dropped_not_fatal(
    client: LanguageClient, fake_model: FakeModelServer
) -> None:
    bad = [
        {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": 5}},
        {"jsonrpc": "2.0", "method": "textDocument/didChange",
         "params": {"textDocument": {"uri": URI, "version": 2}, "contentChanges": "x"}},
        {"jsonrpc": "2.0", "method": "textDocument/didClose", "params": None},
        {"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration", "params": []},
    ]
    for message in bad:
        send_raw(client, json.dumps(message).encode())
    await still_serves(client, fake_model)


async def test_unknown_methods_and_invalid_params_get_error_responses(
    client: LanguageClient, fake_model: FakeModelServer
) -> None:
    inbox = Inbox(client)
    send_raw(client, json.dumps({"jsonrpc": "2.0", "id": 501, "method": "spark/noSuchThing",
                                 "params": {}}).encode())
    send_raw(client, json.dumps({"jsonrpc": "2.0", "id": 502,
                                 "method": "textDocument/inlineCompletion",
                                 "params": {"textDocument": {"uri": URI}}}).encode())
    send_raw(client, json.dumps({"jsonrpc": "2.0", "id": 503,
                                 "method": "textDocument/completion",
                                 "params": "not an object"}).encode())
    assert (await inbox.response(501))["error"]["code"] == -32601
    assert (await inbox.response(502))["error"]["code"] == -32602
    assert (await inbox.response(503))["error"]["code"] == -32602
    await still_serves(client, fake_model)


async def test_negative_position_is_refused_with_an_error(
    client: LanguageClient, fake_model: FakeModelServer
) -> None:
    inbox = Inbox(client)
    open_document(client, URI, "x = 1\n")
    for msg_id, (line, character) in enumerate([(-1, 0), (0, -5), (2**40, 0)], start=600):
        send_raw(client, json.dumps({
            "jsonrpc": "2.0", "id": msg_id, "method": "textDocument/inlineCompletion",
            "params": {"textDocument": {"uri": URI},
                       "position": {"line": line, "character": character},
                       "context": {"triggerKind": 2}}}).encode())
        assert (await inbox.response(msg_id))["error"]["code"] == -32602
    await still_serves(client, fake_model)


async def test_unknown_document_gets_an_error_response(
    client: LanguageClient, fake_model: FakeModelServer
) -> None:
    with pytest.raises(JsonRpcException):
        await asyncio.wait_for(inline_completion(client, "file:///never/opened.py", 0, 0), 10)
    await still_serves(client, fake_model)


async def test_positions_past_the_end_are_clamped(
    client: LanguageClient, fake_model: FakeModelServer
) -> None:
    open_document(client, URI, "def add(a, b):\n    ret")
    fake_model.reply = "urn a + b"
    result = await asyncio.wait_for(inline_completion(client, URI, 1, 500), 10)
    items = result.items if isinstance(result, types.InlineCompletionList) else result
    assert items, "a clamped position should still be completed"
    assert items[0].range is not None
    assert items[0].range.start == types.Position(line=1, character=7)
    assert (await asyncio.wait_for(inline_completion(client, URI, 900, 3), 10)) is not None


async def test_edits_at_positions_out_of_range_are_clamped_not_fatal(
    client: LanguageClient, fake_model: FakeModelServer
) -> None:
    open_document(client, URI, "a = 1\n")
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=2),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=50, character=0),
                              end=types.Position(line=60, character=9)),
            text="b = 2\n")],
    ))
    send_raw(client, json.dumps({
        "jsonrpc": "2.0", "method": "textDocument/didChange",
        "params": {"textDocument": {"uri": URI, "version": 3},
                   "contentChanges": [{"range": {"start": {"line": -3, "character": 0},
                                                 "end": {"line": 0, "character": 0}},
                                       "text": "zzz"}]}}).encode())
    await still_serves(client, fake_model)


async def test_unknown_language_id_uses_plain_text_context(
    client: LanguageClient, fake_model: FakeModelServer
) -> None:
    uri = "file:///work/notes.weird"
    open_document(client, uri, "alpha beta gamma\nDELTA_MARKER ", language_id="no-such-language")
    result = await asyncio.wait_for(inline_completion(client, uri, 1, 13), 10)
    assert result is not None
    assert any("DELTA_MARKER" in json.dumps(r.body) for r in fake_model.requests)


async def test_a_five_megabyte_line_is_handled_with_bounded_work(
    client: LanguageClient, fake_model: FakeModelServer
) -> None:
    line = "x = '" + "a" * 5_000_000 + "'"
    uri = "file:///work/huge_line.py"
    open_document(client, uri, f"import os\n{line}\ndef f():\n    \n")
    started = time.monotonic()
    await asyncio.wait_for(inline_completion(client, uri, 1, 2_500_000), 20)
    await asyncio.wait_for(inline_completion(client, uri, 3, 4), 20)
    assert time.monotonic() - started < 10
    for request in fake_model.requests:
        assert len(json.dumps(request.body)) < 200_000, "a huge line reached the model"
    await still_serves(client, fake_model)


async def test_a_fifty_thousand_line_file_is_handled(
    client: LanguageClient, fake_model: FakeModelServer
) -> None:
    body = "".join(f"def f{i}(a, b):\n    return a + {i}\n\n" for i in range(17_000))
    uri = "file:///work/long_file.py"
    open_document(client, uri, body + "def tail(a, b):\n    ")
    last = body.count("\n")
    started = time.monotonic()
    for step in range(5):
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2 + step),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line=last + 1, character=4 + step),
                                  end=types.Position(line=last + 1, character=4 + step)),
                text="r")],
        ))
        result = await asyncio.wait_for(inline_completion(client, uri, last + 1, 5 + step), 20)
        assert result is not None
    assert time.monotonic() - started < 15
    assert len(json.dumps(fake_model.requests[-1].body)) < 200_000


async def test_nul_bytes_are_never_sent_and_never_fatal(
    client: LanguageClient, fake_model: FakeModelServer
) -> None:
    uri = "file:///work/blob.py"
    open_document(client, uri, "abc\x00def\n\x00\x00\n")
    assert (await asyncio.wait_for(inline_completion(client, uri, 0, 3), 10)) is None
    uri2 = "file:///work/becomes_binary.py"
    open_document(client, uri2, "def f():\n    \n")
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri2, version=2),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=0, character=0),
                              end=types.Position(line=0, character=0)),
            text="\x00")],
    ))
    assert (await asyncio.wait_for(inline_completion(client, uri2, 1, 4), 10)) is None
    assert not any("\\u0000" in json.dumps(r.body) for r in fake_model.requests)
    await still_serves(client, fake_model)
