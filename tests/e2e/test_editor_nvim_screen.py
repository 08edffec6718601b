"""The Neovim plugin on a real screen: nvim in tmux (256 colours, 'termguicolors' off), keys typed
at a person's pace, and what tmux shows: the ghost text in its own colour after the typed text,
nothing repeated of what was typed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.lsp import find_program
from tests.fakemodel import FakeModelServer

PLUGIN = Path(__file__).resolve().parents[2] / "editors" / "nvim"
NVIM = find_program("nvim")
TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(not (NVIM and TMUX), reason="needs nvim and tmux")

PACE_S = 0.150  # between keystrokes, as a person types
GHOST_CTERM = 244  # SparkGhost's ctermfg

INIT = """
vim.opt.runtimepath:prepend({plugin!r})
vim.o.termguicolors = false
vim.o.swapfile = false
require('spark_lsp').setup({{
  cmd = {{ {server!r} }},
  settings = {{ fast = {{ provider = 'ollama', url = {url!r}, model = 'test' }},
               completion = {{ debounce_ms = 0 }} }},
  inline = {{ native = false, debounce_ms = 20 }},
}})
vim.api.nvim_create_autocmd('LspAttach', {{ callback = function()
  vim.fn.writefile({{ 'attached' }}, {marker!r})
end }})
"""


class Screen:
    """One tmux server (its own socket) running one nvim in a 100x20 window."""

    def __init__(self, home: Path) -> None:
        self.socket = f"spark-{os.getpid()}-{time.monotonic_ns()}"
        self.home = home

    def tmux(self, *args: str) -> str:
        assert TMUX is not None
        done = subprocess.run([TMUX, "-L", self.socket, "-f", os.devnull, *args],
                              capture_output=True, text=True, timeout=20, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self, command: str) -> None:
        self.tmux("new-session", "-d", "-s", "spark", "-x", "100", "-y", "20",
                  "-e", "TERM=screen-256color", "-e", f"XDG_CONFIG_HOME={self.home}/config",
                  "-e", f"XDG_STATE_HOME={self.home}/state", "-e", "COLORTERM=", command)
        self.tmux("set-option", "-g", "default-terminal", "screen-256color")

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", "spark", *(["-l"] if literal else []), *keys)

    def text(self) -> list[str]:
        return self.tmux("capture-pane", "-t", "spark", "-p").splitlines()

    def styled(self) -> list[str]:
        """The screen's lines with tmux's SGR escapes (colours and attributes) in them."""
        return self.tmux("capture-pane", "-t", "spark", "-p", "-e").splitlines()

    def kill(self) -> None:
        subprocess.run([TMUX or "tmux", "-L", self.socket, "kill-server"],
                       capture_output=True, timeout=20, check=False)


@pytest.fixture
def screen(tmp_path: Path) -> Iterator[Screen]:
    shown = Screen(tmp_path)
    yield shown
    shown.kill()


def wait_for(what: str, probe: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not probe():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def colours(styled_line: str) -> tuple[str, list[int | None]]:
    """A styled line's text, and the 256-colour foreground of each character (None: default)."""
    text, per_char = "", []
    colour: int | None = None
    for match in re.finditer(r"\x1b\[([0-9;]*)m|([^\x1b]+)", styled_line):
        if match[2] is not None:
            text += match[2]
            per_char += [colour] * len(match[2])
            continue
        codes = match[1].split(";") if match[1] else ["0"]
        if "0" in codes[:1] or "39" in codes:
            colour = None
        for i in range(len(codes) - 2):
            if codes[i] == "38" and codes[i + 1] == "5":
                colour = int(codes[i + 2])
    return text, per_char


def colour_of(styled_line: str, part: str) -> set[int | None]:
    """The colours `part` is drawn in on that line."""
    text, per_char = colours(styled_line)
    start = text.index(part)
    return set(per_char[start : start + len(part)])


def test_ghost_text_in_a_256_colour_terminal_at_a_typing_pace(
    screen: Screen, tmp_path: Path, fake_model: FakeModelServer
) -> None:
    server = find_program("spark-lsp")
    assert server, "spark-lsp is not installed (pip install -e .)"
    fake_model.reply = "return a + b"  # the whole statement, as a chat model answers
    (tmp_path / ".git").write_text("")
    (tmp_path / "add.py").write_text("def add(a, b):\n    \n")
    marker = tmp_path / "attached"
    init = tmp_path / "init.lua"
    init.write_text(INIT.format(plugin=str(PLUGIN), server=server, url=fake_model.url,
                                marker=str(marker)))
    screen.start(f"cd {tmp_path} && {NVIM} --clean -n -u {init} add.py")
    wait_for("spark-lsp to attach", marker.exists)

    screen.keys("2G", "A")  # the end of the indented blank line, in insert mode
    for key in "ret":
        time.sleep(PACE_S)
        screen.keys(key, literal=True)
    wait_for("the ghost text after 'ret'",
             lambda: any(line.startswith("    return a + b") for line in screen.text()))
    lines = screen.text()
    assert not any("retreturn" in line or "rreturn" in line for line in lines), lines
    row = next(i for i, line in enumerate(lines) if line.startswith("    return a + b"))
    styled = screen.styled()[row]
    assert colour_of(styled, "urn a + b") == {GHOST_CTERM}, repr(styled)
    assert GHOST_CTERM not in colour_of(styled, "ret"), repr(styled)  # typed: normal colour

    screen.keys("M-l")  # accept
    wait_for("the accepted line", lambda: "    return a + b" in screen.text())
    screen.keys("Escape")
