"""Fill template: one request that sees every hole of the skeleton, and the edit that replaces the
skeleton with the filled code.
"""

from __future__ import annotations

import re

from spark_lsp.actions.bodies import body_rows
from spark_lsp.actions.clean import reindent
from spark_lsp.actions.edits import TextChange, newline_of, render
from spark_lsp.actions.generate import action_context
from spark_lsp.actions.shape import AnswerError, Expect, check_code, comment_of, defines, pick_code
from spark_lsp.actions.syntax import indent_of
from spark_lsp.actions.targets import FillTarget, Hole, Placement, Region
from spark_lsp.context.view import ContextView
from spark_lsp.documents.store import DocumentSnapshot
from spark_lsp.documents.text import line_body
from spark_lsp.model_request import ModelRequest, PromptStyle
from spark_lsp.prompts.actions import action_request, fill_prompt
from spark_lsp.settings import ModelSettings, Settings


def hole_list(target: FillTarget) -> list[str]:
    return [f"line {h.row + 1}: {h.text.strip()}" for h in target.holes]


def request(target: FillTarget, snapshot: DocumentSnapshot, settings: Settings,
            style: PromptStyle, model: ModelSettings, context: ContextView | None = None
            ) -> ModelRequest:
    region = target.region
    ctx = action_context(snapshot, (region.first, 0), settings, context)
    prompt = fill_prompt(target.language, snapshot.path or snapshot.uri, region.text,
                         hole_list(target), region.label, ctx)
    return action_request(prompt, style, model, settings.actions.max_tokens)


def region_placement(region: Region, snapshot: DocumentSnapshot) -> Placement:
    last = line_body(snapshot.lines[region.last])
    return Placement((region.first, 0), (region.last, len(last)), region.indent)


def _defined_name(label: str) -> str | None:
    match = re.search(r"`([^`]+)`", label)
    return match.group(1) if match else None


def expectation(region: Region, language: str, snapshot: DocumentSnapshot) -> Expect:
    return Expect(language, _defined_name(region.label), region.last - region.first + 1,
                  snapshot.text, (region.first, region.last), comment_of(language))


def answer_code(region: Region, raw: str, language: str, snapshot: DocumentSnapshot) -> str:
    """The answer's code for the region, checked for its shape (raises AnswerError)."""
    code = pick_code(raw, language, _defined_name(region.label))
    if not code.strip():
        raise AnswerError("the model's answer has no code")
    check_code(code, expectation(region, language, snapshot))
    return code


def _is_whole(code: str, name: str, language: str) -> bool:
    """Whether the code is the whole definition (signature included), not only its body."""
    if defines(code, language, name):
        return True
    first = next((line for line in code.split("\n") if line.strip()), "").strip()
    word = re.escape(name)
    if re.search(rf"\b(def|function|fn|func)\b.*(?<![\w$.]){word}\s*[(<]", first):
        return True
    # A method (`get(key: string): number {`) or a const-bound function (`const f = (…) =>`).
    return bool(re.match(rf"(?:(?:public|private|protected|static|async|export|const|let|"
                         rf"var)\s+)*{word}\s*(?:[(<]|=\s*(?:async\s*)?\()", first)) \
        and first.endswith(("{", "=>", "=> {"))


def rewrite_change(region: Region, raw: str, language: str, unit: str,
                   snapshot: DocumentSnapshot, code: str | None = None) -> TextChange:
    """The edit that replaces the region's lines with the code of the answer: the whole
    definition, or (for a function) only its new body."""
    code = code if code is not None else answer_code(region, raw, language, snapshot)
    name = _defined_name(region.label)
    if name and not _is_whole(code, name, language):
        return body_change(region, code, name, unit, snapshot)
    lines = reindent(code, region.indent, unit)
    return render(region_placement(region, snapshot), lines, newline_of(snapshot))


def _drop_docstring(code: str) -> str:
    lines = code.split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip()), 0)
    head = lines[start].strip() if lines else ""
    quote = head[:3]
    if quote not in ('"""', "'''"):
        return code
    if len(head) >= 6 and head.endswith(quote):
        return "\n".join(lines[start + 1 :])
    end = next((i for i in range(start + 1, len(lines)) if quote in lines[i]), None)
    return code if end is None else "\n".join(lines[end + 1 :])


def body_change(region: Region, code: str, name: str, unit: str,
                snapshot: DocumentSnapshot) -> TextChange:
    """The edit that replaces a function's body (after its signature and docstring)."""
    rows = body_rows(region, snapshot)
    if rows is None:
        raise AnswerError(f"the answer is neither the whole of {region.label} nor its body "
                          f"(it lost `{name}`)")
    if rows.has_docstring:
        code = _drop_docstring(code)
    stripped = code.strip()
    if stripped.startswith("{") and stripped.endswith("}"):
        code = stripped[1:-1].strip("\n")
    if not code.strip():
        raise AnswerError(f"the answer has no body for `{name}`")
    last = line_body(snapshot.lines[rows.last])
    placement = Placement((rows.first, 0), (rows.last, len(last)), rows.indent)
    return render(placement, reindent(code, rows.indent, unit), newline_of(snapshot))


def hole_change(hole: Hole, code: str, unit: str, snapshot: DocumentSnapshot) -> TextChange:
    """The edit that puts an answer for one hole where the hole is."""
    indent = indent_of(line_body(snapshot.lines[hole.row]))
    placement = Placement((hole.row, hole.start), (hole.row, hole.end), indent,
                          inline_first=True)
    return render(placement, reindent(code, indent, unit), newline_of(snapshot))


def _surrounding(target: FillTarget, snapshot: DocumentSnapshot) -> set[str]:
    """The region's own code lines that are not holes (what a whole new body repeats)."""
    hole_rows = {h.row for h in target.holes}
    rows = body_rows(target.region, snapshot)
    first = rows.first if rows is not None else target.region.first + 1
    return {line_body(snapshot.lines[row]).strip() for row in range(first, target.region.last + 1)
            if row not in hole_rows and len(line_body(snapshot.lines[row]).strip()) >= 4}


def change_for_answer(target: FillTarget, raw: str, snapshot: DocumentSnapshot) -> TextChange:
    """The whole skeleton filled, or only its new body; or, for a single hole, an answer that is
    only that hole's code."""
    region = target.region
    code = answer_code(region, raw, target.language, snapshot)
    name = _defined_name(region.label)
    if len(target.holes) == 1 and name and not _is_whole(code, name, target.language):
        around = _surrounding(target, snapshot)
        if not any(line.strip() in around for line in code.split("\n")):
            return hole_change(target.holes[0], code, target.indent_unit, snapshot)
    return rewrite_change(region, raw, target.language, target.indent_unit, snapshot, code)
