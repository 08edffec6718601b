"""A loopback TCP relay between a server under test and a model server: it passes every byte
on and timestamps each model request (sent, first byte back, ended, and whether our side hung
up first), reading llama-server's `timings` (cache_n, prompt_n) from the answers."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from dataclasses import dataclass, field

TIMINGS = re.compile(rb'"cache_n"\s*:\s*(\d+).{0,200}?"prompt_n"\s*:\s*(\d+)', re.S)


@dataclass
class Exchange:
    """One model request as the relay saw it."""

    sent: float
    first_byte: float | None = None
    ended: float | None = None
    hung_up: bool = False  # closed by our side before the model server finished
    cache_n: int = 0
    prompt_n: int = 0
    timed: bool = False
    request: bytearray = field(default_factory=bytearray)  # as sent (headers and body)
    reply: bytearray = field(default_factory=bytearray)  # as received


@dataclass
class Relay:
    target: int
    exchanges: list[Exchange] = field(default_factory=list)
    server: asyncio.Server | None = None
    port: int = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        current: list[Exchange] = []

        async def downstream() -> None:  # model server → us
            with contextlib.suppress(ConnectionError):
                await relay_down()
            # The model server closed the connection (an idle keep-alive one, say): close
            # ours too, as a direct connection would be, or our client would send its next
            # request into a dead connection and wait for its timeout.
            writer.close()

        async def relay_down() -> None:
            while data := await up_reader.read(65536):
                if current:
                    exchange = current[-1]
                    exchange.first_byte = exchange.first_byte or time.monotonic()
                    exchange.reply += data
                    found = TIMINGS.search(data)
                    if found:
                        exchange.cache_n, exchange.prompt_n = map(int, found.groups())
                        exchange.timed = True
                    if data.endswith(b"0\r\n\r\n") or b"[DONE]" in data:
                        exchange.ended = exchange.ended or time.monotonic()
                writer.write(data)
                await writer.drain()

        down = asyncio.ensure_future(downstream())
        try:
            while data := await reader.read(65536):
                if data.startswith(b"POST "):
                    exchange = Exchange(time.monotonic())
                    current.append(exchange)
                    self.exchanges.append(exchange)
                if current:
                    current[-1].request += data
                up_writer.write(data)
                await up_writer.drain()
            for exchange in current:  # we hung up
                if exchange.ended is None:
                    exchange.ended, exchange.hung_up = time.monotonic(), True
        except ConnectionError:
            pass
        finally:
            up_writer.close()
            down.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await down
            writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()

    def superseded(self, keys: list[float]) -> list[float]:
        """For each request we hung up on after a key came while it was in flight: seconds from
        that key to the hang-up."""
        delays = []
        for exchange in self.exchanges:
            if exchange.hung_up and exchange.ended is not None:
                after = [k for k in keys if exchange.sent < k <= exchange.ended]
                if after:
                    delays.append(exchange.ended - after[0])
        return delays


