"""The `openai` backend: chat completions streamed over SSE (OpenAI, Cerebras, Groq, vLLM, ...)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from spark_lsp.model_request import ModelRequest
from spark_lsp.models.http import DONE, Frame, HttpBackend, chat_messages

MAX_STOP = 4  # OpenAI rejects more than four stop sequences


def decode_chat_chunk(frame: Frame) -> tuple[str, bool]:
    """An OpenAI-style `chat.completion.chunk` (also Mistral's FIM stream) → (text, final)."""
    if frame.data == DONE:
        return "", True
    choices = frame.data.get("choices") or []
    if not choices:
        return "", False  # e.g. a usage-only chunk
    content = choices[0].get("delta", {}).get("content") or ""
    return content, choices[0].get("finish_reason") is not None


class OpenAIBackend(HttpBackend):
    """POST {url}/chat/completions with `stream: true`; Bearer auth."""

    provider = "openai"
    prompt_style = "chat"
    example_url = "https://api.openai.com/v1"

    def body(self, request: ModelRequest) -> dict[str, Any]:
        system, turns = chat_messages(request)
        messages = ([{"role": "system", "content": system}] if system else []) + turns
        body: dict[str, Any] = {
            "model": self.settings.model,
            "messages": messages,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stream": True,
        }
        if request.stop:
            body["stop"] = list(request.stop[:MAX_STOP])
        return body

    def stream(self, request: ModelRequest) -> AsyncIterator[str]:
        return self.stream_post("/chat/completions", self.body(request), "sse", request.deadline_ms)

    def decode(self, frame: Frame) -> tuple[str, bool]:
        return decode_chat_chunk(frame)

    async def ping(self) -> str:
        return await self.ping_models()
