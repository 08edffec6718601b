"""A buggy or hostile client against the real server on raw stdio: bad frames (huge, short, long or
lowercase lengths, deep JSON) and the LSP lifecycle (-32002 before initialize, -32600 after
shutdown, exit codes, shutdown + exit within a second while a large index builds)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

HOVER = {"textDocument": {"uri": "file:///nowhere.py"}, "position": {"line": 0, "character": 0}}


def frame(message: Any, length_delta: int = 0, header: bytes = b"Content-Length") -> bytes:
    body = message if isinstance(message, bytes) else json.dumps(message).encode()
    return header + b": %d\r\n\r\n" % (len(body) + length_delta) + body


def request(msg_id: int, method: str, params: Any = None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params}


def initialize(msg_id: int, root: Path | None = None) -> dict[str, Any]:
    return request(msg_id, "initialize", {
        "processId": None, "capabilities": {},
        "rootUri": root.as_uri() if root else None,
        "initializationOptions": {"completion": {"debounce_ms": 0},
                                  "fast": {"provider": "ollama", "url": "http://127.0.0.1:9",
                                           "model": "m"}}})


class RawClient:
    """Frames written as given; every frame the server sends, parsed."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.received: list[dict[str, Any]] = []

    def send(self, data: bytes | dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data if isinstance(data, bytes) else frame(data))

    async def _read_one(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        length = None
        while True:
            line = await self.process.stdout.readline()
            assert line, "the server closed its output"
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
            elif line in (b"\r\n", b"\n") and length is not None:
                return json.loads(await self.process.stdout.readexactly(length))

    async def response(self, msg_id: Any, timeout: float = 20.0) -> dict[str, Any]:
        """The response to `msg_id` (None: an error about a frame with no id)."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.received:
                if "method" not in message and message.get("id", "none") == msg_id:
                    self.received.remove(message)
                    return message
            left = deadline - time.monotonic()
            assert left > 0, f"no response to {msg_id!r}; got {self.received[-5:]}"
            self.received.append(await asyncio.wait_for(self._read_one(), left))

    async def exit_code(self, timeout: float = 20.0) -> int:
        return await asyncio.wait_for(self.process.wait(), timeout)


@asynccontextmanager
async def raw_server(tmp_path: Path) -> AsyncIterator[RawClient]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "spark_lsp", stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, env=env,
        limit=1 << 24)
    try:
        yield RawClient(process)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_requests_before_initialize_get_32002_and_the_server_then_initializes(
        tmp_path: Path) -> None:
    async with raw_server(tmp_path) as client:
        client.send(request(1, "textDocument/hover", HOVER))
        client.send(request(2, "shutdown"))
        client.send(request(3, "textDocument/codeAction", {
            "textDocument": {"uri": "file:///x.py"}, "context": {"diagnostics": []},
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}}))
        for msg_id in (1, 2, 3):
            assert (await client.response(msg_id))["error"]["code"] == -32002
        client.send(initialize(4))
        assert "capabilities" in (await client.response(4))["result"]
        client.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        client.send(request(5, "shutdown"))
        assert (await client.response(5))["result"] is None
        client.send(request(6, "textDocument/hover", HOVER))
        client.send(request(7, "shutdown"))
        for msg_id in (6, 7):
            assert (await client.response(msg_id))["error"]["code"] == -32600
        client.send({"jsonrpc": "2.0", "method": "exit"})
        assert await client.exit_code() == 0


async def test_exit_without_shutdown_exits_1(tmp_path: Path) -> None:
    async with raw_server(tmp_path) as client:
        client.send(initialize(1))
        await client.response(1)
        client.send({"jsonrpc": "2.0", "method": "exit"})
        assert await client.exit_code() == 1


async def test_bad_frames_get_an_answer_and_the_conversation_goes_on(tmp_path: Path) -> None:
    async with raw_server(tmp_path) as client:
        client.send(initialize(1))
        await client.response(1)
        client.send(b"Content-Length: 99999999999999\r\n\r\n"
                    + json.dumps(request(90, "x")).encode())
        refused = await client.response(None)
        assert refused["error"]["code"] == -32600 and "64 MB" in refused["error"]["message"]
        client.send(frame(request(2, "spark/debugStats"), header=b"content-length"))
        assert "result" in await client.response(2)
        client.send(frame(request(3, "spark/debugStats"), length_delta=-3))
        assert (await client.response(None))["error"]["code"] == -32700
        client.send(frame(request(4, "spark/debugStats"), length_delta=+4))
        client.send(frame(request(5, "spark/debugStats")))
        assert "result" in await client.response(4)
        assert "result" in await client.response(5)
        client.send(frame(b"[" * 100_000 + b"]" * 100_000))
        assert (await client.response(None))["error"]["code"] == -32700
        client.send(frame(request(6, "shutdown")))
        assert (await client.response(6))["result"] is None
        client.send({"jsonrpc": "2.0", "method": "exit"})
        assert await client.exit_code() == 0


@pytest.fixture
def big_repo(tmp_path: Path) -> Path:
    root = tmp_path / "big"
    body = "".join(f"def f{i}(a, b):\n    return a + b * {i}\n\n" for i in range(120))
    for d in range(40):
        folder = root / f"pkg{d}"
        folder.mkdir(parents=True)
        for f in range(100):
            (folder / f"mod{f}.py").write_text(body)
    return root


async def test_shutdown_and_exit_take_under_a_second_while_a_large_index_builds(
        tmp_path: Path, big_repo: Path) -> None:
    async with raw_server(tmp_path) as client:
        client.send(initialize(1, big_repo))
        await client.response(1)
        client.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        client.send(request(2, "spark/debugStats"))
        stats = (await client.response(2))["result"]
        assert stats["tasks"] >= 1  # the index build is running
        started = time.monotonic()
        client.send(request(3, "shutdown"))
        await client.response(3)
        client.send({"jsonrpc": "2.0", "method": "exit"})
        assert await client.exit_code() == 0
        assert time.monotonic() - started < 1.0
