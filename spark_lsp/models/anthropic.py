"""The `anthropic` backend: the Messages API streamed over SSE (the usual strong tier)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from spark_lsp.model_request import ModelRequest
from spark_lsp.models.http import Frame, HttpBackend, chat_messages

log = logging.getLogger(__name__)

API_VERSION = "2023-06-01"


class AnthropicBackend(HttpBackend):
    """POST {url}/messages with `stream: true`; `x-api-key` auth; text in `content_block_delta`."""

    provider = "anthropic"
    prompt_style = "chat"
    example_url = "https://api.anthropic.com/v1"

    def provider_headers(self, key: str | None) -> dict[str, str]:
        return {"anthropic-version": API_VERSION, **({"x-api-key": key} if key else {})}

    def body(self, request: ModelRequest) -> dict[str, Any]:
        system, turns = chat_messages(request)
        body: dict[str, Any] = {
            "model": self.settings.model,
            "messages": turns,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stream": True,
        }
        if system:
            # The instructions are the same from one request to the next: the API's prompt
            # cache keeps them (it ignores the mark below its minimum of ~1,024 tokens).
            body["system"] = [{"type": "text", "text": system,
                               "cache_control": {"type": "ephemeral"}}]
        # The API rejects whitespace-only stop sequences; the rest of the pipeline stops on them.
        stops = [s for s in request.stop if s.strip()]
        if len(stops) < len(request.stop):
            log.debug("anthropic: dropped whitespace-only stop sequences")
        if stops:
            body["stop_sequences"] = stops
        return body

    def stream(self, request: ModelRequest) -> AsyncIterator[str]:
        return self.stream_post("/messages", self.body(request), "sse", request.deadline_ms)

    def decode(self, frame: Frame) -> tuple[str, bool]:
        kind = frame.data.get("type") or frame.event
        if kind == "content_block_delta":
            return frame.data["delta"].get("text") or "", False
        return "", kind == "message_stop"

    async def ping(self) -> str:
        return await self.ping_models()
