"""A real VS Code for the tests: code-server (VS Code 1.100.3) with the packaged .vsix installed,
opened in headless Chromium and driven by Playwright, as a person would use it.

code-server is installed by `.ci/code-server.sh` into a cache outside the clone; Playwright
drives Debian's `/usr/bin/chromium` (its own browser download does not work here).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any, TypeVar

CODE_SERVER_VERSION = "4.100.3"
CACHE = Path(os.environ.get("SPARK_LSP_CACHE", "/var/cache/spark-lsp"))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# Quiet VS Code: no welcome page, tips, trust prompt, update or telemetry traffic.
QUIET_SETTINGS: dict[str, Any] = {
    "workbench.startupEditor": "none",
    "security.workspace.trust.enabled": False,
    "telemetry.telemetryLevel": "off",
    "extensions.autoCheckUpdates": False,
    "extensions.autoUpdate": False,
    "update.mode": "none",
    "workbench.tips.enabled": False,
    "workbench.enableExperiments": False,
    "chat.commandCenter.enabled": False,
    "editor.minimap.enabled": False,
}

T = TypeVar("T")


def code_server_binary() -> Path | None:
    """The cached code-server, when `.ci/code-server.sh` has installed it."""
    root = CACHE / f"code-server-{CODE_SERVER_VERSION}"
    binary = root / "node_modules" / ".bin" / "code-server"
    return binary if (root / ".installed").exists() and binary.exists() else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(what: str, probe: Callable[[], T | None], timeout: float = 30.0,
               interval: float = 0.1) -> T:
    """Poll `probe` until it returns something truthy; AssertionError naming `what` if not."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class CodeServer:
    """One code-server process with its own user-data, extensions and config directories."""

    def __init__(self, binary: Path, home: Path) -> None:
        self.binary = binary
        self.home = home
        self.user_data = home / "user-data"
        self.extensions = home / "extensions"
        self.workspace = home / "workspace"
        self.settings: dict[str, Any] = {}  # the user settings last written (less QUIET_SETTINGS)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        (self.user_data / "User").mkdir(parents=True, exist_ok=True)
        self.extensions.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def settings_file(self) -> Path:
        return self.user_data / "User" / "settings.json"

    def write_settings(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.settings_file.write_text(json.dumps({**QUIET_SETTINGS, **settings}, indent=2))

    def install_extension(self, vsix: Path) -> None:
        done = subprocess.run(
            [str(self.binary), "--user-data-dir", str(self.user_data), "--extensions-dir",
             str(self.extensions), "--install-extension", str(vsix)],
            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, check=False)
        assert done.returncode == 0 and "successfully installed" in done.stdout, (
            done.stdout + done.stderr)

    def start(self, env: dict[str, str]) -> None:
        config = self.home / "config.yaml"
        config.write_text("")
        log = (self.home / "code-server.log").open("wb")
        self.process = subprocess.Popen(
            [str(self.binary), "--config", str(config), "--auth", "none",
             "--bind-addr", f"127.0.0.1:{self.port}", "--disable-workspace-trust",
             "--disable-telemetry", "--disable-update-check", "--user-data-dir",
             str(self.user_data), "--extensions-dir", str(self.extensions)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            start_new_session=True)
        wait_until("code-server to answer /healthz", self._healthy, timeout=60)

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError("code-server exited:\n" + self.log_text())
        with suppress(OSError), urllib.request.urlopen(self.url + "/healthz", timeout=2) as answer:
            return bool(answer.status == 200)
        return False

    def log_text(self) -> str:
        path = self.home / "code-server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def output_log(self, channel: str) -> str:
        """What the extension wrote to one of its output channels (VS Code keeps them in files
        under the user-data logs folder); "" before it wrote anything."""
        texts = []
        for path in sorted((self.user_data / "logs").rglob("*.log")):
            if path.name.endswith(f"{channel}.log") or path.name == f"{channel}.log":
                texts.append(path.read_text(errors="replace"))
        return "\n".join(texts)

    def stop(self) -> None:
        if self.process is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, 15)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, 9)
            self.process.wait(5)
        self.process = None


def build_vsix(vscode_dir: Path, out: Path) -> Path:
    """`npm ci` (when node_modules is missing), then `vsce package`, as a user builds it."""
    npm, npx = shutil.which("npm"), shutil.which("npx")
    assert npm and npx, "npm and npx are needed to package the extension"
    if not (vscode_dir / "node_modules").is_dir():
        _run([npm, "ci", "--no-audit", "--no-fund"], vscode_dir, 300)
    _run([npx, "@vscode/vsce", "package", "--out", str(out)], vscode_dir, 180)
    return out


def _run(cmd: list[str], cwd: Path, timeout: float) -> None:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, check=False)
    assert done.returncode == 0, f"{' '.join(cmd)}:\n{done.stdout}{done.stderr}"


def plain(text: str) -> str:
    """Editor DOM text as typed: VS Code renders spaces as no-break spaces."""
    return text.replace("\xa0", " ")


def without_codicons(text: str) -> str:
    return re.sub(r"\s+", " ", plain(text)).strip()
