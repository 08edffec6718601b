"""What one action asks the model, and how the answers become one change: the requests (one, or one
per hole for a completion-style Fill) with their stop conditions and budget, then the change.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from spark_lsp.actions import fill, fill_fim, generate, stronger
from spark_lsp.actions.continuation import own_indentation, stop_after_fence
from spark_lsp.actions.edits import TextChange
from spark_lsp.actions.kinds import ActionData
from spark_lsp.actions.retry import LONGER_BUDGET, longer, with_note
from spark_lsp.actions.targets import FillTarget, GenerateTarget, StrongerTarget
from spark_lsp.completion.stops import StreamWrapper
from spark_lsp.context.view import ContextView
from spark_lsp.documents.store import DocumentSnapshot
from spark_lsp.model_request import ModelRequest
from spark_lsp.models.router import Route
from spark_lsp.settings import Settings

Target = GenerateTarget | FillTarget | StrongerTarget


@dataclass(frozen=True)
class Step:
    request: ModelRequest
    stops: tuple[StreamWrapper, ...] = ()


@dataclass(frozen=True)
class Plan:
    """The model calls of one action, in order; `deadline_ms` bounds them all together."""

    steps: tuple[Step, ...]
    deadline_ms: int
    fim: bool = False  # a Generate answer that is the bare body
    spans: tuple[fill_fim.Span, ...] = ()  # a completion-style Fill: the span of each step


def plan(data: ActionData, target: Target, snapshot: DocumentSnapshot, settings: Settings,
         route: Route, context: ContextView | None = None) -> Plan:
    """The requests for the target on this route (raises AnswerError when there can be none);
    `context`: the context engine's view of the document."""
    style, model = route.backend.prompt_style, route.settings
    deadline_ms = settings.actions.timeout_ms
    fim = False
    spans: tuple[fill_fim.Span, ...] = ()
    if isinstance(target, GenerateTarget):
        request, fim = generate.request(target, snapshot, settings, style, model, context)
        trimmed = False
        if fim:
            request, trimmed = own_indentation(request)
        stops = tuple(generate.fim_stops(target, not trimmed)) if fim else ()
        steps = [Step(request, stops)]
    elif isinstance(target, FillTarget) and generate.completion_shaped(style, settings):
        asks = fill_fim.asks(target, snapshot, settings, style, model, context)
        steps = [Step(a.request, a.stops) for a in asks]
        spans = tuple(a.span for a in asks)
    elif isinstance(target, FillTarget):
        steps = [Step(fill.request(target, snapshot, settings, style, model, context))]
    else:
        steps = [Step(stronger.request(target, snapshot, settings, style, model, context))]
    if style != "chat" and not fim and not spans:
        # An instruction to a completion-style model: its first fenced block is the answer.
        steps = [dataclasses.replace(s, stops=(*s.stops, stop_after_fence)) for s in steps]
    if data.tier == "strong":
        steps = [dataclasses.replace(s, request=with_note(s.request, data.note)) for s in steps]
        if route.fell_back:  # no strong tier: the same one, with a longer budget
            steps = [dataclasses.replace(s, request=longer(s.request)) for s in steps]
            deadline_ms *= LONGER_BUDGET
    return Plan(tuple(steps), deadline_ms, fim, spans)


def change(target: Target, raws: list[str], plan: Plan,
           snapshot: DocumentSnapshot) -> TextChange:
    """The change the answers make (raises AnswerError saying why there is none)."""
    if isinstance(target, GenerateTarget):
        return generate.change_for_answer(target, raws[0], snapshot, fim=plan.fim)
    if isinstance(target, FillTarget) and plan.spans:
        return fill_fim.change_for_answers(target, list(zip(plan.spans, raws, strict=True)),
                                           snapshot)
    if isinstance(target, FillTarget):
        return fill.change_for_answer(target, raws[0], snapshot)
    return stronger.change_for_answer(target, raws[0], snapshot)
