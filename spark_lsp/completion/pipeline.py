"""The inline-completion pipeline: snapshot → scope + context → prompt → model stream → stop
conditions → post-processing → suggestion. `prepare` reads no file and calls no model (what it
draws on is frozen in the request: `CompletionRequest`); `generate` does the one model call.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools

from spark_lsp.completion import bounds, stops
from spark_lsp.completion.postprocess import postprocess
from spark_lsp.completion.scope import analyse, indent_of
from spark_lsp.completion.syntax_check import SyntaxCheck
from spark_lsp.completion.types import CompletionJob, CompletionRequest, Mode, Suggestion
from spark_lsp.completion.unit import UnitRule
from spark_lsp.context.builder import build_context
from spark_lsp.context.tokens import TokenCounter
from spark_lsp.context.types import PromptContext
from spark_lsp.context.view import ContextView
from spark_lsp.documents.store import DocumentSnapshot
from spark_lsp.documents.text import index_to_utf16, line_body, utf16_to_index
from spark_lsp.model_request import ModelRequest
from spark_lsp.models.base import Backend
from spark_lsp.prompts.build import completion_request
from spark_lsp.settings import Settings


def prepare(
    snapshot: DocumentSnapshot,
    line: int,
    character: int,
    settings: Settings,
    count_tokens: TokenCounter | None = None,
    engine: ContextView | None = None,
) -> CompletionJob:
    """Fix everything the request needs (no I/O). Positions past the end are clamped.

    `engine` (the context engine's view for this request) brings the document's outline, the
    workspace index, the package outlines and the model's tokenizer to the context builder;
    without it the context is the document's alone."""
    line = max(0, min(line, len(snapshot.lines) - 1))
    text = snapshot.lines[line]
    index = utf16_to_index(text, character)
    body = line_body(text)
    context = build_context(snapshot, line, index, settings.context, count_tokens, engine=engine)
    return CompletionJob(
        snapshot=snapshot,
        line=line,
        index=index,
        character=index_to_utf16(text, index),
        context=context,
        scope=analyse(snapshot, line, index, settings.completion.multiline),
        line_prefix=body[:index],
        line_suffix=body[index:],
    )


def prepare_request(request: CompletionRequest, line: int, character: int) -> CompletionJob:
    """`prepare` on what a request froze when it started."""
    return prepare(request.document, line, character, request.settings, engine=request.context)


def model_stops(mode: Mode) -> tuple[str, ...]:
    """Stop sequences for the model server itself (our own stop conditions do the rest)."""
    return ("\n",) if mode == "line" else ()


def next_line(job: CompletionJob) -> str:
    """The document's first non-blank line after the cursor's line."""
    for row in range(job.line + 1, min(job.line + 20, len(job.snapshot.lines))):
        text = job.snapshot.line_text(row)
        if text.strip():
            return text
    return ""


def stop_conditions(job: CompletionJob, request: ModelRequest) -> list[stops.StreamWrapper]:
    """The stream wrappers for this job, in the order they see the model's text."""
    sequences = tuple(s for s in request.stop if s != "\n")
    wrappers: list[stops.StreamWrapper] = [
        # First of all: sanitise, and close a stream that passes the bounds (max_tokens ignored).
        functools.partial(stops.stop_at_bounds, bounds=bounds.INLINE),
        functools.partial(stops.stop_at_sequences, sequences=sequences),
        stops.stop_at_repetition,
    ]
    if job.mode == "line":
        wrappers.append(stops.stop_at_line_end)
        return wrappers
    check = SyntaxCheck(job.snapshot, job.line, job.index) if job.mode == "statement" else None
    wrappers += [
        functools.partial(stops.stop_at_unit_end, rule=UnitRule(job, check)),
        functools.partial(stops.stop_at_existing_line, existing=next_line(job)),
        stops.stop_at_repeated_line,
    ]
    return wrappers


class Progress:
    """The text that made it through the stop conditions so far (read by deadline and early
    answers, which wait for it to grow with `grown`)."""

    def __init__(self) -> None:
        self.chunks: list[str] = []
        self._waiting: list[asyncio.Future[None]] = []

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    def add(self, chunk: str) -> None:
        self.chunks.append(chunk)
        waiting, self._waiting = self._waiting, []
        for future in waiting:
            if not future.done():
                future.set_result(None)

    def grown(self) -> asyncio.Future[None]:
        """A future done when the next chunk arrives."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(future)
        return future


async def _stream_into(progress: Progress, job: CompletionJob, context: PromptContext,
                       backend: Backend, settings: Settings) -> None:
    request = completion_request(context, backend.prompt_style, settings.fast,
                                 stop=model_stops(job.mode))
    stream = stops.apply_stops(backend.stream(request), stop_conditions(job, request))
    async with stops.closing(stream):
        async for chunk in stream:
            progress.add(chunk)


def next_line_context(job: CompletionJob) -> PromptContext:
    """The prompt for the line after the cursor's: its line ended, at its indentation."""
    indent = indent_of(job.snapshot.line_text(job.line))
    return dataclasses.replace(job.context, prefix=job.context.prefix + "\n" + indent)


async def generate(
    job: CompletionJob, backend: Backend, settings: Settings, progress: Progress | None = None
) -> Suggestion | None:
    """Stream the model's answer through the stop conditions and post-process it (None when
    nothing useful is left). The model's stream is closed the moment a condition stops it.

    At the end of a line of code (`Scope.at_line_end`), a model that ends the line at once
    found the statement done: the suggestion is then the next line, asked for with the line
    ended (one more short request; the server's cache has all but its last token). A pause
    after a finished statement shows the next one, as Copilot does, not nothing."""
    progress = progress if progress is not None else Progress()
    await _stream_into(progress, job, job.context, backend, settings)
    if job.scope.at_line_end and not progress.text.strip():
        following = next_line_context(job)
        progress.add(following.prefix[len(job.context.prefix) :])
        await _stream_into(progress, job, following, backend, settings)
    return postprocess(progress.text, job)
