"""What the server does for the editor around the suggestions themselves: completion items only
where there is no ghost text, the status of the suggestion on show, logs the editor shows at
their level (nothing on stderr), and exiting when the editor's process is gone."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from spark_lsp.settings import EMBEDDED_MODEL
from tests.e2e.lsp import inline_completion, lsp_session, open_document
from tests.fakemodel import FakeModelServer

URI = "file:///work/add.py"
SOURCE = "def add(a, b):\n    \n"


def settings(fake: FakeModelServer, **completion: Any) -> dict[str, Any]:
    return {"fast": {"provider": "ollama", "url": fake.url, "model": "m"},
            "completion": {"debounce_ms": 0, **completion}}


def completion_provider(client: LanguageClient) -> object:
    return client.initialize_result.capabilities.completion_provider  # type: ignore[attr-defined]


@pytest.mark.parametrize(("editor", "items", "offered"), [
    ("vscode", None, False),  # ghost text: the same suggestion in the suggest widget is a repeat
    ("neovim", None, False),
    ("helix", None, True),  # no inline completion: items are how it gets suggestions
    ("vscode", "always", True),  # the setting asks for both
])
async def test_completion_items_only_for_editors_without_ghost_text(
    fake_model: FakeModelServer, editor: str, items: str | None, offered: bool
) -> None:
    extra = {"items": items} if items else {}
    async with lsp_session(settings(fake_model, **extra), editor=editor) as client:
        assert (completion_provider(client) is not None) == offered
        open_document(client, URI, SOURCE)
        listed = await client.text_document_completion_async(types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=URI),
            position=types.Position(line=1, character=4)))
        assert (listed is not None) == offered, listed


async def test_the_status_describes_the_suggestion_on_show(fake_model: FakeModelServer) -> None:
    """VS Code asks again for the suggestion it already shows; the cache answers in 0 ms, and
    the status keeps saying how long the model took to make it."""
    async with lsp_session(settings(fake_model)) as client:
        statuses: list[Any] = []

        @client.feature("spark/status")
        def on_status(params: Any) -> None:
            statuses.append(params)

        open_document(client, URI, SOURCE)
        assert await inline_completion(client, URI, 1, 4) is not None
        assert await inline_completion(client, URI, 1, 4) is not None  # asked again
        await asyncio.sleep(0.2)
    assert [s.source for s in statuses] == ["model"], statuses
    assert statuses[0].latencyMs > 0


async def test_the_embedded_model_has_a_name_in_the_status() -> None:
    async with lsp_session({"fast": {"provider": "local", "model_path": "/nowhere/x.gguf"},
                            "completion": {"debounce_ms": 0}}) as client:
        statuses: list[Any] = []

        @client.feature("spark/status")
        def on_status(params: Any) -> None:
            statuses.append(params)

        open_document(client, URI, SOURCE)
        await inline_completion(client, URI, 1, 4)
        await asyncio.sleep(0.2)
    assert statuses and statuses[0].model == "x.gguf", statuses
    assert EMBEDDED_MODEL.startswith("SmolLM2")


# -- a raw session: stderr, logMessage levels, and the editor's process going away -----------


def _frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return f"Content-Length: {len(body)}\r\n\r\n".encode() + body


def _initialize(pid: int | None, fake: FakeModelServer) -> bytes:
    params = {"processId": pid, "rootUri": None, "capabilities": {},
              "initializationOptions": settings(fake)}
    return (_frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params})
            + _frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))


def test_the_server_exits_when_the_editor_process_is_gone(fake_model: FakeModelServer) -> None:
    editor = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    server = subprocess.Popen([sys.executable, "-m", "spark_lsp"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert server.stdin is not None
        server.stdin.write(_initialize(editor.pid, fake_model))
        # A cancel for a request that is already answered: routine, not an error.
        server.stdin.write(_frame({"jsonrpc": "2.0", "method": "$/cancelRequest",
                                   "params": {"id": 1}}))
        server.stdin.flush()  # stdin stays open: only the process check can end the server
        time.sleep(1.0)
        assert server.poll() is None, "the server exited while its editor was running"
        editor.kill()
        editor.wait()
        assert server.wait(timeout=30) == 0
    finally:
        editor.kill()
        server.kill()
        server.wait()
    stdout = server.stdout.read().decode() if server.stdout else ""
    stderr = server.stderr.read().decode() if server.stderr else ""
    assert stderr == "", stderr  # editors file whatever arrives there as errors
    assert "window/logMessage" in stdout
    assert "Cancel notification" not in stdout
    assert '"type": 1' not in stdout.replace('"type":1', '"type": 1'), stdout  # no Error logs
