"""How much of each completion prompt a model server's prompt cache can reuse: typing through the
LSP into a real 3,000-line Python file (lines inside functions erased and typed again, one key at
a time, as latency.py does), the prompts a zero-latency fake model receives, each compared with
the one before it. Printed for this tree and for a baseline commit (run from a git worktree), in
the same run:

- the characters a prompt shares with the previous one (median, 10th percentile, minimum);
- the share of all prompt characters a prefix cache would have to evaluate again;
- how often the prompt's beginning changed (less than half of it shared).

    .venv/bin/python benchmarks/prompt_stability.py [--lines 6] [--baseline a7dd02d]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]

from latency import SOURCE_MODULES, keystrokes_for, typing_lines  # noqa: E402
from lsp_client import LspClient  # noqa: E402
from sources import real_python  # noqa: E402

from tests.fakemodel import FakeModelServer  # noqa: E402

RESULTS = HERE / "results" / "prompt_stability.md"


def shared(a: str, b: str) -> int:
    """The characters the two prompts share from their beginning."""
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                min(len(a), len(b)))


async def prompts_while_typing(command: list[str], text: str, rows: list[int]) -> list[str]:
    steps = keystrokes_for(text, rows, autopairs=True)
    with FakeModelServer(reply="x = 1") as fake, tempfile.TemporaryDirectory() as home:
        client = LspClient()
        await client.start(*command, env={**os.environ, "XDG_CONFIG_HOME": home})
        await client.initialize({"fast": {"provider": "openai-completions",
                                          "url": fake.url + "/v1", "model": "smollm2"},
                                 "completion": {"debounce_ms": 0}}, Path(home))
        uri = (Path(home) / "typing.py").as_uri()
        client.did_open(uri, text)
        version = 1
        for step in steps:
            if step.edit is not None:
                version += 1
                client.did_change(uri, version, *step.edit)
            if step.timed:
                await client.inline_completion(uri, *step.cursor)
        await client.stop()
        return [r.body.get("prompt", "") for r in fake.requests if r.method == "POST"]


def report(name: str, prompts: list[str]) -> str:
    pairs = list(itertools.pairwise(prompts))
    common = sorted(shared(a, b) for a, b in pairs)
    again = sum(len(b) - shared(a, b) for a, b in pairs)
    total = sum(len(b) for _, b in pairs)
    top = sum(1 for a, b in pairs if shared(a, b) < len(b) / 2)
    length = statistics.median(len(p) for p in prompts)
    return (f"| {name} | {len(prompts)} | {length:.0f} | {statistics.median(common):.0f} / "
            f"{common[len(common) // 10]} / {common[0]} | {again / total:.1%} | "
            f"{top} ({top / len(pairs):.0%}) |")


async def main(args: argparse.Namespace) -> None:
    text = real_python(3000, SOURCE_MODULES)
    rows = typing_lines(text, args.lines)
    worktree = Path(tempfile.mkdtemp(prefix="spark-baseline-")) / "tree"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(worktree),
                    args.baseline], check=True)
    baseline = [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(worktree)!r}); "
                "from spark_lsp.cli import main; main()"]
    header = ("| server | prompts | median length | shared with the previous: median / p10 / "
              "min chars | characters to evaluate again | beginning changed |\n"
              "|---|---|---|---|---|---|")
    lines = [f"## {time.strftime('%Y-%m-%d %H:%M')} — {len(rows)} lines typed, baseline "
             f"{args.baseline}", "", header]
    try:
        for name, command in (("this tree", [sys.executable, "-m", "spark_lsp"]),
                              (f"baseline {args.baseline}", baseline)):
            lines.append(report(name, await prompts_while_typing(command, text, rows)))
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)],
                       check=False)
    print("\n".join(lines))
    RESULTS.parent.mkdir(exist_ok=True)
    with RESULTS.open("a") as results:
        results.write("\n".join(lines) + "\n\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=6)
    parser.add_argument("--baseline", default="a7dd02d")
    asyncio.run(main(parser.parse_args()))
