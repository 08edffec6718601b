"""Instruction prompts for chat models: ask for the missing code only, with the context labelled."""

from __future__ import annotations

from spark_lsp.context import layout
from spark_lsp.context.types import PromptContext
from spark_lsp.model_request import Message

CURSOR = "<CURSOR>"

COMPLETION_SYSTEM = (
    "You are a code completion engine inside an editor. Reply with exactly the code that belongs "
    f"at {CURSOR}: no explanation, no markdown fences, no repetition of the code around it."
)


def completion_messages(ctx: PromptContext) -> tuple[str, tuple[Message, ...]]:
    """System text and one user message for an inline completion."""
    blocks = [layout.snippet_block(ctx.comment, s) for s in ctx.snippets]
    context = ("Context from the workspace:\n" + "\n\n".join(blocks) + "\n\n") if blocks else ""
    user = (
        f"{context}File {ctx.path}:\n{ctx.prefix}{CURSOR}{ctx.suffix}\n\n"
        f"Write the code for {CURSOR}."
    )
    return COMPLETION_SYSTEM, (Message("user", user),)
