"""Fill template: one request that sees every hole of the skeleton, and the edit that replaces the
skeleton with the filled code.
"""

from __future__ import annotations

import re

from spark_lsp.actions.clean import extract_code, reindent
from spark_lsp.actions.edits import TextChange, newline_of, render
from spark_lsp.actions.generate import AnswerError, action_context
from spark_lsp.actions.syntax import indent_of
from spark_lsp.actions.targets import FillTarget, Hole, Placement, Region
from spark_lsp.documents.store import DocumentSnapshot
from spark_lsp.documents.text import line_body
from spark_lsp.models.base import ModelRequest, PromptStyle
from spark_lsp.prompts.actions import action_request, fill_prompt
from spark_lsp.settings import ModelSettings, Settings


def hole_list(target: FillTarget) -> list[str]:
    return [f"line {h.row + 1}: {h.text.strip()}" for h in target.holes]


def request(target: FillTarget, snapshot: DocumentSnapshot, settings: Settings,
            style: PromptStyle, model: ModelSettings) -> ModelRequest:
    region = target.region
    ctx = action_context(snapshot, (region.first, 0), settings)
    prompt = fill_prompt(target.language, snapshot.path or snapshot.uri, region.text,
                         hole_list(target), region.label, ctx)
    return action_request(prompt, style, model, settings.actions.max_tokens)


def region_placement(region: Region, snapshot: DocumentSnapshot) -> Placement:
    last = line_body(snapshot.lines[region.last])
    return Placement((region.first, 0), (region.last, len(last)), region.indent)


def _defined_name(label: str) -> str | None:
    match = re.search(r"`([^`]+)`", label)
    return match.group(1) if match else None


def _mentions(code: str, name: str) -> bool:
    return re.search(rf"(?<![\w$]){re.escape(name)}(?![\w$])", code) is not None


def rewrite_change(region: Region, raw: str, language: str, unit: str,
                   snapshot: DocumentSnapshot) -> TextChange:
    """The edit that replaces the region's lines with the code of the answer."""
    code = extract_code(raw, language)
    if not code.strip():
        raise AnswerError("the model's answer has no code")
    name = _defined_name(region.label)
    if name and not _mentions(code, name):
        raise AnswerError(f"the answer is not the whole of {region.label} (it lost `{name}`)")
    lines = reindent(code, region.indent, unit)
    return render(region_placement(region, snapshot), lines, newline_of(snapshot))


def hole_change(hole: Hole, code: str, unit: str, snapshot: DocumentSnapshot) -> TextChange:
    """The edit that puts an answer for one hole where the hole is."""
    indent = indent_of(line_body(snapshot.lines[hole.row]))
    placement = Placement((hole.row, hole.start), (hole.row, hole.end), indent,
                          inline_first=True)
    return render(placement, reindent(code, indent, unit), newline_of(snapshot))


def change_for_answer(target: FillTarget, raw: str, snapshot: DocumentSnapshot) -> TextChange:
    """The whole skeleton filled; or, for a single hole, an answer that is only that hole's code."""
    code = extract_code(raw, target.language)
    name = _defined_name(target.region.label)
    if len(target.holes) == 1 and code.strip() and name and not _mentions(code, name):
        return hole_change(target.holes[0], code, target.indent_unit, snapshot)
    return rewrite_change(target.region, raw, target.language, target.indent_unit, snapshot)
