"""Per-request cost of the context engine: incremental parse + context build, as one keystroke.

A 3,000-line and a 30,000-line file of real Python (installed library sources concatenated, cut
at a top-level statement) sit in a workspace with the sources of httpx (indexed first). Lines
inside functions are erased and typed again one character at a time; each keystroke is one
incremental edit and one completion request's context build (reparse, outline refresh, scopes,
candidates, packing into 512 tokens — what `prepare()` does). Prints p50/p99 per file size, the
ratio between them, and where the time goes.

    .venv/bin/python benchmarks/context_latency.py [--keystrokes 600] [--budget 512]
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from benchmarks.sources import real_python
from spark_lsp.context.builder import build_context
from spark_lsp.context.engine import ContextEngine
from spark_lsp.context.tokens import cached_estimate
from spark_lsp.documents.store import DocumentStore
from spark_lsp.settings import ContextSettings

SOURCES = ("httpx._client", "httpx._models", "click.core", "pygls.protocol.json_rpc",
           "hypothesis.core", "pathspec.pathspec", "httpx._urlparse", "click.types")


def typing_rows(text: str, count: int, seed: int) -> list[int]:
    """Rows of ordinary statements inside functions, spread over the file."""
    lines = text.splitlines()
    rows = [i for i, line in enumerate(lines)
            if line.startswith("        ") and 10 < len(line.strip()) < 60
            and line.strip()[0].isalpha() and not line.rstrip().endswith((":", ",", "(", "\\"))
            and not line.strip().startswith(("def ", "class ", "elif", "else", "except", "return"))
            and '"' not in line and "'" not in line and "#" not in line]
    random.Random(seed).shuffle(rows)
    return sorted(rows[:count])


def run(lines: int, keystrokes: int, budget: int, workspace: Path, seed: int
        ) -> dict[str, list[float]]:
    text = real_python(lines, SOURCES)
    path = workspace / f"big_{lines}.py"
    path.write_text(text)
    store = DocumentStore()
    engine = ContextEngine(store, ContextSettings(max_prompt_tokens=budget))
    engine.set_roots([workspace])
    assert engine.index is not None
    engine.index.build()
    uri = path.as_uri()
    store.open(uri, "python", 1, text)
    settings = ContextSettings(max_prompt_tokens=budget)
    document = store.get(uri)
    assert document is not None
    snapshot = store.snapshot(uri)
    assert snapshot is not None
    build_context(snapshot, 0, 0, settings, cached_estimate,
                  engine=engine.view(snapshot))  # the first outline
    timings: dict[str, list[float]] = {"total": [], "total (CPU time)": [],
                                       "edit+reparse+snapshot": [], "outline": [], "build": []}
    version, done = 2, 0
    for row in typing_rows(text, keystrokes // 20 + 1, seed):
        original = document.buffer.lines[row].rstrip("\n")
        indent = len(original) - len(original.lstrip())
        store.edit(uri, version, (row, indent), (row, len(original)), "")  # erase the line
        version += 1
        for column, char in enumerate(original[indent:], indent):
            gc.disable()
            cpu = time.thread_time()
            started = time.perf_counter()
            store.edit(uri, version, (row, column), (row, column), char)
            snapshot = store.snapshot(uri)  # reparses (incrementally)
            assert snapshot is not None
            parsed = time.perf_counter()
            engine.outline(snapshot)
            outlined = time.perf_counter()
            build_context(snapshot, row, column + 1, settings, cached_estimate,
                          engine=engine.view(snapshot))
            finished = time.perf_counter()
            cpu = time.thread_time() - cpu
            gc.enable()
            version += 1
            timings["total"].append((finished - started) * 1000)
            timings["total (CPU time)"].append(cpu * 1000)
            timings["edit+reparse+snapshot"].append((parsed - started) * 1000)
            timings["outline"].append((outlined - parsed) * 1000)
            timings["build"].append((finished - outlined) * 1000)
            done += 1
            if done >= keystrokes:
                return timings
    return timings


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keystrokes", type=int, default=600)
    parser.add_argument("--budget", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    workspace = Path(tempfile.mkdtemp(prefix="spark-latency-"))
    try:
        httpx_dir = Path(importlib.import_module("httpx").__file__ or "").parent
        shutil.copytree(httpx_dir, workspace / "httpx",
                        ignore=shutil.ignore_patterns("__pycache__"))
        results = {}
        for lines in (3_000, 30_000):
            results[lines] = run(lines, args.keystrokes, args.budget, workspace, args.seed)
        print(f"context build per keystroke (budget {args.budget} tokens, "
              f"{args.keystrokes} keystrokes per file), ms:")
        print("| file | part | p50 | p90 | p99 | mean |")
        print("|---|---|---|---|---|---|")
        for lines, timings in results.items():
            for part, values in timings.items():
                print(f"| {lines:,} lines | {part} | {statistics.median(values):.3f} "
                      f"| {percentile(values, 0.9):.3f} | {percentile(values, 0.99):.3f} "
                      f"| {statistics.mean(values):.3f} |")
        for part in ("total", "total (CPU time)"):
            small, big = results[3_000][part], results[30_000][part]
            print(f"{part}, 30,000 / 3,000 lines: p50 "
                  f"{statistics.median(big) / statistics.median(small):.2f}x, mean "
                  f"{statistics.mean(big) / statistics.mean(small):.2f}x")
        print(f"load average during the run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs "
              "(wall times include waiting for a CPU; CPU time does not)")
    finally:
        shutil.rmtree(workspace, ignore_errors=True)


if __name__ == "__main__":
    main()
