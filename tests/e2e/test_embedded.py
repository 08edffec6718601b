"""The embedded default: with no settings at all, the bundled SmolLM2 answers, in-process."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types

from tests.e2e.lsp import inline_completion, lsp_session, open_document

pytest.importorskip("llama_cpp", reason="the embedded model needs the 'local' extra")
pytestmark = pytest.mark.embedded

ROOT = Path(__file__).resolve().parents[2]


async def test_inline_completion_from_the_embedded_model(tmp_path: Path) -> None:
    uri = (tmp_path / "fib.py").as_uri()
    text = (ROOT / "examples" / "demo.py").read_text()
    # A time limit a busy CI machine meets (loading the model is not counted in it anyway).
    settings = {"fast": {"timeout_ms": 60000}, "completion": {"debounce_ms": 0}}
    async with lsp_session(settings, tmp_path) as client:
        open_document(client, uri, text)
        result = await inline_completion(client, uri, 2, 10)  # after "    return"
    assert isinstance(result, types.InlineCompletionList) and result.items
    assert result.items[0].insert_text.strip()


def test_the_readme_demo_prints_code_that_parses_in_place(tmp_path: Path) -> None:
    """The README's first command, with no settings but a time limit a busy CI machine meets
    (the default 5000 ms is for typing; loading the model is not counted in it either way)."""
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"spark-lsp complete (examples/demo\.py):(\d+):(\d+)", readme)
    assert match, "the README's first command is not `spark-lsp complete examples/demo.py:L:C`"
    demo, line, col = ROOT / match[1], int(match[2]), int(match[3])
    (tmp_path / "spark-lsp").mkdir()
    (tmp_path / "spark-lsp" / "spark.toml").write_text("[fast]\ntimeout_ms = 120000\n")
    done = subprocess.run(
        [sys.executable, "-m", "spark_lsp", "complete", f"{match[1]}:{line}:{col}"],
        cwd=ROOT, env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path)},
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    printed = done.stdout.removesuffix("\n")
    assert printed.strip(), done.stderr
    lines = demo.read_text().splitlines()
    row = lines[line - 1]
    lines[line - 1] = row[: col - 1] + printed + row[col - 1 :]
    completed = "\n".join(lines) + "\n"
    ast.parse(completed)  # valid Python once the completion sits where it was asked for
    assert "return " in completed


def test_cli_complete_reports_bad_location(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "spark_lsp", "complete", "examples/demo.py:99:1"],
        cwd=ROOT,
        env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and "past the end" in done.stderr
