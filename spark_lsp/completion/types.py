"""Plain data the completion stage passes along: scope, job, suggestion and answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from spark_lsp.context.types import PromptContext
from spark_lsp.context.view import ContextView
from spark_lsp.documents.store import DocumentSnapshot
from spark_lsp.models.router import Route
from spark_lsp.settings import Settings

Mode = Literal["line", "statement", "block"]
"""What a suggestion may cover: the rest of the line, one statement, or the body of a block."""

Source = Literal["model", "cache", "none"]

def word_before(text: str) -> str:
    """The identifier characters at the end of `text` (what an editor filters completions by)."""
    start = len(text)
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    return text[start:]


@dataclass(frozen=True)
class Scope:
    """The syntactic unit a suggestion at the cursor should complete, and its indentation."""

    mode: Mode
    indent: str  # indentation of the line the unit starts on (block: the opener's line)
    indent_unit: str = "    "  # one level of the document's indentation
    opens_at_cursor: bool = False  # block mode, cursor at the end of the opener: text starts "\n"
    # Line mode, the cursor at the end of a line of code: when the model ends the line at once
    # (the statement was done), the suggestion is the next line (see `stops.stop_at_line_end`).
    at_line_end: bool = False
    indent_based: bool = False  # blocks end by dedent (Python), not by a closing bracket


@dataclass(frozen=True)
class CompletionRequest:
    """What a completion request works on, frozen when it starts (on a cache miss): the
    document, the settings, the model route and the context engine's state. The debounce, the
    context and the model call that follow read nothing else."""

    document: DocumentSnapshot
    settings: Settings
    route: Route
    context: ContextView | None = None


@dataclass(frozen=True)
class CompletionJob:
    """Everything a completion needs, fixed before the first await."""

    snapshot: DocumentSnapshot
    line: int
    index: int  # python index into the line (not UTF-16)
    character: int  # the UTF-16 column the editor sent (after clamping)
    context: PromptContext
    scope: Scope
    line_prefix: str
    line_suffix: str

    @property
    def mode(self) -> Mode:
        return self.scope.mode


@dataclass(frozen=True)
class Suggestion:
    """Text to insert at the cursor, replacing the UTF-16 units from `character` to
    `replace_end_character` on its line (none when they are equal)."""

    text: str
    line: int
    character: int
    replace_end_character: int
    source: Literal["model", "cache"] = "model"
    word_prefix: str = ""  # the identifier characters just before the cursor (for filtering)


@dataclass(frozen=True)
class Answer:
    """What one completion request ended with, and what the status bar shows about it."""

    suggestion: Suggestion | None
    source: Source
    model: str = ""
    tier: str = "fast"
    latency_ms: float = 0.0
    superseded: bool = False  # a newer request for the same document took over

    def status(self) -> dict[str, object]:
        """The params of the `spark/status` notification."""
        return {"tier": self.tier, "model": self.model, "latencyMs": round(self.latency_ms, 2),
                "source": self.source}


@dataclass(frozen=True)
class MenuItem:
    """A suggestion as one completion-menu entry (editors without inline completion): it
    replaces the word before the cursor, so the editor's filter matches what was typed."""

    label: str  # short: one line, at most `MAX_LABEL` characters
    filter_text: str
    new_text: str
    line: int
    start_character: int
    end_character: int


MAX_LABEL = 40


def menu_item(suggestion: Suggestion) -> MenuItem:
    word = suggestion.word_prefix
    text = word + suggestion.text
    first = text.strip().split("\n", 1)[0]
    label = first if len(first) <= MAX_LABEL else first[: MAX_LABEL - 1] + "…"
    start = suggestion.character - len(word.encode("utf-16-le")) // 2
    return MenuItem(label=label, filter_text=first[:80], new_text=text, line=suggestion.line,
                    start_character=start, end_character=suggestion.replace_end_character)
