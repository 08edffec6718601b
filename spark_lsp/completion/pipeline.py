"""The inline-completion pipeline: snapshot → context → prompt → model stream → clean suggestion."""

from __future__ import annotations

from spark_lsp.completion.postprocess import clean
from spark_lsp.completion.types import CompletionJob, Mode, Suggestion
from spark_lsp.context.builder import build_context
from spark_lsp.context.tokens import TokenCounter, estimate_tokens
from spark_lsp.documents.store import DocumentSnapshot
from spark_lsp.documents.text import index_to_utf16, line_body, utf16_to_index
from spark_lsp.models.base import Backend
from spark_lsp.prompts.build import completion_request
from spark_lsp.settings import Settings


def choose_mode(line_prefix: str, line_suffix: str, setting: str) -> Mode:
    if setting == "never":
        return "line"
    if setting == "always":
        return "block"
    return "line" if line_prefix.strip() else "block"


def prepare(
    snapshot: DocumentSnapshot,
    line: int,
    character: int,
    settings: Settings,
    count_tokens: TokenCounter = estimate_tokens,
) -> CompletionJob:
    """Fix everything the request needs (pure; no I/O). Positions past the end are clamped."""
    line = min(line, len(snapshot.lines) - 1)
    text = snapshot.lines[line]
    index = utf16_to_index(text, character)
    body = line_body(text)
    line_prefix, line_suffix = body[:index], body[index:]
    context = build_context(snapshot, line, index, settings.context, count_tokens)
    return CompletionJob(
        snapshot=snapshot,
        line=line,
        index=index,
        character=index_to_utf16(text, index),
        context=context,
        mode=choose_mode(line_prefix, line_suffix, settings.completion.multiline),
        line_prefix=line_prefix,
        line_suffix=line_suffix,
    )


async def generate(job: CompletionJob, backend: Backend, settings: Settings) -> Suggestion | None:
    """Stream the model's answer and turn it into a suggestion (None when nothing useful)."""
    stop = ("\n",) if job.mode == "line" else ("\n\n\n",)
    request = completion_request(job.context, backend.prompt_style, settings.fast, stop=stop)
    chunks: list[str] = []
    stream = backend.stream(request)
    try:
        async for chunk in stream:
            chunks.append(chunk)
            if job.mode == "line" and "\n" in chunk:
                break
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    text = clean("".join(chunks), job)
    if text is None:
        return None
    return Suggestion(
        text=text,
        line=job.line,
        character=job.character,
        replace_end_character=job.character,
    )
