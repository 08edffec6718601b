"""A minimal LSP client over a subprocess's stdio, for benchmarks: as little client-side work
per message as possible, so the figures are the server's."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


class LspClient:
    """Start a server, send requests/notifications, answer its requests with null."""

    def __init__(self) -> None:
        self._process: asyncio.subprocess.Process | None = None
        self._pending: dict[int | str, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)
        self._reader: asyncio.Task[None] | None = None
        self.notifications: list[tuple[str, Any]] = []
        self.on_notification: Callable[[str, Any], None] | None = None

    async def start(self, *cmd: str, env: dict[str, str] | None = None) -> None:
        self._process = await asyncio.create_subprocess_exec(
            *cmd, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL, env=env, limit=2**24)
        self._reader = asyncio.ensure_future(self._read())

    def _write(self, message: dict[str, Any]) -> None:
        assert self._process is not None and self._process.stdin is not None
        body = json.dumps(message).encode()
        self._process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    def notify(self, method: str, params: Any) -> None:
        self._write({"jsonrpc": "2.0", "method": method, "params": params})

    def send(self, method: str, params: Any, msg_id: int | str | None = None
             ) -> asyncio.Future[Any]:
        msg_id = next(self._ids) if msg_id is None else msg_id
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        self._write({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return future

    async def request(self, method: str, params: Any) -> Any:
        return await self.send(method, params)

    async def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        stdout = self._process.stdout
        while True:
            length = 0
            while True:
                line = await stdout.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            message = json.loads(await stdout.readexactly(length))
            if "method" in message and "id" in message:  # a request from the server
                self._write({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif "method" in message:
                self.notifications.append((message["method"], message.get("params")))
                if self.on_notification is not None:
                    self.on_notification(message["method"], message.get("params"))
            else:
                future = self._pending.pop(message.get("id"), None)
                if future is not None and not future.done():
                    if "error" in message:
                        future.set_exception(RuntimeError(message["error"].get("message")))
                    else:
                        future.set_result(message.get("result"))

    async def initialize(self, options: dict[str, Any] | None, root: Path) -> None:
        capabilities = {"textDocument": {"inlineCompletion": {}, "synchronization": {}},
                        "workspace": {"configuration": False}}
        await self.request("initialize", {
            "processId": None, "rootUri": root.as_uri(), "capabilities": capabilities,
            "initializationOptions": options,
        })
        self.notify("initialized", {})

    def did_open(self, uri: str, text: str, language_id: str = "python") -> None:
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": language_id, "version": 1, "text": text}})

    def did_change(self, uri: str, version: int, start: tuple[int, int], end: tuple[int, int],
                   text: str) -> None:
        self.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {
                "start": {"line": start[0], "character": start[1]},
                "end": {"line": end[0], "character": end[1]}}, "text": text}],
        })

    def inline_completion(self, uri: str, line: int, character: int,
                          msg_id: int | str | None = None) -> asyncio.Future[Any]:
        return self.send("textDocument/inlineCompletion", {
            "textDocument": {"uri": uri}, "position": {"line": line, "character": character},
            "context": {"triggerKind": 2}}, msg_id)

    async def stop(self) -> None:
        if self._process is None:
            return
        try:
            await asyncio.wait_for(self.request("shutdown", None), 5)
            self.notify("exit", None)
            await asyncio.wait_for(self._process.wait(), 5)
        except (TimeoutError, RuntimeError, ConnectionError):
            with contextlib.suppress(ProcessLookupError):  # it may have crashed
                self._process.kill()
            await self._process.wait()
        if self._reader is not None:
            self._reader.cancel()
