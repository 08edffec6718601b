"""The `ollama` backend: /api/generate with native FIM `suffix`, streamed as NDJSON."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from spark_lsp.model_request import ModelRequest
from spark_lsp.models.http import Frame, HttpBackend


class OllamaBackend(HttpBackend):
    """POST {url}/api/generate; prefix/suffix with the model's own template, or a raw prompt."""

    provider = "ollama"
    prompt_style = "fim_fields"
    example_url = "http://127.0.0.1:11434"

    def body(self, request: ModelRequest) -> dict[str, Any]:
        options: dict[str, Any] = {
            "num_predict": request.max_tokens,
            "temperature": request.temperature,
        }
        if request.stop:
            options["stop"] = list(request.stop)
        body: dict[str, Any] = {"model": self.settings.model, "stream": True, "options": options}
        if request.prompt:
            body.update(prompt=request.prompt, raw=True)
        else:
            body.update(prompt=request.prefix, suffix=request.suffix, raw=False)
        return body

    def stream(self, request: ModelRequest) -> AsyncIterator[str]:
        return self.stream_post("/api/generate", self.body(request), "ndjson", request.deadline_ms)

    def decode(self, frame: Frame) -> tuple[str, bool]:
        return frame.data.get("response") or "", bool(frame.data.get("done"))

    async def ping(self) -> str:
        data = await self.get_json("/api/tags")
        names = {str(m.get("name")) for m in data.get("models") or [] if isinstance(m, dict)}
        wanted = self.settings.model
        found = wanted in names or f"{wanted}:latest" in names
        state = "pulled" if found else "not pulled (ollama pull it)"
        return f"{self._where}: {len(names)} models, {wanted!r} {state}"
