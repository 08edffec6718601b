"""Assemble the prompt context for a cursor: the lines around it, packed into the token budget."""

from __future__ import annotations

from spark_lsp.context.tokens import TokenCounter, estimate_tokens
from spark_lsp.context.types import PromptContext
from spark_lsp.documents.store import DocumentSnapshot
from spark_lsp.settings import ContextSettings
from spark_lsp.syntax.languages import comment_prefix


def build_context(
    snapshot: DocumentSnapshot,
    line: int,
    index: int,
    settings: ContextSettings,
    count_tokens: TokenCounter = estimate_tokens,
) -> PromptContext:
    """Prefix and suffix windows around (line, python index), ¾ of the budget to the prefix."""
    budget = settings.max_prompt_tokens
    current = snapshot.lines[line]
    head, tail = current[:index], current[index:]
    prefix_parts = [head]
    used = count_tokens(head)
    row = line - 1
    while row >= 0:
        cost = count_tokens(snapshot.lines[row])
        if used + cost > budget * 3 // 4:
            break
        prefix_parts.append(snapshot.lines[row])
        used += cost
        row -= 1
    suffix_parts = [tail]
    used += count_tokens(tail)
    row = line + 1
    while row < len(snapshot.lines):
        cost = count_tokens(snapshot.lines[row])
        if used + cost > budget:
            break
        suffix_parts.append(snapshot.lines[row])
        used += cost
        row += 1
    return PromptContext(
        path=snapshot.path or snapshot.uri,
        language=snapshot.language,
        comment=comment_prefix(snapshot.language, snapshot.language_id),
        prefix="".join(reversed(prefix_parts)),
        suffix="".join(suffix_parts),
        prompt_tokens=used,
    )
