"""What every model backend speaks: the request it receives, the errors it raises, its protocol.

A backend turns one `ModelRequest` into a stream of text chunks. Closing the stream (the async
generator's `aclose`, which cancellation triggers) must close the HTTP response or stop the
in-process generation at once, so the model stops working for text nobody will see.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal, Protocol

PromptStyle = Literal["fim_fields", "fim_template", "chat"]


@dataclass(frozen=True)
class Snippet:
    """A labelled piece of context: the path it came from and its text."""

    path: str
    text: str


@dataclass(frozen=True)
class Message:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class ModelRequest:
    """One generation request, already shaped by `prompts/` for the backend's prompt style.

    - `fim_fields` backends (ollama, llamacpp, mistral) send `prefix`/`suffix` as the API's own
      fields, and `snippets` where the API has a channel for them (llama.cpp's `input_extra`);
      otherwise the snippets are already folded into `prefix`.
    - `fim_template` backends (openai-completions, local) send `prompt` verbatim.
    - `chat` backends (openai, anthropic) send `system` and `messages`.
    """

    prefix: str = ""
    suffix: str = ""
    snippets: tuple[Snippet, ...] = ()
    prompt: str = ""
    system: str = ""
    messages: tuple[Message, ...] = ()
    max_tokens: int = 128
    stop: tuple[str, ...] = ()
    temperature: float = 0.0
    # The whole answer's time limit for this request (code actions have their own); None: the
    # model's `timeout_ms`, 0: none.
    deadline_ms: int | None = None
    # Which document the prompt is for: servers with a prompt cache per slot (llama.cpp) keep
    # each document's prompts in one slot.
    cache_key: str = ""


class ModelError(Exception):
    """Base class: something went wrong talking to a model. Messages never contain API keys."""

    kind: str = "error"


class ModelUnreachable(ModelError):
    kind = "unreachable"


class ModelTimeout(ModelError):
    kind = "timeout"


class ModelRateLimited(ModelError):
    kind = "rate-limited"

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ModelServerError(ModelError):
    """The server answered with an HTTP error status other than 429."""

    kind = "server-error"

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status

    @property
    def permanent(self) -> bool:
        """An answer that asking again will not change (a bad request, a missing route or
        model, no key, 501 Not Implemented): not worth a retry every few seconds."""
        return (400 <= self.status < 500 and self.status not in (408, 409, 425, 429)) \
            or self.status == 501


class ModelBadResponse(ModelError):
    """The server answered, but not in the wire format we expect (garbage, cut stream)."""

    kind = "bad-response"


class ModelNotInstalled(ModelError):
    """The embedded model's optional dependencies are missing."""

    kind = "not-installed"


class Backend(Protocol):
    """A model endpoint. One instance per tier; it owns one shared HTTP client (or model)."""

    provider: str
    prompt_style: PromptStyle

    def stream(self, request: ModelRequest) -> AsyncIterator[str]:
        """Yield generated text chunks; closing the iterator stops generation."""
        ...

    async def ping(self) -> str:
        """Check the endpoint answers; return a one-line description or raise `ModelError`."""
        ...

    async def aclose(self) -> None: ...
