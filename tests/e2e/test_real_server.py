"""Against a model server nobody here wrote: llama-cpp-python's OpenAI-compatible server with the
bundled SmolLM2 GGUF on a loopback port (one request at a time; a hang-up noticed only at its
next chunk). Typing at 150 ms a key gets ghost text, and every superseded request's connection
is closed at once, through a relay that timestamps the model requests."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.lsp import inline_completion, lsp_session, open_document
from tests.relay import Relay

pytest.importorskip("llama_cpp.server", reason="needs llama-cpp-python[server] (the test extra)")
pytestmark = pytest.mark.embedded

SOURCE = ('def fibonacci(n):\n    """The n-th Fibonacci number."""\n    if n < 2:\n'
          "        return n\n    \n")
TYPED = "return fibonacci(n - 1) + "
KEY_S = 0.150
ANSWER_S = 60.0  # a lone answer takes ~0.3 s here; a busy 2-core machine is far slower


@pytest.fixture(scope="module")
def model_server() -> Iterator[str]:
    from spark_lsp.models.local import bundled_model_path

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.llama_cpp_server", "--model", bundled_model_path(),
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/v1/models", timeout=2).status_code == 200:
                    break
            if process.poll() is not None:
                pytest.fail("llama-cpp-python's server exited at start")
            time.sleep(0.3)
        else:
            pytest.fail("llama-cpp-python's server did not start in 120 s")
        yield url
    finally:
        process.kill()
        process.wait()


@pytest.fixture
async def relay(model_server: str) -> AsyncIterator[Relay]:
    relay = Relay(int(model_server.rsplit(":", 1)[1]))
    await relay.start()
    yield relay
    await relay.stop()


def settings(provider: str, relay: Relay) -> dict[str, Any]:
    return {"fast": {"provider": provider, "url": f"http://127.0.0.1:{relay.port}/v1",
                     "model": "SmolLM2-135M-Instruct", "max_tokens": 24,
                     "timeout_ms": int(ANSWER_S * 1000)}}


def text_of(result: Any) -> str:
    items = result.items if isinstance(result, types.InlineCompletionList) else (result or [])
    return items[0].insert_text if items else ""


async def type_line(client: LanguageClient, uri: str, row: int, column: int, text: str
                    ) -> tuple[list[float], asyncio.Future[Any]]:
    """Type `text` a key every KEY_S, asking for a completion at each key and cancelling the
    one before, as VS Code does; the keys' times and the last request."""
    keys: list[float] = []
    pending: asyncio.Future[Any] | None = None
    pending_id = ""
    for number, ch in enumerate(text):
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=number + 2),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line=row, character=column + number),
                                  end=types.Position(line=row, character=column + number)),
                text=ch)]))
        if pending is not None and not pending.done():
            client.protocol.notify("$/cancelRequest", types.CancelParams(id=pending_id))
        keys.append(time.monotonic())
        pending_id = f"key-{number}"
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=row, character=column + number + 1),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Automatic))
        pending = asyncio.wrap_future(client.protocol.send_request(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=pending_id))
        await asyncio.sleep(KEY_S)
    assert pending is not None
    return keys, pending


async def test_typing_at_150_ms_a_key_gets_ghost_text_and_drops_closed_at_once(
        relay: Relay, tmp_path: Path) -> None:
    uri = (tmp_path / "fib.py").as_uri()
    async with lsp_session(settings("openai-completions", relay), tmp_path) as client:
        open_document(client, uri, SOURCE)
        keys, last = await type_line(client, uri, 4, 4, TYPED)
        result = await asyncio.wait_for(last, ANSWER_S)
    assert text_of(result).strip(), "no ghost text after the last key"
    # Never more than one request in flight: the model server had no queue to work through.
    assert len(relay.exchanges) <= len(keys)
    ended = sorted(relay.exchanges, key=lambda e: e.sent)
    for before, after in itertools.pairwise(ended):
        assert before.ended is not None and before.ended <= after.sent + 0.005
    delays = relay.superseded(keys)
    assert delays, "no request was superseded while typing (the model is faster than keys?)"
    assert statistics.median(delays) <= 0.050, delays


async def test_the_chat_provider_gets_ghost_text(relay: Relay, tmp_path: Path) -> None:
    uri = (tmp_path / "fib.py").as_uri()
    async with lsp_session(settings("openai", relay), tmp_path) as client:
        open_document(client, uri, SOURCE)
        result = await asyncio.wait_for(inline_completion(client, uri, 4, 4), ANSWER_S)
    assert text_of(result).strip()
    assert relay.exchanges and all(e.ended for e in relay.exchanges)
