"""Inline-completion latency through the real LSP, beside a do-nothing pygls server.

Typing simulation: in a 3,000-line and a 30,000-line real Python file (installed library sources,
concatenated and cut at a top-level boundary), lines inside functions are erased and typed again
one character at a time, as an editor sends them (didChange + inlineCompletion per keystroke,
brackets and quotes auto-closed, Enter with auto-indent at the end of each line). The model is
a zero-latency fake on loopback HTTP (tests/fakemodel.py); debounce is off. The same keystrokes
go to `benchmarks/floor_server.py` (pygls with nothing to do) in the same run.

Then: how fast a superseded or cancelled request's model stream is closed, whether typing
through a suggestion calls the model, and how many tokens the model sent past the point where
the suggestion was cut (fake model at `--token-ms` per token; with, at most, the one more token
a real server generates while the client hangs up).

    .venv/bin/python benchmarks/latency.py [--keystrokes 1000] [--token-ms 1] [--stub-context]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from latency_goals import other_goals  # noqa: E402
from lsp_client import LspClient  # noqa: E402
from sources import real_python  # noqa: E402

from tests.fakemodel import FakeModelServer  # noqa: E402

# Installed modules whose sources make the "real file" (lsprotocol and pygls are dependencies).
SOURCE_MODULES = ("httpx._client", "httpx._models", "pygls.protocol.json_rpc", "httpx._urls",
                  "pygls.workspace.text_document", "lsprotocol.types")
REPLY = "self.compute(item, options)\n        return result\n"
PAIRS = {"(": ")", "[": "]", "{": "}", '"': '"', "'": "'"}


# -- the file and where to type ------------------------------------------------------------------


def typing_lines(text: str, count: int) -> list[int]:
    """Rows of ordinary code lines inside functions (not in strings), spread over the file."""
    import tree_sitter_python
    from tree_sitter import Language, Parser

    root = Parser(Language(tree_sitter_python.language())).parse(text.encode()).root_node
    rows = []
    for row, line in enumerate(text.split("\n")):
        body = line.strip()
        indent = len(line) - len(line.lstrip(" "))
        if (8 <= indent <= 12 and 15 <= len(body) <= 60 and body[0].isalpha()
                and not body.endswith(("\\", ":", ",", "(", "[", "{"))
                and "\t" not in line and body.count("(") == body.count(")")
                and body.count("[") == body.count("]") and body.count("{") == body.count("}")
                and body.count('"') % 2 == 0 and body.count("'") % 2 == 0
                and not body.startswith(("def ", "class ", "elif ", "else", "except"))):
            node = root.descendant_for_point_range((row, indent), (row, indent))
            while (node is not None and node.parent is not None
                   and node.parent.start_point == (row, indent)):
                node = node.parent
            if node is not None and node.type.endswith("statement"):  # a whole line of code
                rows.append(row)
    step = max(1, len(rows) // count)
    return rows[::step][:count]


@dataclass
class Keystroke:
    """One step of the typing simulation: an optional edit, then a request at `cursor`."""

    edit: tuple[tuple[int, int], tuple[int, int], str] | None
    cursor: tuple[int, int]
    timed: bool = True


def keystrokes_for(text: str, rows: list[int], autopairs: bool) -> list[Keystroke]:
    lines = text.split("\n")
    steps: list[Keystroke] = []
    for row in rows:
        original = lines[row]
        indent = original[: len(original) - len(original.lstrip(" "))]
        content = original[len(indent) :]
        col0 = len(indent)
        steps.append(Keystroke(((row, col0), (row, len(original)), ""), (row, col0), timed=False))
        typed, cursor = "", 0
        for ch in content:
            auto_closed = cursor < len(typed) and typed[cursor] == ch and ch in PAIRS.values()
            if autopairs and auto_closed:
                cursor += 1
                steps.append(Keystroke(None, (row, col0 + cursor)))
                continue
            insert = ch + PAIRS[ch] if autopairs and ch in PAIRS else ch
            at = (row, col0 + cursor)
            typed = typed[:cursor] + insert + typed[cursor:]
            cursor += 1
            steps.append(Keystroke((at, at, insert), (row, col0 + cursor)))
        end = (row, col0 + len(typed))
        steps.append(Keystroke(((row, col0), end, content), (row, len(original)), timed=False))
        eol = (row, len(original))
        steps.append(Keystroke((eol, eol, "\n" + indent), (row + 1, len(indent))))  # Enter
        steps.append(Keystroke((eol, (row + 1, len(indent)), ""), eol, timed=False))
    return steps


# -- the typing run ------------------------------------------------------------------------------


@dataclass
class Run:
    server: str
    lines: int
    times_ms: list[float]
    sources: Counter[str]
    cold_ms: float = math.nan  # didOpen to the first answer, in a server just started
    indexed_at: int | None = None  # keystrokes timed before the server said "indexed …"

    def pct(self, p: float, times: list[float] | None = None) -> float:
        ordered = sorted(self.times_ms if times is None else times)
        if not ordered:
            return math.nan
        return ordered[min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1)]


def server_env(home: Path) -> dict[str, str]:
    return {**os.environ, "XDG_CONFIG_HOME": str(home)}


# For attribution only (--stub-context): the server with its context stage replaced by a
# fixed window of lines around the cursor (what the first version of the builder did).
STUB_CONTEXT = """
import spark_lsp.completion.pipeline as pipeline
from spark_lsp.context.types import PromptContext

def window(snapshot, line, index, settings, count_tokens=None, **_):
    lines = snapshot.lines
    above = "".join(lines[max(0, line - 40):line]) + lines[line][:index]
    below = lines[line][index:] + "".join(lines[line + 1:line + 15])
    return PromptContext(path=snapshot.path or snapshot.uri, language=snapshot.language,
                         comment="#", prefix=above, suffix=below)

pipeline.build_context = window
from spark_lsp.cli import main
main()
"""


async def start(kind: str, fake: FakeModelServer, home: Path, root: Path | None = None
                ) -> LspClient:
    """A server of `kind` ("floor", "spark", "stub"), initialized with `root` (default: home)
    as its workspace folder: spark-lsp starts indexing it."""
    client = LspClient()
    root = root if root is not None else home
    if kind == "floor":
        await client.start(sys.executable, str(HERE / "floor_server.py"), env=server_env(home))
        await client.initialize(None, root)
    else:
        command = ("-c", STUB_CONTEXT) if kind == "stub" else ("-m", "spark_lsp")
        await client.start(sys.executable, *command, env=server_env(home))
        await client.initialize({"fast": {"provider": "ollama", "url": fake.url, "model": "bench"},
                                 "completion": {"debounce_ms": 0}}, root)
    return client


async def typing_run(kind: str, text: str, steps: list[Keystroke], warmup: int,
                     fake: FakeModelServer, home: Path, path: Path | None = None,
                     root: Path | None = None) -> Run:
    """Open `text` (as `path`, default a file of its own in home) and type `steps`; the first
    request, right after didOpen at the first step's place, is timed apart (`cold_ms`)."""
    client = await start(kind, fake, home, root)
    uri = (path if path is not None else home / f"big_{kind}.py").as_uri()
    sources: Counter[str] = Counter()
    times: list[float] = []
    indexed: list[int] = []

    def notified(method: str, params: Any) -> None:
        if method == "spark/status":
            sources.update([params["source"]])
        elif method == "window/logMessage" and params["message"].startswith("indexed "):
            indexed.append(len(times))

    client.on_notification = notified
    version = 1
    timed = 0
    gc.collect()
    gc.disable()
    try:
        started = time.perf_counter()
        client.did_open(uri, text)
        await client.inline_completion(uri, *steps[0].cursor)
        cold = (time.perf_counter() - started) * 1000
        for step in steps:
            started = time.perf_counter()
            if step.edit is not None:
                version += 1
                client.did_change(uri, version, *step.edit)
            if not step.timed:
                continue
            await client.inline_completion(uri, *step.cursor)
            elapsed = (time.perf_counter() - started) * 1000
            timed += 1
            if timed > warmup:
                times.append(elapsed)
    finally:
        gc.enable()
        await client.stop()
    return Run(kind, text.count("\n") + 1, times, sources, cold, indexed[0] if indexed else None)


def workspace_copy(source: Path, home: Path) -> Path:
    """A copy of a source tree (no caches, no compiled modules) to index and type into."""
    target = home / "workspace" / source.name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyc"))
    return target


def file_to_type_in(root: Path, lines: int = 2700) -> Path:
    """The tree's Python file whose length is nearest to `lines`."""
    def distance(path: Path) -> int:
        return abs(path.read_text(encoding="utf-8", errors="replace").count("\n") - lines)
    return min(sorted(root.rglob("*.py")), key=distance)


def trimmed(steps: list[Keystroke], keystrokes: int, warmup: int) -> list[Keystroke]:
    timed = [s for s in steps if s.timed]
    if len(timed) > keystrokes + warmup:
        last = timed[keystrokes + warmup - 1]
        steps = steps[: steps.index(last) + 1]
    return steps


# -- main ----------------------------------------------------------------------------------------


def print_run(run: Run) -> None:
    sources = ", ".join(f"{k} {v}" for k, v in sorted(run.sources.items()))
    extra = f"  answers: {sources}" if sources else ""
    print(f"  {run.server:6} {run.lines:>6} lines  {len(run.times_ms):>5} keystrokes  "
          f"p50 {run.pct(50):6.2f} ms  p90 {run.pct(90):6.2f} ms  p99 {run.pct(99):6.2f} ms  "
          f"max {max(run.times_ms):7.2f} ms  cold {run.cold_ms:6.1f} ms{extra}")
    if run.indexed_at is not None:
        during, after = run.times_ms[: run.indexed_at], run.times_ms[run.indexed_at :]
        print(f"         while the index was built: {len(during)} keystrokes, p50 "
              f"{run.pct(50, during):.2f} ms, p99 {run.pct(99, during):.2f} ms; after: "
              f"{len(after)}, p50 {run.pct(50, after):.2f} ms, p99 {run.pct(99, after):.2f} ms")


def goals_met(floor: Run, spark: Run, what: str) -> bool:
    """Print and check the per-keystroke goals of one typing run against its floor."""
    over = spark.pct(50) - floor.pct(50)
    print(f"{what}: spark p50 - floor p50 = {over:+.2f} ms (goal <= +4 ms); "
          f"spark p99 = {spark.pct(99):.2f} ms (goal <= 25 ms); "
          f"cold first completion {spark.cold_ms:.1f} ms (goal <= 100 ms)")
    return over <= 4 and spark.pct(99) <= 25 and spark.cold_ms <= 100


async def runs_for(text: str, args: argparse.Namespace, fake: FakeModelServer, home: Path,
                   path: Path | None = None, root: Path | None = None) -> dict[str, Run]:
    rows = typing_lines(text, args.keystrokes // 10 + 4)
    steps = trimmed(keystrokes_for(text, rows, args.autopairs), args.keystrokes, args.warmup)
    runs = {}
    for kind in ("floor", "spark", *(("stub",) if args.stub_context else ())):
        fake.reset()
        fake.reply, fake.chunk_size, fake.chunk_delay = REPLY, 4, 0.0
        runs[kind] = run = await typing_run(kind, text, steps, args.warmup, fake, home, path,
                                            root)
        print_run(run)
    return runs


async def main(args: argparse.Namespace) -> int:
    home = Path(tempfile.mkdtemp(prefix="spark-latency-"))
    ok = True
    with FakeModelServer(reply=REPLY, chunk_size=4) as fake:
        print(f"typing simulation (autopairs {'on' if args.autopairs else 'off'}; fake model "
              f"reply {len(REPLY)} chars in {math.ceil(len(REPLY) / 4)} chunks, zero latency)")
        if args.files:
            small = await runs_for(real_python(3000, SOURCE_MODULES), args, fake, home)
            big = await runs_for(real_python(30000, SOURCE_MODULES), args, fake, home)
            ok &= goals_met(small["floor"], small["spark"], "3,000 lines")
            ratio = big["spark"].pct(50) / small["spark"].pct(50)
            ratio_floor = big["floor"].pct(50) / small["floor"].pct(50)
            print(f"30,000 / 3,000 lines p50: spark {ratio:.2f} (goal <= 1.5), "
                  f"floor {ratio_floor:.2f}")
            ok &= ratio <= 1.5
        if args.workspace is not None:
            root = workspace_copy(args.workspace, home)
            path = file_to_type_in(root)
            count = sum(1 for _ in root.rglob("*.py"))
            print(f"workspace {args.workspace} ({count} Python files, indexed as the typing "
                  f"starts), typing in {path.relative_to(root)}:")
            runs = await runs_for(path.read_text(encoding="utf-8"), args, fake, home, path, root)
            ok &= goals_met(runs["floor"], runs["spark"], "workspace")
        if args.goals:
            ok &= await other_goals(await start("spark", fake, home), fake, home, args.token_ms)
    print("all goals met" if ok else "SOME GOALS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keystrokes", type=int, default=1000, help="timed keystrokes per run")
    parser.add_argument("--warmup", type=int, default=40, help="untimed keystrokes first")
    parser.add_argument("--token-ms", type=float, default=1.0,
                        help="the fake model's time per token in the wasted-tokens test")
    parser.add_argument("--stub-context", action="store_true",
                        help="also run spark-lsp with its context stage replaced by a fixed "
                             "window of lines (to attribute time to that stage)")
    parser.add_argument("--no-autopairs", dest="autopairs", action="store_false",
                        help="type closing brackets/quotes instead of auto-closing them")
    parser.add_argument("--workspace", type=Path, default=None,
                        help="also type in a copy of this source tree (the server indexes it "
                             "meanwhile), in its file nearest to 2,700 lines")
    parser.add_argument("--no-files", dest="files", action="store_false",
                        help="skip the 3,000- and 30,000-line files")
    parser.add_argument("--no-goals", dest="goals", action="store_false",
                        help="skip the cancellation, typed-through and wasted-token checks")
    sys.exit(asyncio.run(main(parser.parse_args())))
