"""The `mistral` backend: Codestral's FIM endpoint, streamed in the OpenAI chat-delta shape."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from spark_lsp.model_request import ModelRequest
from spark_lsp.models.http import Frame, HttpBackend
from spark_lsp.models.openai import decode_chat_chunk


class MistralBackend(HttpBackend):
    """POST {url}/fim/completions with `prompt` (prefix) and `suffix`; Bearer auth."""

    provider = "mistral"
    prompt_style = "fim_fields"
    example_url = "https://codestral.mistral.ai/v1"

    def body(self, request: ModelRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.settings.model,
            "prompt": request.prefix,
            "suffix": request.suffix,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stream": True,
        }
        if request.stop:
            body["stop"] = list(request.stop)
        return body

    def stream(self, request: ModelRequest) -> AsyncIterator[str]:
        return self.stream_post("/fim/completions", self.body(request), "sse", request.deadline_ms)

    def decode(self, frame: Frame) -> tuple[str, bool]:
        return decode_chat_chunk(frame)

    async def ping(self) -> str:
        return await self.ping_models()
