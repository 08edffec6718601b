"""Fill template for completion-style models: each hole is continued in place (a TODO comment stays
in the prompt as the instruction, the code after the hole as the suffix), last hole first, and
the filled holes become one edit of the skeleton.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from spark_lsp.actions import syntax
from spark_lsp.actions.clean import reindent
from spark_lsp.actions.continuation import body_stops, own_indentation
from spark_lsp.actions.edits import TextChange, newline_of, render
from spark_lsp.actions.fill import expectation, region_placement
from spark_lsp.actions.generate import action_context
from spark_lsp.actions.shape import AnswerError, check_code, line_limit
from spark_lsp.actions.syntax import indent_of
from spark_lsp.actions.targets import FillTarget
from spark_lsp.actions.validate import parse
from spark_lsp.completion.stops import StreamWrapper
from spark_lsp.context.view import ContextView
from spark_lsp.documents.store import DocumentSnapshot
from spark_lsp.documents.text import line_body, split_lines
from spark_lsp.model_request import ModelRequest, PromptStyle
from spark_lsp.prompts.build import completion_request
from spark_lsp.settings import ModelSettings, Settings

MAX_HOLES = 4  # each hole is one model call


@dataclass(frozen=True)
class Span:
    """Rows `first`..`last` that one answer replaces; a TODO comment on `first` is the
    instruction (kept in the prompt, replaced in the edit)."""

    first: int
    last: int
    indent: str
    instruction: bool


@dataclass(frozen=True)
class Ask:
    """One model call for one span, with where its answer ends."""

    span: Span
    request: ModelRequest
    stops: tuple[StreamWrapper, ...]


def spans(target: FillTarget, snapshot: DocumentSnapshot) -> list[Span]:
    """The holes as whole-line spans, a TODO comment merged with the stub line right after it;
    bottom-up. Raises AnswerError for a hole that shares its line with other code."""
    out: list[Span] = []
    for hole in target.holes:
        line = line_body(snapshot.lines[hole.row])
        if line[: hole.start].strip() or line[hole.end :].strip():
            if hole.kind == "todo":
                continue  # `x = 0  # TODO …`: the comment is a note about code that is there
            raise AnswerError("a hole shares its line with other code; a completion model "
                              "fills whole lines only")
        if out and out[-1].instruction and out[-1].last + 1 == hole.row and hole.kind != "todo":
            out[-1] = dataclasses.replace(out[-1], last=hole.row)
            continue
        out.append(Span(hole.row, hole.row, indent_of(line), hole.kind == "todo"))
    if not out:
        raise AnswerError("the template has no hole on a line of its own")
    if len(out) > MAX_HOLES:
        raise AnswerError(f"the template has {len(out)} holes; a completion model fills at "
                          f"most {MAX_HOLES} (select fewer)")
    return out[::-1]


def _next_code_line(snapshot: DocumentSnapshot, row: int) -> str:
    for r in range(row + 1, min(row + 20, len(snapshot.lines))):
        text = line_body(snapshot.lines[r])
        if text.strip():
            return text
    return ""


def _holed(snapshot: DocumentSnapshot, span: Span) -> tuple[DocumentSnapshot, tuple[int, int]]:
    """The document with the span emptied (its TODO comment kept) and the cursor at the
    span's indentation on a line of its own."""
    lines = [line_body(line) for line in snapshot.lines]
    newline = newline_of(snapshot)
    keep = [lines[span.first]] if span.instruction else []
    middle = [*keep, span.indent]
    text = newline.join(lines[: span.first] + middle + lines[span.last + 1 :])
    row = span.first + len(keep)
    language = snapshot.language
    holed = dataclasses.replace(snapshot, lines=tuple(split_lines(text)),
                                tree=parse(language, text) if language else None)
    return holed, (row, len(span.indent))


def asks(target: FillTarget, snapshot: DocumentSnapshot, settings: Settings,
         style: PromptStyle, model: ModelSettings, context: ContextView | None = None
         ) -> list[Ask]:
    """One completion request per span (bottom-up), each stopped at its block's end."""
    out = []
    limit = line_limit(target.region.last - target.region.first + 1)
    rules = syntax.rules_for(target.language)
    braces = rules.braces if rules is not None else True
    for span in spans(target, snapshot):
        holed, cursor = _holed(snapshot, span)
        ctx = action_context(holed, cursor, settings, context)
        request, trimmed = own_indentation(completion_request(
            ctx, style, model, stop=(), max_tokens=settings.actions.max_tokens))
        wrappers = body_stops(span.indent, braces, limit, _next_code_line(snapshot, span.last),
                              continues_line=not trimmed)
        out.append(Ask(span, request, tuple(wrappers)))
    return out


def change_for_answers(target: FillTarget, answers: list[tuple[Span, str]],
                       snapshot: DocumentSnapshot) -> TextChange:
    """The skeleton with each span replaced by its answer, as one edit of the region."""
    region = target.region
    lines = [line_body(line) for line in snapshot.lines[region.first : region.last + 1]]
    expect = expectation(region, target.language, snapshot)
    for span, raw in sorted(answers, key=lambda a: -a[0].first):
        code = (span.indent + raw.lstrip(" \t")).rstrip() if raw.strip() else ""
        if not code.strip():
            raise AnswerError(f"the model's answer for line {span.first + 1} has no code")
        check_code(code, dataclasses.replace(expect, name=None))
        filled = reindent(code, span.indent, target.indent_unit)
        lines[span.first - region.first : span.last - region.first + 1] = filled
    return render(region_placement(region, snapshot), lines, newline_of(snapshot))
