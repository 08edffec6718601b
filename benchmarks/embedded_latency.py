"""Embedded model figures on this machine: load time and per-completion latency (prepare +
generate on examples/demo.py through the server's own pipeline). Prints its figures."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from spark_lsp import settings as settings_mod
from spark_lsp.completion.pipeline import generate, prepare
from spark_lsp.documents.store import DocumentStore
from spark_lsp.models.router import Router

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo.py"


async def main(runs: int) -> None:
    settings = settings_mod.resolve([]).settings  # no settings at all: the embedded model
    store = DocumentStore()
    store.open(DEMO.as_uri(), "python", 1, DEMO.read_text())
    router = Router(settings)
    backend = router.route("fast").backend
    started = time.perf_counter()
    print(f"ping: {await backend.ping()} [{time.perf_counter() - started:.2f} s incl. load]")
    times, text = [], None
    for _ in range(runs):
        snapshot = store.snapshot(DEMO.as_uri())
        assert snapshot is not None
        job = prepare(snapshot, 2, 4, settings)
        started = time.perf_counter()
        suggestion = await generate(job, backend, settings)
        times.append((time.perf_counter() - started) * 1000)
        text = suggestion.text if suggestion else None
    await router.aclose()
    print(f"per completion over {runs} runs: p50 {statistics.median(times):.0f} ms, "
          f"min {min(times):.0f} ms, max {max(times):.0f} ms")
    print(f"last suggestion: {text!r}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    asyncio.run(main(parser.parse_args().runs))
