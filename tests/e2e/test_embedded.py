"""The embedded default: with no settings at all, the bundled SmolLM2 answers, in-process."""

from __future__ import annotations

import os
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
    async with lsp_session({"completion": {"debounce_ms": 0}}, tmp_path) as client:
        open_document(client, uri, text)
        result = await inline_completion(client, uri, 2, 4)
    assert isinstance(result, types.InlineCompletionList) and result.items
    assert result.items[0].insert_text.strip()


def test_cli_complete_with_no_settings(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "spark_lsp", "complete", "examples/demo.py:3:5"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()


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
