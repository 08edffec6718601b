"""The frame reader alone: case-insensitive headers, the length cap, resynchronisation after a
bad length, deep JSON."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from spark_lsp.framing import FrameError, FrameReader


def frame(body: bytes, length: int | None = None, header: bytes = b"Content-Length") -> bytes:
    return header + b": %d\r\n\r\n" % (len(body) if length is None else length) + body


def source(*chunks: bytes, hang: bool = False) -> Any:
    queue = list(chunks)

    async def read() -> bytes:
        if queue:
            return queue.pop(0)
        if hang:  # a client that sent everything and waits for answers
            await asyncio.Event().wait()
        return b""

    return read


async def messages(*chunks: bytes, hang: bool = False, **kw: Any) -> list[Any]:
    reader = FrameReader(source(*chunks, hang=hang), **kw)
    out: list[Any] = []
    while (item := await asyncio.wait_for(reader.next(), 5)) is not None:
        out.append(item if isinstance(item, FrameError) else reader.decode(item, lambda d: d))
        if hang and len(out) >= 2 and not reader._buffer:
            break
    return out


A = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "a"}).encode()
B = json.dumps({"jsonrpc": "2.0", "id": 2, "method": "b"}).encode()


async def test_frames_split_anywhere_and_headers_in_any_case() -> None:
    data = frame(A, header=b"content-length") + b"Content-Type: x\r\n" + frame(B)
    out = await messages(*[data[i : i + 7] for i in range(0, len(data), 7)])
    assert [m["id"] for m in out] == [1, 2]
    assert (await messages(frame(A, header=b"CONTENT-LENGTH")))[0]["id"] == 1


async def test_a_huge_length_is_refused_and_the_next_frame_read() -> None:
    out = await messages(b"Content-Length: 99999999999999\r\n\r\n" + A + frame(B))
    assert isinstance(out[0], FrameError) and out[0].code == -32600
    assert "limit is 64 MB" in out[0].message
    assert out[1:] == [json.loads(B)]


async def test_a_length_a_few_bytes_short_costs_one_parse_error() -> None:
    out = await messages(frame(A, len(A) - 3) + frame(B))
    assert isinstance(out[0], FrameError) and out[0].code == -32700
    assert out[1:] == [json.loads(B)]


async def test_a_length_a_few_bytes_long_swallows_nothing() -> None:
    out = await messages(frame(A, len(A) + 5) + frame(B))
    assert out == [json.loads(A), json.loads(B)]


async def test_a_length_too_long_for_the_last_frame_does_not_wait_forever() -> None:
    reader = FrameReader(source(frame(A, len(A) + 5), hang=True))
    body = await asyncio.wait_for(reader.next(), 5)
    assert isinstance(body, bytes) and reader.decode(body, lambda d: d)["id"] == 1


async def test_a_bad_length_value_and_junk_are_skipped() -> None:
    out = await messages(b"Content-Length: abc\r\n\r\n" + b"garbage\r\n" * 40 + frame(A))
    assert isinstance(out[0], FrameError) and out[0].code == -32700
    assert out[1:] == [json.loads(A)]


async def test_deep_json_is_a_parse_error() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    out = await messages(frame(deep) + frame(A))
    assert isinstance(out[0], FrameError) and out[0].code == -32700
    assert "deeply" in out[0].message
    assert out[1:] == [json.loads(A)]


async def test_a_body_holding_the_words_content_length_is_read_whole() -> None:
    text = {"jsonrpc": "2.0", "method": "x", "params": {"t": "Content-Length: 5\r\n\r\nabc"}}
    body = json.dumps(text, indent=1).encode()
    assert (await messages(frame(body)))[0] == text
