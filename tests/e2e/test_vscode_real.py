"""The extension in a real VS Code: the packaged .vsix installed into code-server 4.100.3 (VS Code
1.100.3), a workspace opened in headless Chromium, a person's keystrokes against a loopback
model, and what the page shows: ghost text and Tab, the suggest widget, the status item, the
palette commands, a code action's edit, the output channel, a missing server.

Needs code-server from `.ci/code-server.sh` (CI installs it; elsewhere the test is skipped, or
fails with SPARK_LSP_REQUIRE_VSCODE=1), Playwright for Python and Debian's chromium. A failing
test leaves a screenshot in `.e2e-artifacts/` at the repository root.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.codeserver import CHROMIUM, CHROMIUM_ARGS, CodeServer, build_vsix, code_server_binary
from tests.e2e.codeserver import wait_until as until
from tests.e2e.lsp import find_program
from tests.e2e.workbench import Workbench
from tests.fakemodel import FakeModelServer

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / ".e2e-artifacts"
REPLY = "return a + b"
CODE_SERVER = code_server_binary()
REQUIRED = os.environ.get("SPARK_LSP_REQUIRE_VSCODE") == "1"


def _missing() -> str | None:
    if CODE_SERVER is None:
        return "code-server is not installed (.ci/code-server.sh)"
    if not Path(CHROMIUM).exists():
        return "Debian's chromium is not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (the test extra)"
    return None


MISSING = _missing()
if MISSING and REQUIRED:
    raise RuntimeError(f"SPARK_LSP_REQUIRE_VSCODE=1 but {MISSING}")
pytestmark = [pytest.mark.skipif(MISSING is not None, reason=MISSING or ""),
              pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def model() -> Iterator[FakeModelServer]:
    with FakeModelServer(reply=REPLY) as fake:
        yield fake


@pytest.fixture(scope="module")
def code_server(tmp_path_factory: pytest.TempPathFactory, model: FakeModelServer
                ) -> Iterator[CodeServer]:
    assert CODE_SERVER is not None
    home = tmp_path_factory.mktemp("code-server")
    server = CodeServer(CODE_SERVER, home)
    server.install_extension(build_vsix(REPO / "editors" / "vscode", home / "spark.vsix"))
    workspace = server.workspace
    workspace.mkdir()
    (workspace / "add.py").write_text("def add(a, b):\n   \n")
    (workspace / "stub.py").write_text("def add(a, b):\n    pass\n")
    (workspace / "slow.py").write_text("def mul(a, b):\n   \n")
    (workspace / "todo.py").write_text("def area(w, h):\n    # TODO: the area\n    pass\n")
    spark_lsp = find_program("spark-lsp")
    assert spark_lsp, "spark-lsp is not installed (pip install -e .)"
    server.write_settings({
        "spark.server.path": spark_lsp,
        "spark.fast.provider": "ollama",
        "spark.fast.url": model.url,
        "spark.fast.model": "test",
        "spark.completion.debounceMs": 0,
        "spark.trace.server": "messages",
    })
    server.start({**os.environ, "XDG_CONFIG_HOME": str(home / "xdg")})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser_page(code_server: CodeServer) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(30_000)
        bench = Workbench(page)
        bench.open(code_server.url, str(code_server.workspace))
        yield bench
        browser.close()


@pytest.fixture
def vscode(browser_page: Workbench, request: pytest.FixtureRequest) -> Iterator[Workbench]:
    """The workbench; a failing test leaves a screenshot in .e2e-artifacts/."""
    yield browser_page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / f"{request.node.name}.png"
        browser_page.screenshot(str(shot))
        print(f"screenshot: {shot}")
    browser_page.press("Escape")


def test_ghost_text_appears_and_tab_inserts_it(vscode: Workbench) -> None:
    vscode.open_file("add.py")
    until("spark-lsp running", lambda: "is running" in vscode.status_item()[1], timeout=60)
    vscode.go_to(2, 4)
    vscode.type(" ")
    until(f"ghost text {REPLY!r}", lambda: vscode.ghost_text() == REPLY, timeout=30)
    # The suggestion is not also an item of the suggest widget.
    assert not any(REPLY in row for row in vscode.suggest_rows()), vscode.suggest_rows()
    # The status item says how the suggestion on show was made.
    text, label = vscode.status_item()
    assert re.fullmatch(r"fast \d+ ms", text), text
    assert "answered by test" in label, label
    assert "served from cache" not in label and " 0 ms" not in label, label
    vscode.press("Tab")
    until("the accepted line", lambda: vscode.line(2) == "    " + REPLY, timeout=10)


def test_the_suggest_widget_has_no_spark_item(vscode: Workbench) -> None:
    vscode.open_file("add.py")
    vscode.go_to(2, 17)
    vscode.press("Enter")
    vscode.press("Control+Space")
    vscode.page.wait_for_timeout(1500)  # time for a spark item to arrive, were there one
    rows = vscode.suggest_rows()
    assert not any("spark-lsp" in row or REPLY in row for row in rows), rows
    vscode.press("Escape")
    vscode.press("Control+Z")


def test_a_slow_model_still_shows_its_ghost_text(vscode: Workbench, model: FakeModelServer
                                                 ) -> None:
    """Slower than the 800 ms completion-item deadline: no suggest widget gets in the way."""
    model.first_chunk_delay = 1.2
    try:
        vscode.open_file("slow.py")
        vscode.go_to(2, 4)
        vscode.type(" ")
        until(f"ghost text {REPLY!r}", lambda: vscode.ghost_text() == REPLY, timeout=30)
        assert vscode.suggest_rows() == []
    finally:
        model.first_chunk_delay = 0.0


def test_the_palette_has_the_spark_commands(vscode: Workbench) -> None:
    titles = vscode.palette("Spark:")
    for title in ("Spark: Generate function", "Spark: Fill template", "Spark: Ask stronger model",
                  "Spark: Restart server", "Spark: Show output"):
        assert title in titles, titles
    vscode.press("Escape")


def test_fill_template_from_the_palette_applies_its_edit(vscode: Workbench) -> None:
    vscode.open_file("stub.py")
    vscode.go_to(2, 6)
    vscode.run_command("Spark: Fill template")
    until("the filled body", lambda: vscode.line(2) == "    " + REPLY, timeout=30)
    assert vscode.line(1) == "def add(a, b):"


def test_a_slow_action_shows_progress_and_its_refusal_offers_the_retry(
        vscode: Workbench, model: FakeModelServer) -> None:
    """While the model works, VS Code shows the action's progress; an answer that would be junk
    (the same comment line over and over) is refused with a "Retry with stronger model" button."""
    model.reply, model.first_chunk_delay = "    # Add your code here\n" * 60, 3.0
    try:
        vscode.open_file("todo.py")
        vscode.go_to(2, 8)
        vscode.run_command("Spark: Fill template")
        until("the action's progress in the status bar",
              lambda: "Fill template" in vscode.status_bar_text(), timeout=30)
        until("the refusal's retry button",
              lambda: "Retry with stronger model" in vscode.toast_buttons(), timeout=60)
        assert any("not applied" in t for t in vscode.toasts()), vscode.toasts()
        assert vscode.line(3) == "    pass"  # nothing was applied
    finally:
        model.reply, model.first_chunk_delay = REPLY, 0.0


def test_the_output_channel_has_each_line_once_and_no_errors(
    vscode: Workbench, code_server: CodeServer
) -> None:
    log = until("the spark-lsp output channel", lambda: code_server.output_log("spark-lsp"))
    lines = [line.split("] ", 2)[-1] for line in log.splitlines() if line.strip()]
    assert "[error]" not in log, log
    assert "Cancel notification for unknown message id" not in log, log
    repeated = [line for line in set(lines) if lines.count(line) > 1 and "indexed" in line]
    assert repeated == [], log
    trace = until("the trace channel", lambda: code_server.output_log("spark-lsp trace"))
    assert "Sending request 'initialize" in trace, trace


def test_a_missing_server_gives_one_message_and_an_error_status(
    vscode: Workbench, code_server: CodeServer
) -> None:
    folder_settings = code_server.workspace / ".vscode" / "settings.json"
    folder_settings.parent.mkdir(exist_ok=True)
    folder_settings.write_text('{"spark.server.path": "/nowhere/spark-lsp"}')
    try:
        until("the status item to say the server is missing",
              lambda: "not found" in vscode.status_item()[1], timeout=30)
        text, _ = vscode.status_item()
        assert text == "spark", text
        vscode.page.wait_for_timeout(1500)  # a second toast would be here by now
        toasts = [t for t in vscode.toasts() if "spark" in t.lower()]
        assert len(toasts) == 1, toasts
        assert "/nowhere/spark-lsp" in toasts[0], toasts
    finally:
        folder_settings.write_text("{}")
    until("the server running again", lambda: "is running" in vscode.status_item()[1],
          timeout=60)
