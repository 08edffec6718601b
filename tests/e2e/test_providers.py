"""Through the real LSP: each HTTP provider's wire format reaches the fake model, and its answer
comes back as an inline completion and as a completion item; the API key only in the header."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types

from tests.e2e.lsp import inline_completion, lsp_session, open_document
from tests.fakemodel import FakeModelServer

KEY = "sk-test-canary-0123456789abcdef"
SOURCE = "import math\n\ndef area(r):\n    \n"
URI = "file:///tmp/spark_providers/area.py"

# provider → (path the fake must see, how the url is written, where the key goes)
PROVIDERS = {
    "openai": ("/v1/chat/completions", "/v1", ("authorization", f"Bearer {KEY}")),
    "openai-completions": ("/v1/completions", "/v1", ("authorization", f"Bearer {KEY}")),
    "ollama": ("/api/generate", "", ("authorization", f"Bearer {KEY}")),
    "llamacpp": ("/infill", "", ("authorization", f"Bearer {KEY}")),
    "mistral": ("/v1/fim/completions", "/v1", ("authorization", f"Bearer {KEY}")),
    "anthropic": ("/v1/messages", "/v1", ("x-api-key", KEY)),
}


def _prompt_text(body: dict) -> str:
    """All the text of a request body, whatever the wire format."""
    return repr(body)


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
async def test_provider_round_trip(provider: str, fake_model: FakeModelServer) -> None:
    path, url_suffix, (header, header_value) = PROVIDERS[provider]
    fake_model.reply = "return math.pi * r ** 2"
    settings = {
        "fast": {
            "provider": provider,
            "url": fake_model.url + url_suffix,
            "model": "test-model",
            "api_key_env": "SPARK_TEST_API_KEY",
        },
        # VS Code's capabilities: completion items too only because the setting asks for both.
        "completion": {"debounce_ms": 0, "items": "always"},
    }
    async with lsp_session(settings, env={"SPARK_TEST_API_KEY": KEY}) as client:
        open_document(client, URI, SOURCE)
        result = await inline_completion(client, URI, 3, 4)
        assert isinstance(result, types.InlineCompletionList) and result.items
        item = result.items[0]
        assert item.insert_text == "return math.pi * r ** 2"
        assert item.range is not None and item.range.start == types.Position(line=3, character=4)

        listed = await client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=URI),
                position=types.Position(line=3, character=4),
            )
        )
        assert isinstance(listed, types.CompletionList) and listed.items
        edit = listed.items[0].text_edit
        assert isinstance(edit, types.TextEdit) and edit.new_text == "return math.pi * r ** 2"

        await asyncio.sleep(0.1)  # let trailing log notifications arrive
        logged = " ".join(m.message for m in client.log_messages + client.messages)
        assert KEY not in logged

    received = [r for r in fake_model.requests if r.path == path]
    assert received, [r.path for r in fake_model.requests]
    first = received[0]
    assert first.headers.get(header) == header_value
    text = _prompt_text(first.body)
    assert "def area(r):" in text and "area.py" in text
    assert KEY not in text


async def test_bad_setting_is_reported_and_server_keeps_serving(
    fake_model: FakeModelServer,
) -> None:
    fake_model.reply = "return 1"
    settings = {
        "fast": {"provider": "ollama", "url": fake_model.url, "model": "m", "max_tokens": "many"},
        "completion": {"debounce_ms": 0},
    }
    async with lsp_session(settings) as client:
        await asyncio.sleep(0.2)
        shown = " ".join(m.message for m in client.messages)
        assert "fast.max_tokens" in shown
        open_document(client, URI, SOURCE)
        result = await inline_completion(client, URI, 3, 4)
        assert isinstance(result, types.InlineCompletionList)
        assert result.items[0].insert_text == "return 1"
    assert fake_model.requests[-1].body["options"]["num_predict"] == 128


async def test_workspace_configuration_wins_over_initialization_options() -> None:
    with FakeModelServer() as init_fake, FakeModelServer() as config_fake:
        init_fake.reply, config_fake.reply = "return 'init'", "return 'config'"
        init = {
            "fast": {"provider": "ollama", "url": init_fake.url, "model": "m"},
            "completion": {"debounce_ms": 0},
        }
        config = {"fast": {"provider": "ollama", "url": config_fake.url, "model": "m"}}
        async with lsp_session(init, configuration=config) as client:
            open_document(client, URI, SOURCE)
            for _ in range(50):  # workspace/configuration is pulled after `initialized`
                result = await inline_completion(client, URI, 3, 4)
                if (
                    isinstance(result, types.InlineCompletionList)
                    and result.items[0].insert_text == "return 'config'"
                ):
                    break
                await asyncio.sleep(0.05)
            else:
                pytest.fail("workspace/configuration never took effect")
