"""llama.cpp's prompt cache: `cache_prompt` and one `id_slot` per document, for servers whose
`/props` say they are llama.cpp; nothing of the kind for any other server."""

from __future__ import annotations

import asyncio

import pytest

from spark_lsp.model_request import ModelRequest
from spark_lsp.models.factory import create_backend
from spark_lsp.settings import ModelSettings
from tests.fakemodel import FakeModelServer


async def bodies(fake: FakeModelServer, provider: str, keys: list[str]) -> list[dict[str, object]]:
    url = fake.url + ("/v1" if provider == "openai-completions" else "")
    backend = create_backend(ModelSettings(provider=provider, url=url, model="m"))
    try:
        for key in keys:
            request = ModelRequest(prompt="x = ", prefix="x = ", cache_key=key)
            async for _ in backend.stream(request):
                pass
            await asyncio.sleep(0.05)
    finally:
        await backend.aclose()
    return [r.body for r in fake.requests if r.method == "POST"]


@pytest.mark.parametrize("provider", ["openai-completions", "llamacpp"])
async def test_each_document_keeps_to_one_slot_of_a_llama_cpp_server(provider: str) -> None:
    with FakeModelServer(props={"total_slots": 4}) as fake:
        sent = await bodies(fake, provider, ["a.py", "a.py", "b.py", "a.py", "b.py"])
    # The first request waits for /props: it goes to its document's slot like the rest.
    assert [b.get("cache_prompt") for b in sent] == [True] * 5
    slots = [b.get("id_slot") for b in sent]
    assert slots[0] == slots[1] == slots[3] != slots[2] == slots[4]
    assert all(isinstance(s, int) and 0 <= s < 4 for s in slots)
    assert len(fake.probes) == 1


async def test_more_documents_than_slots_share_them() -> None:
    with FakeModelServer(props={"total_slots": 2}) as fake:
        sent = await bodies(fake, "llamacpp", ["a", "b", "c", "d"])
    assert [b["id_slot"] for b in sent] == [0, 1, 0, 1]


async def test_other_servers_get_no_llama_cpp_fields(fake_model: FakeModelServer) -> None:
    sent = await bodies(fake_model, "openai-completions", ["a.py", "a.py"])
    assert all("cache_prompt" not in b and "id_slot" not in b for b in sent)
