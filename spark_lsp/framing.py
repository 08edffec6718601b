"""JSON-RPC over stdio that one bad frame cannot end: headers read case-insensitively, a length cap,
resynchronisation on the next `Content-Length` header after a bad length, deep JSON → -32700.

Replaces pygls's stdio loop (`pygls.io_.run_async`); stdin is read by a daemon thread, so a
pending read never keeps the process from exiting.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

log = logging.getLogger(__name__)

MAX_CONTENT_LENGTH = 64 * 1024 * 1024
MAX_HEADER_BYTES = 16 * 1024  # a header block longer than this is junk
_CHUNK = 1 << 16
# A frame whose body is already whole JSON but shorter than its Content-Length (a length a few
# bytes too long) is taken as it is once nothing more arrives for this long.
SHORT_BODY_GRACE_S = 0.5
_SHORT_BY = 1024

PARSE_ERROR = -32700
INVALID_REQUEST = -32600

_LENGTH = re.compile(rb"(?i)content-length[ \t]*:[ \t]*([^\r\n]*)\r?\n")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_DIGITS = re.compile(rb"[ \t]*(\d{1,20})[ \t]*")


@dataclass(frozen=True)
class FrameError:
    """A frame that cannot be read: answered with a JSON-RPC error whose id is null."""

    code: int
    message: str


Frame = bytes | FrameError


class FrameReader:
    """Frames from a byte source (`read` gives the next chunk, b"" at the end)."""

    def __init__(self, read: Callable[[], Any], max_length: int = MAX_CONTENT_LENGTH) -> None:
        self._read = read  # async: () -> bytes
        self._buffer = bytearray()
        self._eof = False
        self.max_length = max_length

    async def _fill(self, timeout: float | None = None) -> bool:
        """Read one more chunk; False at the end of input (or when `timeout` passes)."""
        if self._eof:
            return False
        try:
            chunk = await asyncio.wait_for(self._read(), timeout)
        except TimeoutError:
            return False
        if not chunk:
            self._eof = True
            return False
        self._buffer += chunk
        return True

    async def next(self) -> Frame | None:
        """The next frame's body (or what is wrong with it); None at the end of input."""
        while True:
            match = _LENGTH.search(self._buffer)
            if match is None:
                self._drop_junk()
                if not await self._fill():
                    return None
                continue
            end = _HEADER_END.search(self._buffer, match.start())
            if end is None:
                if len(self._buffer) - match.start() > MAX_HEADER_BYTES:
                    del self._buffer[: match.end()]  # a header that never ends
                    continue
                if not await self._fill():
                    return None
                continue
            value = match.group(1)
            header_end = end.end()
            del self._buffer[:header_end]
            digits = _DIGITS.fullmatch(value)
            if digits is None:
                return FrameError(PARSE_ERROR, f"bad Content-Length header: {value[:40]!r}")
            length = int(digits.group(1))
            if length > self.max_length:
                return FrameError(INVALID_REQUEST, f"message of {length:,} bytes refused: the "
                                  f"limit is {self.max_length // (1024 * 1024)} MB")
            return await self._body(length)

    def _drop_junk(self) -> None:
        """No header in the buffer: keep only a tail that may be the start of one."""
        if len(self._buffer) > 64:
            if self._buffer[:-64].strip():
                log.warning("skipped %d bytes that are not a JSON-RPC frame",
                            len(self._buffer) - 64)
            del self._buffer[:-64]

    async def _body(self, length: int) -> Frame:
        while len(self._buffer) < length:
            short = length - len(self._buffer) <= _SHORT_BY and _is_whole_json(self._buffer)
            if not await self._fill(SHORT_BODY_GRACE_S if short else None):
                log.warning("Content-Length %d, but the body ended after %d bytes",
                            length, len(self._buffer))
                break
        body = bytes(self._buffer[:length])
        del self._buffer[:length]
        return body

    def decode(self, body: bytes, object_hook: Callable[[dict[str, Any]], Any]) -> Any:
        """The message in a frame; `FrameError` for what is not JSON (or nests too deep). A
        body that is one JSON value and then more (a length too long swallowed the start of the
        next frame) is that value, and the rest goes back to be read as the next frame."""
        try:
            return json.loads(body, object_hook=object_hook)
        except RecursionError:
            return FrameError(PARSE_ERROR, "parse error: JSON nested too deeply")
        except (ValueError, UnicodeError) as exc:  # JSONDecodeError is a ValueError
            end = _leading_value_end(body)
            if end is None or not body[end:].strip():
                return FrameError(PARSE_ERROR, f"parse error: {exc}")
        self._buffer[:0] = body[end:]
        log.warning("a frame's Content-Length ran %d bytes into the next frame", len(body) - end)
        return self.decode(body[:end], object_hook)


def _is_whole_json(data: bytearray) -> bool:
    return bytes(data[-1:]) in (b"}", b"]") and _parses(data)


def _parses(data: bytes | bytearray) -> bool:
    try:
        json.loads(data)
    except (ValueError, RecursionError):
        return False
    return True


def _leading_value_end(body: bytes) -> int | None:
    """Where the JSON value that `body` starts with ends (a byte offset), if it starts with one."""
    try:
        text = body.decode("utf-8")
        start = len(text) - len(text.lstrip())
        _, end = json.JSONDecoder().raw_decode(text, start)
    except (ValueError, UnicodeError, RecursionError):
        return None
    return len(text[:end].encode("utf-8"))


def error_response(error: FrameError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": None, "error": {"code": error.code, "message": error.message}}


def stdin_chunks(stdin: BinaryIO, loop: asyncio.AbstractEventLoop) -> Callable[[], Any]:
    """An async `read()` over stdin, fed by a daemon thread (a few chunks ahead at most)."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    room = threading.Semaphore(8)
    fd = stdin.fileno()

    def pump() -> None:
        while True:
            room.acquire()
            try:
                chunk = os.read(fd, _CHUNK)
            except OSError:
                chunk = b""
            try:
                loop.call_soon_threadsafe(queue.put_nowait, chunk)
            except RuntimeError:  # the loop is closed
                return
            if not chunk:
                return

    threading.Thread(target=pump, name="spark-stdin", daemon=True).start()

    async def read() -> bytes:
        chunk = await queue.get()
        room.release()
        return chunk

    return read


async def run(reader: FrameReader, protocol: Any, stop: threading.Event,
              on_error: Callable[[Exception, type], Any]) -> None:
    """Read frames and hand each message to pygls's `protocol` until the input ends or `stop`
    is set (after `exit`). A frame that cannot be read gets its error answer, and reading goes
    on with the next frame."""
    from pygls.exceptions import JsonRpcException

    while not stop.is_set():
        frame = await reader.next()
        if frame is None:
            break
        try:
            message = frame if isinstance(frame, FrameError) else reader.decode(
                frame, protocol.structure_message)
            if isinstance(message, FrameError):
                log.warning("bad frame: %s", message.message)
                protocol._send_data(error_response(message))
                continue
            protocol.handle_message(message)
        except Exception as exc:
            log.exception("Unable to handle message")
            on_error(exc, JsonRpcException)


def serve(server: Any, stdin: BinaryIO, stdout: BinaryIO) -> None:
    """pygls's `start_io` with this reader: serve LSP until `exit` or the end of stdin."""
    from pygls.io_ import StdoutWriter

    server._stop_event = stop = threading.Event()
    server.protocol.set_writer(StdoutWriter(stdout))
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    reader = FrameReader(stdin_chunks(stdin, loop))
    try:
        loop.run_until_complete(run(reader, server.protocol, stop, server._report_server_error))
    except BrokenPipeError:
        log.error("the connection to the client is lost")
    except (KeyboardInterrupt, SystemExit):
        pass
