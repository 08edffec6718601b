"""Soak: thousands of completion requests, with edits and cancellations, through the real server
against a fake model (loopback) that fails at random. Prints the server's RSS growth, the asyncio
tasks and model connections still open at the end, and how every request was answered.

    .venv/bin/python benchmarks/soak.py --requests 10000 2>/tmp/soak-server.log

(The server's stderr log is forwarded to stderr; the figures go to stdout.)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcRequestCancelled
from pytest_lsp import LanguageClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.lsp import lsp_session, open_document
from tests.fakemodel import FakeModelServer

FAULTS = ["500", "503", "429", "garbage", "cut", "truncated", "error-event", "hang", "refuse"]


@dataclass
class Doc:
    uri: str
    lines: list[str]
    version: int = 1


@dataclass
class Tally:
    outcomes: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)


def make_docs(count: int) -> list[Doc]:
    docs = []
    for i in range(count):
        body = [f"def helper_{i}_{j}(a, b):\n" f"    return a * {j} + b\n" for j in range(30)]
        docs.append(Doc(f"file:///soak/module_{i}.py", [*"".join(body).splitlines(True),
                                                       f"def target_{i}(a, b):\n", "    "]))
    return docs


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def edit(client: LanguageClient, doc: Doc, rng: random.Random) -> None:
    """Type or delete at the end of the last line (what a user at the cursor does)."""
    row = len(doc.lines) - 1
    line = doc.lines[row]
    end = units(line)
    if len(line) > 4 and rng.random() < 0.3:
        start, text = end - units(line[-1]), ""
        doc.lines[row] = line[:-1]
    else:
        start = end
        text = rng.choice("abcxyz_ (+.é😀")
        if units(line) > 60:  # keep lines short: start a new one
            text += "\n    "
        doc.lines[row:] = (line + text).splitlines(True)
    doc.version += 1
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=doc.uri, version=doc.version),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=row, character=start),
                              end=types.Position(line=row, character=end)),
            text=text)],
    ))


async def request(client: LanguageClient, doc: Doc, msg_id: str, tally: Tally) -> None:
    row, character = len(doc.lines) - 1, units(doc.lines[-1])
    params = types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=doc.uri),
        position=types.Position(line=row, character=character),
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Automatic),
    )
    started = time.monotonic()
    try:
        result = await asyncio.wait_for(
            client.protocol.send_request_async(types.TEXT_DOCUMENT_INLINE_COMPLETION, params,
                                               msg_id=msg_id), 30)
        tally.outcomes["suggestion" if result else "empty"] += 1
    except JsonRpcRequestCancelled:
        tally.outcomes["cancelled"] += 1
    except JsonRpcException as exc:
        tally.outcomes[f"error {type(exc).__name__}"] += 1
    except TimeoutError:
        tally.outcomes["NO ANSWER (30 s)"] += 1
    tally.latencies.append(time.monotonic() - started)


async def flip_faults(fake: FakeModelServer, rng: random.Random, rate: float,
                      stop: asyncio.Event) -> Counter[str]:
    seen: Counter[str] = Counter()
    while not stop.is_set():
        fake.fault = rng.choice(FAULTS) if rng.random() < rate else None
        seen[fake.fault or "ok"] += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), rng.uniform(0.02, 0.3))
    fake.fault = None
    return seen


async def debug_stats(client: LanguageClient) -> dict[str, Any]:
    result = await client.protocol.send_request_async("spark/debugStats", None)
    if isinstance(result, dict):
        return result
    return dict(result._asdict())  # pygls turns unknown result objects into namedtuples


def server_process(client: LanguageClient) -> psutil.Process:
    return psutil.Process(client._server.pid)  # type: ignore[union-attr]


def rss_mb(process: psutil.Process) -> float:
    return process.memory_info().rss / 2**20


def tcp_connections(process: psutil.Process) -> int:
    try:
        return sum(1 for c in process.net_connections(kind="tcp") if c.status == "ESTABLISHED")
    except (psutil.AccessDenied, AttributeError):
        return -1


async def run(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    tally = Tally()
    with FakeModelServer() as fake, tempfile.TemporaryDirectory() as root:
        fake.reply = "value = compute(a, b)\n    return value"
        fake.chunk_size = 3
        fake.chunk_delay = 0.001
        fake.retry_after = "0"
        settings = {"fast": {"provider": "ollama", "url": fake.url, "model": "m",
                             "timeout_ms": args.timeout_ms},
                    "completion": {"debounce_ms": 0}}
        async with lsp_session(settings, Path(root)) as client:
            process = server_process(client)
            docs = make_docs(args.docs)
            for doc in docs:
                open_document(client, doc.uri, "".join(doc.lines))
            stop = asyncio.Event()
            flipper = asyncio.ensure_future(flip_faults(fake, rng, args.fault_rate, stop))
            pending: list[asyncio.Future[None]] = []
            ids: list[str] = []
            started = time.monotonic()
            rss_start = stats_start = None
            samples: list[tuple[int, float]] = []
            sent = 0
            for sent in range(1, args.requests + 1):
                if time.monotonic() - started > args.max_seconds:
                    print(f"stopped by --max-seconds after {sent - 1} requests")
                    break
                doc = rng.choice(docs)
                if rng.random() < args.edit_rate:
                    edit(client, doc, rng)
                msg_id = str(uuid.uuid4())
                pending.append(asyncio.ensure_future(request(client, doc, msg_id, tally)))
                ids.append(msg_id)
                if rng.random() < args.cancel_rate:
                    client.protocol.notify(types.CANCEL_REQUEST,
                                           types.CancelParams(id=rng.choice(ids[-4:])))
                if len(pending) >= args.concurrency:
                    await pending.pop(0)
                if len(ids) > 64:
                    del ids[:32]
                if sent == args.warmup:
                    await asyncio.gather(*pending)
                    pending.clear()
                    rss_start = rss_mb(process)
                    stats_start = await debug_stats(client)
                if sent % 1000 == 0:
                    samples.append((sent, rss_mb(process)))
                    print(f"  {sent:>6} requests  {time.monotonic() - started:6.1f} s  "
                          f"RSS {samples[-1][1]:.1f} MB", flush=True)
            await asyncio.gather(*pending)
            stop.set()
            fault_windows = await flipper
            # Let the last streams close and the breaker's timers lapse before counting.
            await asyncio.sleep(1.0)
            stats_end = await debug_stats(client)
            rss_end = rss_mb(process)
            connections = tcp_connections(process)
            elapsed = time.monotonic() - started
            model_requests, disconnects = len(fake.requests), fake.disconnects

    answered = sum(tally.outcomes.values())
    latencies = sorted(tally.latencies)
    growth = rss_end - (rss_start or rss_end)
    print()
    print(f"requests sent            {sent}  (answered {answered}; warm-up {args.warmup})")
    print(f"outcomes                 {dict(tally.outcomes)}")
    print(f"fault windows            {dict(fault_windows)}")
    print(f"model requests (fake)    {model_requests}  (streams closed early: {disconnects})")
    print(f"latency p50 / p99 / max  {latencies[len(latencies) // 2] * 1000:.1f} / "
          f"{latencies[int(len(latencies) * 0.99)] * 1000:.1f} / {latencies[-1] * 1000:.1f} ms")
    print(f"elapsed                  {elapsed:.1f} s")
    print(f"RSS after warm-up        {rss_start:.1f} MB")
    print(f"RSS at end               {rss_end:.1f} MB")
    print(f"RSS growth               {growth:+.1f} MB   (budget 20 MB)")
    print(f"RSS samples              {[(n, round(v, 1)) for n, v in samples]}")
    print(f"server stats after warm-up {stats_start}")
    print(f"server stats at end        {stats_end}")
    print(f"established TCP (psutil) {connections}")
    ok = (answered == sent and growth <= 20 and stats_end["inflight"] == 0
          and stats_end.get("busy_connections", 0) == 0
          and stats_start is not None and stats_end["tasks"] <= stats_start["tasks"])
    print("RESULT", "ok" if ok else "FAILED")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--docs", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=6,
                        help="requests in flight at once (across documents)")
    parser.add_argument("--edit-rate", type=float, default=0.6)
    parser.add_argument("--cancel-rate", type=float, default=0.2)
    parser.add_argument("--fault-rate", type=float, default=0.15)
    parser.add_argument("--timeout-ms", type=int, default=300)
    parser.add_argument("--max-seconds", type=float, default=900)
    parser.add_argument("--seed", type=int, default=7)
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
