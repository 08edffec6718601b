"""Ask stronger model: improve / fix / explain a complex piece of code; the edit rewrites it, or
puts the explanation above it as a comment.
"""

from __future__ import annotations

from spark_lsp.actions.clean import fenced_blocks
from spark_lsp.actions.edits import TextChange, newline_of, render
from spark_lsp.actions.fill import rewrite_change
from spark_lsp.actions.generate import AnswerError, action_context
from spark_lsp.actions.syntax import indent_of
from spark_lsp.actions.targets import Placement, StrongerTarget
from spark_lsp.context.view import ContextView
from spark_lsp.documents.store import DocumentSnapshot
from spark_lsp.documents.text import line_body
from spark_lsp.model_request import ModelRequest, PromptStyle
from spark_lsp.prompts.actions import action_request, stronger_prompt
from spark_lsp.settings import ModelSettings, Settings

_BLOCK_COMMENT_EDGES = ("/*", "/**", "*/", '"""', "'''")


def request(target: StrongerTarget, snapshot: DocumentSnapshot, settings: Settings,
            style: PromptStyle, model: ModelSettings, context: ContextView | None = None
            ) -> ModelRequest:
    region = target.region
    ctx = action_context(snapshot, (region.first, 0), settings, context)
    prompt = stronger_prompt(target.task, target.language, snapshot.path or snapshot.uri,
                             region.text, region.label, target.comment, ctx)
    return action_request(prompt, style, model, settings.actions.max_tokens)


def comment_lines(raw: str, comment: str) -> list[str]:
    """An explanation as line comments, whatever form the model gave it in."""
    text = raw.replace("\r\n", "\n").strip()
    blocks = fenced_blocks(text)
    if blocks:
        text = max((code for _, code in blocks), key=len).strip()
    out: list[str] = []
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped in _BLOCK_COMMENT_EDGES:
            continue
        for edge in ("/*", '"""', "'''"):
            stripped = stripped.removeprefix(edge)
        for edge in ("*/", '"""', "'''"):
            stripped = stripped.removesuffix(edge)
        stripped = stripped.strip()
        if stripped.startswith(comment):
            out.append(stripped)
        elif stripped.startswith("*"):
            out.append(f"{comment} {stripped.lstrip('*').strip()}".rstrip())
        else:
            out.append(f"{comment} {stripped}".rstrip() if stripped else comment)
    while out and out[-1] == comment:
        out.pop()
    while out and out[0] == comment:
        out.pop(0)
    return out


def change_for_answer(target: StrongerTarget, raw: str, snapshot: DocumentSnapshot) -> TextChange:
    region = target.region
    if target.task != "explain":
        return rewrite_change(region, raw, target.language, target.indent_unit, snapshot)
    lines = comment_lines(raw, target.comment)
    if not lines:
        raise AnswerError("the model's answer has no explanation")
    indent = indent_of(line_body(snapshot.lines[region.first]))
    start = (region.first, 0)
    placement = Placement(start, start, indent, trail="\n")
    return render(placement, [indent + line for line in lines], newline_of(snapshot))
