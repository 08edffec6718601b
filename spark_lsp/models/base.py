"""What every model backend speaks: the errors it raises, its protocol.

A backend turns one `ModelRequest` (see `spark_lsp.model_request`) into a stream of text chunks.
Closing the stream (the async generator's `aclose`, which cancellation triggers) must close the
HTTP response or stop the in-process generation at once, so the model stops working for text
nobody will see.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from spark_lsp.model_request import ModelRequest, PromptStyle


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
