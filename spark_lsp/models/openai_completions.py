"""The `openai-completions` backend: legacy completions with FIM `suffix` (vLLM, DeepSeek, TGI)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from spark_lsp.model_request import ModelRequest
from spark_lsp.models.healing import healing
from spark_lsp.models.http import DONE, Frame, HttpBackend
from spark_lsp.models.slots import SlotMap
from spark_lsp.settings import ModelSettings


class OpenAICompletionsBackend(HttpBackend):
    """POST {url}/completions with `stream: true`: the templated prompt, or prefix + suffix."""

    provider = "openai-completions"
    prompt_style = "fim_template"
    example_url = "http://127.0.0.1:8000/v1"

    def __init__(self, settings: ModelSettings) -> None:
        super().__init__(settings)
        self.slots = SlotMap(self.server_props)  # llama-server serves /v1/completions too

    def body(self, request: ModelRequest, heal: bool = False) -> tuple[dict[str, Any], str]:
        """The request body, and the word healed ("" for none): `heal` when the server takes a
        grammar (llama.cpp) and the prompt ends in the word the cursor is in."""
        body: dict[str, Any] = {
            "model": self.settings.model,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stream": True,
            **self.slots.fields(request.cache_key),
        }
        prompt = request.prompt or request.prefix
        healed = healing(prompt, request.prefix) if heal else None
        if healed is not None:
            prompt = healed.prompt
            body["grammar"] = healed.grammar
        body["prompt"] = prompt
        if not request.prompt:
            body["suffix"] = request.suffix
        if request.stop:
            body["stop"] = list(request.stop)
        return body, healed.word if healed is not None else ""

    def stream(self, request: ModelRequest) -> AsyncIterator[str]:
        return self.stream_healed(
            "/completions", self.slots, lambda: self.body(request, heal=self.slots.is_llama_cpp),
            request.deadline_ms)

    def decode(self, frame: Frame) -> tuple[str, bool]:
        if frame.data == DONE:
            return "", True
        choices = frame.data.get("choices") or []
        if not choices:
            return "", False
        return choices[0].get("text") or "", choices[0].get("finish_reason") is not None

    async def aclose(self) -> None:
        await self.slots.aclose()
        await super().aclose()

    async def ping(self) -> str:
        return await self.ping_models()
