"""The `llamacpp` backend: llama.cpp `llama-server`'s /infill, with snippets as `input_extra`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from spark_lsp.model_request import ModelRequest
from spark_lsp.models.healing import healing
from spark_lsp.models.http import Frame, HttpBackend
from spark_lsp.models.slots import SlotMap
from spark_lsp.settings import ModelSettings


class LlamaCppBackend(HttpBackend):
    """POST {url}/infill with `stream: true`; SSE events `{"content": ..., "stop": bool}`."""

    provider = "llamacpp"
    prompt_style = "fim_fields"
    example_url = "http://127.0.0.1:8080"

    def __init__(self, settings: ModelSettings) -> None:
        super().__init__(settings)
        self.slots = SlotMap(self.server_props, known=True)

    def body(self, request: ModelRequest) -> tuple[dict[str, Any], str]:
        """The request body, and the word healed ("" for none; /infill takes a grammar)."""
        healed = healing(request.prefix, request.prefix)
        body: dict[str, Any] = {
            "input_prefix": healed.prompt if healed is not None else request.prefix,
            "input_suffix": request.suffix,
            "input_extra": [{"filename": s.path, "text": s.text} for s in request.snippets],
            "n_predict": request.max_tokens,
            "temperature": request.temperature,
            "stream": True,
            **self.slots.fields(request.cache_key),
        }
        if request.stop:
            body["stop"] = list(request.stop)
        if self.settings.model:
            body["model"] = self.settings.model
        if healed is not None:
            body["grammar"] = healed.grammar
        return body, healed.word if healed is not None else ""

    def stream(self, request: ModelRequest) -> AsyncIterator[str]:
        return self.stream_healed("/infill", self.slots, lambda: self.body(request),
                                  request.deadline_ms)

    def decode(self, frame: Frame) -> tuple[str, bool]:
        return frame.data.get("content") or "", bool(frame.data.get("stop"))

    async def aclose(self) -> None:
        await self.slots.aclose()
        await super().aclose()

    async def ping(self) -> str:
        """/health, then an /infill that generates nothing: a model without FIM tokens is
        refused there (HTTP 501), which /health does not tell."""
        data = await self.get_json("/health")
        status = data.get("status") if isinstance(data, dict) else None
        probe = {"input_prefix": "", "input_suffix": "", "n_predict": 0, "stream": True,
                 **({"model": self.settings.model} if self.settings.model else {})}
        async for _ in self.stream_post("/infill", probe, "sse"):
            pass
        return f"{self._where}: {status or 'answering'}, /infill works"
