"""Plain data the completion stage passes along: the job it prepared and the suggestion it made."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from spark_lsp.context.types import PromptContext
from spark_lsp.documents.store import DocumentSnapshot

Mode = Literal["line", "block"]


@dataclass(frozen=True)
class CompletionJob:
    """Everything a completion needs, fixed before the first await."""

    snapshot: DocumentSnapshot
    line: int
    index: int  # python index into the line (not UTF-16)
    character: int  # the UTF-16 column the editor sent (after clamping)
    context: PromptContext
    mode: Mode
    line_prefix: str
    line_suffix: str


@dataclass(frozen=True)
class Suggestion:
    """Text to insert at the cursor, replacing `replace_end_character` - `character` units after it."""

    text: str
    line: int
    character: int
    replace_end_character: int
    source: Literal["model", "cache"] = "model"
