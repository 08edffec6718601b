"""A fake model server on loopback speaking every backend's wire format, with injectable faults.

Real HTTP/1.1 on 127.0.0.1 (ephemeral port) in a background thread: usable from sync tests, async
tests and from a server subprocess. Every test and benchmark of the repo talks to this one.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

SSE = "text/event-stream"
NDJSON = "application/x-ndjson"
JSON = "application/json"
GARBAGE = "<html>this is not json {{{</html>"


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received (header keys lower-cased; body {} for GET or bad JSON)."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    method: str = "POST"


def _sse(data: Any, event: str | None = None) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {text}\n\n".encode()


def _ndjson(data: Any) -> bytes:
    return (json.dumps(data) + "\n").encode()


def _chat_chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
        "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _chat_whole(model: str, reply: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": reply},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _openai_error(status: int, message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "server_error", "param": None, "code": status}}


@dataclass(frozen=True)
class Wire:
    """How one route frames a streamed answer, a whole answer, and its errors."""

    content_type: str
    start: Callable[[str], list[bytes]]
    chunk: Callable[[str, str], bytes]
    end: Callable[[str], list[bytes]]
    error_event: Callable[[str], bytes]
    whole: Callable[[str, str], dict[str, Any]]
    error_body: Callable[[int, str], dict[str, Any]]
    stream_by_default: bool = False


_ANTHROPIC_ERRORS = {400: "invalid_request_error", 401: "authentication_error",
                     403: "permission_error", 404: "not_found_error", 429: "rate_limit_error",
                     529: "overloaded_error"}

_CHAT = Wire(
    SSE,
    start=lambda m: [_sse(_chat_chunk(m, {"role": "assistant", "content": ""}))],
    chunk=lambda m, t: _sse(_chat_chunk(m, {"content": t})),
    end=lambda m: [_sse(_chat_chunk(m, {}, "stop")), _sse("[DONE]")],
    error_event=lambda msg: _sse(_openai_error(500, msg)),
    whole=_chat_whole,
    error_body=_openai_error,
)


def _completion_chunk(model: str, text: str, finish: str | None = None) -> dict[str, Any]:
    return {"id": "cmpl-fake", "object": "text_completion", "created": int(time.time()),
            "model": model, "choices": [{"index": 0, "text": text, "finish_reason": finish}]}


_COMPLETIONS = Wire(
    SSE,
    start=lambda m: [],
    chunk=lambda m, t: _sse(_completion_chunk(m, t)),
    end=lambda m: [_sse(_completion_chunk(m, "", "stop")), _sse("[DONE]")],
    error_event=lambda msg: _sse(_openai_error(500, msg)),
    whole=lambda m, r: _completion_chunk(m, r, "stop"),
    error_body=_openai_error,
)

_OLLAMA = Wire(
    NDJSON,
    start=lambda m: [],
    chunk=lambda m, t: _ndjson({"model": m, "created_at": "2025-01-01T00:00:00Z",
                                "response": t, "done": False}),
    end=lambda m: [_ndjson({"model": m, "created_at": "2025-01-01T00:00:00Z", "response": "",
                            "done": True, "done_reason": "stop"})],
    error_event=lambda msg: _ndjson({"error": msg}),
    whole=lambda m, r: {"model": m, "response": r, "done": True, "done_reason": "stop"},
    error_body=lambda status, msg: {"error": msg},
    stream_by_default=True,
)


def _llama_error(status: int, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "type": "server_error"}}


_LLAMACPP = Wire(
    SSE,
    start=lambda m: [],
    chunk=lambda m, t: _sse({"index": 0, "content": t, "stop": False}),
    end=lambda m: [_sse({"index": 0, "content": "", "stop": True, "stop_type": "eos"})],
    error_event=lambda msg: _sse(_llama_error(500, msg)),
    whole=lambda m, r: {"index": 0, "content": r, "stop": True, "stop_type": "eos"},
    error_body=_llama_error,
)

_MISTRAL = Wire(
    SSE,
    start=_CHAT.start,
    chunk=_CHAT.chunk,
    end=_CHAT.end,
    error_event=_CHAT.error_event,
    whole=_chat_whole,
    error_body=lambda status, msg: {"object": "error", "message": msg, "type": "api_error",
                                    "code": str(status)},
)


def _anthropic_error(status: int, message: str) -> dict[str, Any]:
    kind = _ANTHROPIC_ERRORS.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": message}}


def _anthropic_start(model: str) -> list[bytes]:
    message: dict[str, Any] = {
        "id": "msg_fake", "type": "message", "role": "assistant", "content": [], "model": model,
        "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }
    block = {"type": "text", "text": ""}
    return [
        _sse({"type": "message_start", "message": message}, "message_start"),
        _sse({"type": "content_block_start", "index": 0, "content_block": block},
             "content_block_start"),
        _sse({"type": "ping"}, "ping"),
    ]


def _anthropic_end(model: str) -> list[bytes]:
    return [
        _sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
        _sse({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
              "usage": {"output_tokens": 1}}, "message_delta"),
        _sse({"type": "message_stop"}, "message_stop"),
    ]


_ANTHROPIC = Wire(
    SSE,
    start=_anthropic_start,
    chunk=lambda m, t: _sse({"type": "content_block_delta", "index": 0,
                             "delta": {"type": "text_delta", "text": t}}, "content_block_delta"),
    end=_anthropic_end,
    error_event=lambda msg: _sse(_anthropic_error(529, msg), "error"),
    whole=lambda m, r: {"id": "msg_fake", "type": "message", "role": "assistant", "model": m,
                        "content": [{"type": "text", "text": r}], "stop_reason": "end_turn",
                        "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1}},
    error_body=_anthropic_error,
)

POST_ROUTES: dict[str, Wire] = {
    "/v1/chat/completions": _CHAT,
    "/v1/completions": _COMPLETIONS,
    "/api/generate": _OLLAMA,
    "/infill": _LLAMACPP,
    "/v1/fim/completions": _MISTRAL,
    "/v1/messages": _ANTHROPIC,
}

GET_ROUTES: dict[str, dict[str, Any]] = {
    "/v1/models": {"object": "list", "data": [{"id": "fake-model", "object": "model"}]},
    "/api/tags": {"models": [{"name": "fake-model:latest", "model": "fake-model:latest"}]},
    "/health": {"status": "ok"},
}

_HANGUP = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Real model servers (uvicorn, llama.cpp, Ollama) set TCP_NODELAY; without it a reused
    # keep-alive connection stalls ~40 ms on each small write (Nagle + delayed ACK).
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    # -- the request ---------------------------------------------------------------------------

    def _serve(self, method: str) -> None:
        fake = self.server.fake
        if fake.fault == "refuse":
            self._drop()
            return
        path = self.path.split("?", 1)[0]
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        headers = {k.lower(): v for k, v in self.headers.items()}
        recorded = RecordedRequest(path, headers, body if isinstance(body, dict) else {}, method)
        if method == "GET" and path == "/props":  # what a client asks about the server itself
            fake.probes.append(recorded)
            if fake.props is not None:
                self._send_json(200, fake.props)
            else:
                self._send_json(404, {"error": {"message": "no route GET /props"}})
            return
        fake._record(recorded)

        wire = POST_ROUTES.get(path) if method == "POST" else None
        if (method == "GET" and path not in GET_ROUTES) or (method == "POST" and wire is None):
            self._send_json(404, {"error": {"message": f"no route {method} {path}"}})
            return
        if body is None or not isinstance(body, dict):
            self._send_json(400, {"error": {"message": "request body is not a JSON object"}})
            return
        self._answer(fake, path, wire, body)

    def _answer(
        self, fake: FakeModelServer, path: str, wire: Wire | None, body: dict[str, Any]
    ) -> None:
        fault = fake.fault
        if fault == "hang":
            self._hang()
            return
        if fault is not None and fault.isdigit():
            self._send_error_status(int(fault), wire)
            return
        stream = bool(body.get("stream", wire.stream_by_default)) if wire else False
        if wire is not None and stream and (fake.serial or fake.prefill_delay > 0):
            self._queue_and_prefill(fake, wire, body)
            return
        if fault == "garbage":
            content_type = wire.content_type if (wire and stream) else JSON
            prefix = "data: " if content_type == SSE else ""
            self._send_bytes(200, content_type, f"{prefix}{GARBAGE}\n\n".encode())
            return
        model = str(body.get("model") or "fake-model")
        if wire is None:
            payload = json.dumps(GET_ROUTES[path]).encode()
        elif not stream:
            payload = json.dumps(wire.whole(model, fake.reply)).encode()
        else:
            self._stream(fake, wire, model)
            return
        if fault == "cut":
            self._send_bytes(200, JSON, payload, cut=True)
        else:
            self._send_bytes(200, JSON, payload)

    # -- whole answers -----------------------------------------------------------------------

    def _send_bytes(self, status: int, content_type: str, payload: bytes, cut: bool = False,
                    extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        try:
            self.wfile.write(payload[: len(payload) // 2] if cut else payload)
        except _HANGUP:
            self.close_connection = True
            return
        if cut:
            self._drop()

    def _send_json(self, status: int, data: Any) -> None:
        self._send_bytes(status, JSON, json.dumps(data).encode())

    def _send_error_status(self, status: int, wire: Wire | None) -> None:
        fake = self.server.fake
        body = (wire.error_body if wire else _openai_error)(status, fake.error_message)
        extra = {"Retry-After": str(fake.retry_after)} if status in (429, 503) else {}
        self._send_bytes(status, JSON, json.dumps(body).encode(), extra=extra)

    # -- streams -----------------------------------------------------------------------------

    def _queue_and_prefill(self, fake: FakeModelServer, wire: Wire, body: dict[str, Any]
                           ) -> None:
        """As real servers do: wait for the one generation slot (`serial`), spend
        `prefill_delay` on the prompt, and send the headers only then when `hold_headers`
        (llama.cpp's llama-server); a client that leaves meanwhile is noticed within ms."""
        model = str(body.get("model") or "fake-model")
        if fake.serial:
            while not fake._slot.acquire(timeout=0.002):
                if self._client_gone() or fake._stopping.is_set():
                    self._hung_up(before_headers=True)
                    return
        try:
            if not fake.hold_headers:
                self._start_stream(wire)
            deadline = time.monotonic() + fake.prefill_delay
            while time.monotonic() < deadline:
                if self._client_gone() or fake._stopping.wait(0.002):
                    self._hung_up(before_headers=fake.hold_headers)
                    return
            with fake._lock:
                fake.started += 1
            self._stream(fake, wire, model, headers_sent=not fake.hold_headers)
        finally:
            if fake.serial:
                fake._slot.release()

    def _start_stream(self, wire: Wire) -> None:
        self.send_response(200)
        self.send_header("Content-Type", wire.content_type)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

    def _stream(self, fake: FakeModelServer, wire: Wire, model: str,
                headers_sent: bool = False) -> None:
        fault = fake.fault
        size = fake.chunk_size if fake.chunk_size > 0 else max(1, len(fake.reply))
        pieces = [fake.reply[i : i + size] for i in range(0, len(fake.reply), size)]
        if fault in ("cut", "truncated", "error-event"):
            pieces = pieces[: max(1, len(pieces) // 2)]
        if not headers_sent:
            self._start_stream(wire)
        frames: list[tuple[bytes, bool]] = [(f, False) for f in wire.start(model)]
        frames += [(wire.chunk(model, p), True) for p in pieces]
        if fault == "error-event":
            frames.append((wire.error_event(fake.error_message), False))
        elif fault not in ("cut", "truncated"):
            frames += [(f, False) for f in wire.end(model)]
        first = True
        for frame, is_content in frames:
            if is_content:
                delay = fake.first_chunk_delay if first else fake.chunk_delay
                first = False
                if delay > 0 and fake._stopping.wait(delay):
                    self._drop()
                    return
            if not self._write_chunk(frame):
                return
            if is_content:
                fake._count_token()
        if fault == "cut":
            self._drop()
            return
        self._write_chunk(b"")

    def _write_chunk(self, data: bytes) -> bool:
        """Write one HTTP chunk (b"" ends the body); False (and a disconnect counted) on hang-up."""
        if self._client_gone():
            self._hung_up()
            return False
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        except _HANGUP:
            self._hung_up()
            return False
        return True

    def _hung_up(self, before_headers: bool = False) -> None:
        self.close_connection = True
        self.server.fake._count_disconnect(before_headers)

    # -- connection-level faults ---------------------------------------------------------------

    def _client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _hang(self) -> None:
        """Accept the request and never answer, until the client leaves or the fake closes."""
        fake = self.server.fake
        while not fake._stopping.wait(0.02):
            if self._client_gone():
                break
        self._drop()

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # benchmarks open many connections at once

    def __init__(self, fake: FakeModelServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake
        self._connections: dict[threading.Thread, socket.socket] = {}
        self._conn_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(target=self._serve_connection, args=(request, client_address),
                                  name="fake-model-conn", daemon=True)
        with self._conn_lock:
            self._connections[thread] = request
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except (*_HANGUP, OSError):
            pass
        finally:
            self.shutdown_request(request)
            with self._conn_lock:
                self._connections.pop(threading.current_thread(), None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], (*_HANGUP, OSError)):
            super().handle_error(request, client_address)

    def close_all(self, timeout: float = 2.0) -> None:
        with self._conn_lock:
            connections = list(self._connections.items())
        for _, sock in connections:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for thread, _ in connections:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.server_close()


@dataclass
class FakeModelServer:
    """`with FakeModelServer() as fake:` — set `reply`/`fault`, read `requests` and counters.

    `fault`: None, an HTTP status such as "500" or "429" (429/503 carry Retry-After:
    `retry_after`), "garbage", "cut" (connection dropped mid-stream), "truncated" (stream ends
    cleanly without its final event), "error-event" (the wire's in-stream error after some text),
    "hang" or "refuse".

    Real servers' habits, off by default: `serial` (one generation at a time: llama-cpp-python's
    server, a llama-server with one slot), `prefill_delay` (seconds on the prompt before the
    first token) and `hold_headers` (no response headers until generation starts, as
    llama-server). `hangups` holds the `time.monotonic()` of each client hang-up noticed (within
    ~2 ms while queued or in prefill), `hangups_before_headers` those before any header went out,
    `started` the generations that got past the queue and the prefill.
    """

    reply: str = "return a + b"
    chunk_size: int = 4
    chunk_delay: float = 0.0
    first_chunk_delay: float = 0.0
    fault: str | None = None
    retry_after: str | float = "2"
    error_message: str = "fake model server error"
    requests: list[RecordedRequest] = field(default_factory=list)
    disconnects: int = 0
    tokens_sent: int = 0
    serial: bool = False
    props: dict[str, Any] | None = None  # llama-server's GET /props (404 when None)
    probes: list[RecordedRequest] = field(default_factory=list)  # GET /props, not in `requests`
    prefill_delay: float = 0.0
    hold_headers: bool = False
    hangups: list[float] = field(default_factory=list)
    hangups_before_headers: int = 0
    started: int = 0

    def __post_init__(self) -> None:
        self._slot = threading.Lock()
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeModelServer is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeModelServer:
        self._stopping.clear()
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.01,),
                                        name="fake-model-server", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.close_all()
        if self._thread is not None:
            self._thread.join(2.0)
        self._server = None

    def __enter__(self) -> FakeModelServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def reset(self) -> None:
        """Forget requests and counters, and clear the fault."""
        with self._lock:
            self.requests.clear()
            self.disconnects = 0
            self.tokens_sent = 0
            self.hangups.clear()
            self.hangups_before_headers = 0
            self.started = 0
            self.fault = None

    def wait_for_disconnect(self, timeout: float = 2.0, count: int = 1) -> bool:
        """Block until `count` streams were closed by the client early; False on timeout."""
        with self._lock:
            return self._lock.wait_for(lambda: self.disconnects >= count, timeout)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _count_token(self) -> None:
        with self._lock:
            self.tokens_sent += 1

    def _count_disconnect(self, before_headers: bool = False) -> None:
        with self._lock:
            self.disconnects += 1
            self.hangups.append(time.monotonic())
            self.hangups_before_headers += before_headers
            self._lock.notify_all()
