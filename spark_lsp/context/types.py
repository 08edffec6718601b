"""What the context stage hands to the prompt stage: the text around the cursor, labelled
snippets."""

from __future__ import annotations

from dataclasses import dataclass

from spark_lsp.model_request import Snippet


@dataclass(frozen=True)
class PromptContext:
    """The smallest prompt material that still carries what the completion needs.

    `prefix`/`suffix` are the cursor's surroundings (already trimmed to the budget);
    `snippets` are labelled pieces from elsewhere (signatures, imports, other files),
    highest priority first.
    """

    path: str
    language: str | None
    comment: str
    prefix: str
    suffix: str
    snippets: tuple[Snippet, ...] = ()
    prompt_tokens: int = 0
