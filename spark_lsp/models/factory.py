"""Build the backend a tier's settings ask for: provider name → backend class."""

from __future__ import annotations

from spark_lsp.models.anthropic import AnthropicBackend
from spark_lsp.models.base import Backend
from spark_lsp.models.http import HttpBackend
from spark_lsp.models.llamacpp import LlamaCppBackend
from spark_lsp.models.local import LocalBackend
from spark_lsp.models.mistral import MistralBackend
from spark_lsp.models.ollama import OllamaBackend
from spark_lsp.models.openai import OpenAIBackend
from spark_lsp.models.openai_completions import OpenAICompletionsBackend
from spark_lsp.settings import ModelSettings

HTTP_BACKENDS: dict[str, type[HttpBackend]] = {
    cls.provider: cls
    for cls in (
        OpenAIBackend,
        OpenAICompletionsBackend,
        OllamaBackend,
        LlamaCppBackend,
        MistralBackend,
        AnthropicBackend,
    )
}


def create_backend(settings: ModelSettings) -> Backend:
    """The backend for `settings`. Raises ValueError for an unknown provider, or an HTTP provider
    without a url (the message names the provider and gives an example url)."""
    if settings.provider == "local":
        return LocalBackend(settings)
    cls = HTTP_BACKENDS.get(settings.provider)
    if cls is None:
        known = ", ".join(sorted([*HTTP_BACKENDS, "local"]))
        raise ValueError(f"unknown provider {settings.provider!r} (known: {known})")
    return cls(settings)
