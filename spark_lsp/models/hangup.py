"""Hang up on one HTTP request at any moment: before it is sent, while the server has not sent
its headers yet (llama.cpp's `llama-server` sends them only when a slot starts the task), and
while its body streams.

httpx gives a request's socket only with the response (`network_stream`), so a request still
waiting for its headers could not be closed: it stayed open until the model's first token or the
read timeout, and a queued prompt kept its place in the server's queue. Here every connection of
a backend's pool is a `_TrackedStream`; the request being written registers its connection with
the `Hangup` of the task that sends it (a context variable: httpcore writes in the caller's
task), so `Hangup.now()` can shut that socket down whatever state the exchange is in. The read
pending in httpcore then ends like a peer that left, and httpcore closes the connection on its
own error path (cancelling the task instead can orphan the pool's connection, encode/httpcore#1093).
"""

from __future__ import annotations

import contextlib
import contextvars
import socket
import ssl
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import httpx

_SENDING: contextvars.ContextVar[Hangup | None] = contextvars.ContextVar(
    "spark_http_sending", default=None)


class Hangup:
    """The connection of one request, and the way to close it now."""

    def __init__(self) -> None:
        self._stream: httpcore.AsyncNetworkStream | None = None
        self.requested = False

    @contextlib.contextmanager
    def sending(self) -> Iterator[None]:
        """The request written inside this block registers its connection here."""
        token = _SENDING.set(self)
        try:
            yield
        finally:
            _SENDING.reset(token)

    def attach(self, stream: httpcore.AsyncNetworkStream) -> None:
        if self.requested:  # hung up before the request went out: never send it
            raise httpcore.WriteError("the request was withdrawn before it was sent")
        self._stream = stream

    def now(self) -> None:
        """Close the request's connection at once (or keep it from being sent at all)."""
        self.requested = True
        stream, self._stream = self._stream, None
        if stream is None:
            return
        sock = stream.get_extra_info("socket")
        if sock is not None and hasattr(sock, "shutdown"):  # asyncio's `TransportSocket` has it
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)


class _TrackedStream(httpcore.AsyncNetworkStream):
    """A pool connection that tells the sending request's `Hangup` which socket it is."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        hangup = _SENDING.get()
        if hangup is not None:
            hangup.attach(self)
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        return _TrackedStream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _TrackingBackend(httpcore.AsyncNetworkBackend):
    """httpcore's own network backend, with every connection it opens tracked."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None
                          ) -> httpcore.AsyncNetworkStream:
        return _TrackedStream(await self._inner.connect_tcp(host, port, timeout, local_address,
                                                            socket_options))

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None
                                  ) -> httpcore.AsyncNetworkStream:
        return _TrackedStream(await self._inner.connect_unix_socket(path, timeout,
                                                                    socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class TrackedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with a pool whose connections `Hangup` can close (see above)."""

    def __init__(self, verify: ssl.SSLContext, limits: httpx.Limits | None = None) -> None:
        limits = limits or httpx.Limits()
        super().__init__(verify=verify, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=verify,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_TrackingBackend(),
        )
