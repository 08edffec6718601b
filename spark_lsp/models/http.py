"""The shared streaming HTTP client of the provider backends: one httpx client per backend, auth,
SSE/NDJSON reading, and the mapping of transport failures and HTTP statuses to typed errors.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import httpx
from httpx_sse import EventSource, SSEError

from spark_lsp import __version__
from spark_lsp.model_request import ModelRequest, PromptStyle
from spark_lsp.models.base import (
    ModelBadResponse,
    ModelError,
    ModelRateLimited,
    ModelServerError,
    ModelTimeout,
    ModelUnreachable,
)
from spark_lsp.models.hangup import Hangup, TrackedTransport
from spark_lsp.models.healing import Unheal
from spark_lsp.models.server_words import (
    ERROR_TYPES,
    error_detail,
    listed_as,
    retry_after_seconds,
    status_hint,
)
from spark_lsp.models.slots import SlotMap
from spark_lsp.settings import ModelSettings, api_key

log = logging.getLogger(__name__)

Framing = Literal["sse", "ndjson"]
Body = dict[str, Any] | Callable[[], Awaitable[dict[str, Any]]]  # a body, or one made when sent
USER_AGENT = f"spark-lsp/{__version__}"
DONE = "[DONE]"
PROPS_TIMEOUT_S = 2.0  # asking a server what it is, in the background
"""The data of OpenAI-style end-of-stream events, passed to `decode` as this plain string."""

class ResponseStream:
    """The text chunks of one streamed HTTP response, with `abort()`: end the exchange now,
    whether the request is still being sent, waiting for the server's headers, or streaming."""

    def __init__(self, chunks: Callable[[Hangup, Callable[[httpx.Response], None]],
                                        AsyncIterator[str]]) -> None:
        self._response: httpx.Response | None = None
        self._hangup = Hangup()
        self._chunks = chunks(self._hangup, self._hold)

    def _hold(self, response: httpx.Response) -> None:
        self._response = response

    def __aiter__(self) -> ResponseStream:
        return self

    async def __anext__(self) -> str:
        try:
            return await anext(self._chunks)
        except ModelError:
            if self._hangup.requested:  # the hang-up we caused
                raise StopAsyncIteration from None
            raise

    async def aclose(self) -> None:
        await self._chunks.aclose()  # type: ignore[attr-defined]

    def abort(self) -> bool:
        """Close the exchange's connection now; False when the response is already closing (its
        connection may serve another request next)."""
        response = self._response
        if response is not None and response.is_closed:
            return False
        self._hangup.now()
        return True


@dataclass(frozen=True)
class Frame:
    """One unit of a stream: an SSE event (name, parsed data) or one NDJSON line (event "")."""

    event: str
    data: Any


def bearer(key: str | None) -> dict[str, str]:
    """`Authorization: Bearer KEY`, or no header without a key."""
    return {"Authorization": f"Bearer {key}"} if key else {}


def ssl_context(ca_bundle: str | None) -> ssl.SSLContext:
    """TLS verification is always on: httpx's default roots, or the given CA file/folder."""
    return _ssl_context(ca_bundle, os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.lru_cache(maxsize=8)
def _ssl_context(ca_bundle: str | None, *_env: str | None) -> ssl.SSLContext:
    """Built once per CA choice (it costs ~25 ms) and shared by all clients; the SSL_CERT_*
    variables that httpx honours are part of the cache key."""
    if not ca_bundle:
        return httpx.create_ssl_context(verify=True)
    try:
        if os.path.isdir(ca_bundle):
            return ssl.create_default_context(capath=ca_bundle)
        return ssl.create_default_context(cafile=ca_bundle)
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"ca_bundle: cannot read {ca_bundle!r} ({exc})") from exc


def chat_messages(request: ModelRequest) -> tuple[str, list[dict[str, str]]]:
    """The system text and the user/assistant turns of a chat request.

    System-role messages are folded into the system text. A request with no messages (only a
    prompt, or a prefix/suffix) becomes one user message.
    """
    system = [request.system] if request.system else []
    turns: list[dict[str, str]] = []
    for message in request.messages:
        if message.role == "system":
            system.append(message.content)
        else:
            turns.append({"role": message.role, "content": message.content})
    if not turns:
        if request.prompt:
            content = request.prompt
        elif request.suffix:
            content = ("Write the code that goes at <CURSOR>. Reply with that code only.\n\n"
                       f"{request.prefix}<CURSOR>{request.suffix}")
        else:
            content = f"Continue this code. Reply with the continuation only.\n\n{request.prefix}"
        turns.append({"role": "user", "content": content})
    return "\n\n".join(system), turns


def _safe_url(url: str) -> str:
    """The url without credentials or query, fit for messages."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return "<invalid url>"
    return str(parsed.copy_with(userinfo=b"", query=None, fragment=None))


class HttpBackend:
    """Shared base of the HTTP providers: owns the client; streams and maps errors.

    A subclass sets `provider`, `prompt_style`, `example_url`, builds request bodies, and
    implements `decode` (one frame → text and whether it was the final event).
    """

    provider: str
    prompt_style: PromptStyle
    example_url: ClassVar[str] = "http://127.0.0.1:8000/v1"

    def __init__(self, settings: ModelSettings) -> None:
        if not settings.url:
            raise ValueError(
                f"provider {self.provider!r} needs a url, e.g. {self.example_url!r}"
            )
        self.settings = settings
        self._key = api_key(settings)
        self._where = f"{self.provider} at {_safe_url(settings.url)}"
        seconds = settings.timeout_ms / 1000 if settings.timeout_ms > 0 else None
        self._client = httpx.AsyncClient(
            base_url=settings.url,
            headers={"User-Agent": USER_AGENT, **self.provider_headers(self._key)},
            timeout=httpx.Timeout(seconds),
            transport=TrackedTransport(ssl_context(settings.ca_bundle)),
        )

    def provider_headers(self, key: str | None) -> dict[str, str]:
        """Headers sent on every request (the key among them): Bearer unless overridden."""
        return bearer(key)

    def stream(self, request: ModelRequest) -> AsyncIterator[str]:
        """The provider's request on the wire (see `stream_post`)."""
        raise NotImplementedError

    def decode(self, frame: Frame) -> tuple[str, bool]:
        """One frame of the stream → (text to yield, is this the final event)."""
        raise NotImplementedError

    async def ping(self) -> str:
        raise NotImplementedError

    async def aclose(self) -> None:
        await self._client.aclose()

    # -- streaming -------------------------------------------------------------------------

    def stream_post(self, path: str, body: Body, framing: Framing,
                    deadline_ms: int | None = None, unheal: Unheal | None = None
                    ) -> ResponseStream:
        """POST `body` (or what the coroutine `body` gives, awaited when the stream is first
        read) and yield the text of each frame, through `unheal` (token healing) if given;
        closing the stream closes the HTTP response at once, whatever state the exchange is in.
        A stream that ends without its final event is a `ModelBadResponse`. `deadline_ms` (the
        request's own limit, e.g. a code action's) replaces the tier's `timeout_ms` as the time
        to wait for the connection and for each read (0: no limit)."""
        return ResponseStream(
            lambda hangup, hold: self._post_chunks(path, body, framing, hangup, hold,
                                                   deadline_ms, unheal))

    def stream_healed(self, path: str, slots: SlotMap,
                      body: Callable[[], tuple[dict[str, Any], str]],
                      deadline_ms: int | None = None) -> ResponseStream:
        """`stream_post` (SSE) of the body `body()` makes once the server is known
        (`slots.known()`: the first request too gets llama.cpp's fields), with the word it
        heals (its second value, "" for none) taken off the answer (`models.healing`)."""
        unheal = Unheal()

        async def made() -> dict[str, Any]:
            await slots.known()
            sent, word = body()
            unheal.expect(word)
            return sent

        return self.stream_post(path, made, "sse", deadline_ms, unheal)

    async def _post_chunks(self, path: str, body: Body, framing: Framing,
                           hangup: Hangup, hold: Callable[[httpx.Response], None],
                           deadline_ms: int | None = None, unheal: Unheal | None = None
                           ) -> AsyncIterator[str]:
        if callable(body):
            body = await body()
        log.debug("%s: POST %s (model %r, streaming)", self._where, path, body.get("model"))
        received = finished = False
        headers = {"Accept": "text/event-stream" if framing == "sse" else "application/x-ndjson"}
        try:
            timeout: httpx.Timeout | Any = httpx.USE_CLIENT_DEFAULT
            if deadline_ms is not None:
                timeout = httpx.Timeout(deadline_ms / 1000 if deadline_ms > 0 else None)
            async with contextlib.AsyncExitStack() as exchange:
                with hangup.sending():  # only while the request is written: no yield inside
                    response = await exchange.enter_async_context(self._client.stream(
                        "POST", path, json=body, headers=headers, timeout=timeout))
                received = True
                hold(response)
                await self._check_status(response)
                async for frame in self._frames(response, framing):
                    if finished:
                        continue  # read to the end so the connection can be reused
                    self._raise_stream_error(frame.data)
                    text, finished = self._decode(frame)
                    if unheal is not None:
                        text = unheal.feed(text)
                    if text:
                        yield text
        except (httpx.HTTPError, SSEError) as exc:
            raise self._transport_error(exc, received) from exc
        if not finished:
            raise ModelBadResponse(f"{self._where}: the stream ended before its final event")

    async def get_json(self, path: str, timeout: float | None = None) -> Any:
        """GET `path` and return its JSON, with the same error mapping (for `ping`)."""
        received = False
        limit: httpx.Timeout | httpx._client.UseClientDefault = (
            httpx.Timeout(timeout) if timeout is not None else httpx.USE_CLIENT_DEFAULT)
        try:
            async with self._client.stream("GET", path, timeout=limit) as response:
                received = True
                await self._check_status(response)
                content = await response.aread()
        except (httpx.HTTPError, SSEError) as exc:
            raise self._transport_error(exc, received) from exc
        return self._loads(content.decode("utf-8", "replace"))

    async def server_props(self) -> Any:
        """llama.cpp's `GET /props` at the server's root (below a `/v1` url)."""
        root = str(self._client.base_url).rstrip("/")
        root = root[: -len("/v1")] if root.endswith("/v1") else root
        return await self.get_json(f"{root}/props", timeout=PROPS_TIMEOUT_S)

    async def ping_models(self, path: str = "/models") -> str:
        """A cheap real call for OpenAI-style APIs: list the models, say if ours is among them."""
        data = await self.get_json(path)
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise ModelBadResponse(f"{self._where}: unexpected answer to GET {path}")
        names = [str(item.get("id")) for item in items if isinstance(item, dict)]
        model = self.settings.model
        if not model:
            return f"{self._where}: {len(items)} models ({', '.join(names[:3])})"
        found = listed_as(model, names)
        listed = f"listed as {found!r}" if found is not None else \
            f"unlisted (the server has {', '.join(repr(n) for n in names[:3])})"
        return f"{self._where}: {len(items)} models, {model!r} {listed}"

    async def _frames(self, response: httpx.Response, framing: Framing) -> AsyncIterator[Frame]:
        if framing == "ndjson":
            async for line in response.aiter_lines():
                if line.strip():
                    yield Frame("", self._loads(line))
            return
        async for event in EventSource(response).aiter_sse():
            if not event.data:
                continue
            data = DONE if event.data.strip() == DONE else self._loads(event.data)
            yield Frame(event.event, data)

    def _decode(self, frame: Frame) -> tuple[str, bool]:
        try:
            text, final = self.decode(frame)
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise ModelBadResponse(
                f"{self._where}: unexpected stream data {self._snippet(json.dumps(frame.data))}"
            ) from exc
        if not isinstance(text, str):
            raise ModelBadResponse(f"{self._where}: stream text is not a string")
        return text, final

    # -- errors ----------------------------------------------------------------------------

    def _snippet(self, text: str, limit: int = 200) -> str:
        """Server text fit for an error message: truncated, and never containing the key."""
        text = " ".join(text.split())
        if self._key:
            text = text.replace(self._key, "***")
        return text if len(text) <= limit else text[: limit - 1] + "…"

    def _loads(self, text: str) -> Any:
        try:
            return json.loads(text)
        except ValueError:
            raise ModelBadResponse(
                f"{self._where}: the answer is not JSON: {self._snippet(text, 80)!r}"
            ) from None

    async def _check_status(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 300:
            return
        if status < 400:
            raise ModelBadResponse(
                f"{self._where}: HTTP {status} redirect to {response.headers.get('location')!r};"
                " set url to the final address"
            )
        content = await response.aread()
        detail = error_detail(content.decode("utf-8", "replace"))
        raise self._status_error(status, detail, response.headers.get("retry-after"))

    def _status_error(self, status: int, detail: str, retry_after: str | None = None) -> ModelError:
        message = f"{self._where}: HTTP {status}: {self._snippet(detail)}"
        if status == 429:
            seconds = retry_after_seconds(retry_after)
            hint = f" (retry after {seconds:g} s)" if seconds is not None else ""
            return ModelRateLimited(message + hint, retry_after=seconds)
        hint = status_hint(status, detail)
        if hint:
            message += f" ({hint})"
        elif status in (401, 403) and self.settings.api_key_env:
            message += f" (check the key in ${self.settings.api_key_env})"
        elif status in (401, 403):
            message += " (no api_key_env is set for this model)"
        return ModelServerError(message, status)

    def _raise_stream_error(self, data: Any) -> None:
        """Raise the typed error for an error event inside a 200 stream (all wire formats)."""
        if not isinstance(data, dict) or "error" not in data or not data["error"]:
            return
        error = data["error"]
        status = 500
        if isinstance(error, dict):
            code, kind = error.get("code"), str(error.get("type") or "")
            if isinstance(code, int) and 400 <= code < 600:
                status = code
            else:
                status = ERROR_TYPES.get(kind) or ERROR_TYPES.get(str(code), 500)
        raise self._status_error(status, error_detail(json.dumps(data)))

    def _transport_error(self, exc: Exception, received: bool) -> ModelError:
        kind = type(exc).__name__
        if isinstance(exc, httpx.TimeoutException):
            return ModelTimeout(
                f"{self._where}: no answer within {self.settings.timeout_ms} ms ({kind})"
            )
        detail = self._snippet(str(exc)) or kind
        if isinstance(exc, httpx.ConnectError):
            hint = " (set ca_bundle?)" if "CERTIFICATE_VERIFY_FAILED" in detail else ""
            return ModelUnreachable(f"{self._where}: cannot connect: {detail}{hint}")
        if isinstance(exc, httpx.UnsupportedProtocol):
            return ModelUnreachable(f"{self._where}: unsupported url: {detail}")
        if isinstance(exc, httpx.TransportError) and not received:
            return ModelUnreachable(f"{self._where}: connection dropped before an answer: {detail}")
        if isinstance(exc, httpx.TransportError):
            return ModelBadResponse(f"{self._where}: stream cut mid-way: {detail}")
        return ModelBadResponse(f"{self._where}: unreadable answer: {detail}")


