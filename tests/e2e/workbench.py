"""What a person does and sees in the VS Code workbench page, through Playwright: open a file,
move the cursor, type, read the lines, the ghost text, the suggest widget, the status bar, the
palette and the notifications. DOM class names are VS Code 1.100's."""

from __future__ import annotations

from typing import Any

from tests.e2e.codeserver import plain, wait_until, without_codicons

STATUS_ITEM = '[id="spark-lsp.spark-lsp.spark.status"]'
EDITOR = ".editor-group-container.active .monaco-editor"

# The active editor's lines in order (by their `top`), without ghost-text decorations.
_LINES_JS = """(editor) => {
  const lines = [...editor.querySelectorAll('.view-lines .view-line')];
  lines.sort((a, b) => parseInt(a.style.top) - parseInt(b.style.top));
  return lines.map((line) => {
    const copy = line.cloneNode(true);
    copy.querySelectorAll('.ghost-text-decoration, .ghost-text-decoration-preview, .ghost-text')
      .forEach((e) => e.remove());
    return copy.textContent;
  });
}"""


class Workbench:
    """One page of code-server, opened on a folder."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def open(self, url: str, folder: str) -> None:
        self.page.goto(f"{url}/?folder={folder}")
        self.page.wait_for_selector(".monaco-workbench", timeout=90_000)
        self.page.wait_for_selector(".part.statusbar", timeout=60_000)

    # -- the editor ------------------------------------------------------------------------

    def open_file(self, name: str) -> None:
        self.page.keyboard.press("Control+P")
        self.page.wait_for_selector(".quick-input-widget .quick-input-box input", timeout=15_000)
        self.page.keyboard.type(name)
        self.page.wait_for_selector(
            f'.quick-input-widget .monaco-list-row[aria-label*="{name}"]', timeout=15_000)
        self.page.keyboard.press("Enter")
        self.page.wait_for_selector(f'.tab.active[aria-label*="{name}"]', timeout=15_000)
        self.page.wait_for_selector(f"{EDITOR} .view-lines", timeout=15_000)
        self.page.locator(f"{EDITOR} .view-lines").click()

    def go_to(self, line: int, column: int) -> None:
        """Put the cursor at a 1-based line and column (Go to Line/Column)."""
        self.page.keyboard.press("Control+G")
        self.page.wait_for_selector(".quick-input-widget .quick-input-box input", timeout=15_000)
        self.page.keyboard.type(f"{line}:{column}")
        self.page.keyboard.press("Enter")
        wait_until(f"the cursor at {line}:{column}",
                   lambda: f"Ln {line}, Col {column}" in self.status_bar_text(), timeout=10)

    def type(self, text: str, delay_ms: float = 0) -> None:
        self.page.keyboard.type(text, delay=delay_ms)

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

    def lines(self) -> list[str]:
        editor = self.page.locator(EDITOR).first
        return [plain(x) for x in editor.evaluate(_LINES_JS)]

    def line(self, number: int) -> str:
        lines = self.lines()
        return lines[number - 1] if number <= len(lines) else ""

    def ghost_text(self) -> str:
        texts = self.page.eval_on_selector_all(
            f"{EDITOR} .ghost-text-decoration, {EDITOR} .ghost-text",
            "els => els.map(e => e.textContent)")
        return plain("".join(texts))

    def suggest_rows(self) -> list[str]:
        """The entries of the suggest widget, when it is on show."""
        return [plain(x) for x in self.page.eval_on_selector_all(
            ".suggest-widget.visible .monaco-list-row", "els => els.map(e => e.textContent)")]

    # -- the workbench around it -------------------------------------------------------------

    def status_bar_text(self) -> str:
        return without_codicons(self.page.locator(".part.statusbar").inner_text())

    def status_item(self) -> tuple[str, str]:
        """The spark status item's (text, accessible label = its tooltip); ("", "") if absent."""
        item = self.page.locator(STATUS_ITEM)
        if item.count() == 0:
            return "", ""
        return without_codicons(item.first.inner_text()), item.first.get_attribute(
            "aria-label") or ""

    def palette(self, query: str) -> list[str]:
        """The command palette's entries for `query` (the palette is left open)."""
        self.page.keyboard.press("F1")
        self.page.wait_for_selector(".quick-input-widget .quick-input-box input", timeout=15_000)
        self.page.keyboard.type(query)
        self.page.wait_for_selector(".quick-input-widget .monaco-list-row", timeout=15_000)
        self.page.wait_for_timeout(300)  # the list settles after the filter
        return [without_codicons(x) for x in self.page.eval_on_selector_all(
            ".quick-input-widget .monaco-list-row .label-name",
            "els => els.map(e => e.textContent)")]

    def run_command(self, title: str) -> None:
        """Run a palette command by its full title (`Spark: Fill template`)."""
        titles = self.palette(title)
        assert title in titles, titles
        row = self.page.locator(".quick-input-widget .monaco-list-row", has_text=title).first
        row.click()

    def toasts(self) -> list[str]:
        return [without_codicons(x) for x in self.page.eval_on_selector_all(
            ".notifications-toasts .notification-toast .notification-list-item-message",
            "els => els.map(e => e.textContent)")]

    def toast_buttons(self) -> list[str]:
        """The buttons of the notifications on show ("Retry with stronger model", …)."""
        return [without_codicons(x).strip() for x in self.page.eval_on_selector_all(
            ".notifications-toasts .notification-toast .monaco-button",
            "els => els.map(e => e.textContent)")]

    def screenshot(self, path: str) -> None:
        self.page.screenshot(path=path)
