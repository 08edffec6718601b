"""Generate function: the request for a stub's body (or a missing function), and the edit that puts
the model's answer in place at the right indentation.
"""

from __future__ import annotations

import dataclasses
import re

from tree_sitter import Node

from spark_lsp.actions import syntax
from spark_lsp.actions.clean import reindent
from spark_lsp.actions.continuation import body_stops
from spark_lsp.actions.edits import TextChange, apply, newline_of, offset, render
from spark_lsp.actions.shape import (
    AnswerError,
    Expect,
    check_code,
    comment_of,
    defines,
    line_limit,
    pick_code,
)
from spark_lsp.actions.targets import GenerateTarget, Loc
from spark_lsp.actions.validate import parse
from spark_lsp.completion.stops import StreamWrapper
from spark_lsp.context.builder import build_context
from spark_lsp.context.types import PromptContext
from spark_lsp.context.view import ContextView
from spark_lsp.documents.store import DocumentSnapshot
from spark_lsp.documents.text import split_lines
from spark_lsp.model_request import ModelRequest, PromptStyle
from spark_lsp.prompts.actions import action_request, create_function_prompt, generate_body_prompt
from spark_lsp.prompts.build import completion_request
from spark_lsp.settings import ModelSettings, Settings

__all__ = ["AnswerError", "action_context", "change_for_answer", "fim_stops", "request"]


def action_context(snapshot: DocumentSnapshot, loc: Loc, settings: Settings,
                   context: ContextView | None = None) -> PromptContext:
    """The prompt context around `loc`, with the context engine's view of the document when
    given (workspace index, outlines, the fast model's tokenizer)."""
    return build_context(snapshot, loc[0], loc[1], settings.context, engine=context)


def _holed(target: GenerateTarget, snapshot: DocumentSnapshot) -> tuple[DocumentSnapshot, Loc]:
    """The document with the stub's body emptied, and where the body's first line starts."""
    p = target.placement
    opening = p.lead + ("" if p.inline_first else p.indent)
    text = apply(snapshot, TextChange(p.start, p.end, opening + p.trail))
    head = split_lines(text[: offset(snapshot, p.start) + len(opening)])
    cursor = (len(head) - 1, len(head[-1]))
    language = snapshot.language
    holed = dataclasses.replace(snapshot, lines=tuple(split_lines(text)),
                                tree=parse(language, text) if language else None)
    return holed, cursor


def completion_shaped(style: PromptStyle, settings: Settings) -> bool:
    """Whether an action asks the model to continue the code (completion-style and FIM models)
    rather than to follow an instruction (chat models), as `actions.prompt_shape` says."""
    shape = settings.actions.prompt_shape
    return style != "chat" if shape == "auto" else shape == "completion"


def task_lines(target: GenerateTarget) -> int:
    return max(1, target.function_text.count("\n") + 1) if target.task == "body" else 4


def fim_stops(target: GenerateTarget, continues_line: bool = True) -> list[StreamWrapper]:
    """Where a continued body ends: the end of its block, a line cap, a repeated line."""
    return body_stops(target.placement.indent, target.braces, line_limit(task_lines(target)),
                      continues_line=continues_line)


def request(target: GenerateTarget, snapshot: DocumentSnapshot, settings: Settings,
            style: PromptStyle, model: ModelSettings, context: ContextView | None = None
            ) -> tuple[ModelRequest, bool]:
    """The model request, and whether it is a fill-in-the-middle one (answer = the bare body)."""
    max_tokens = settings.actions.max_tokens
    if target.task == "body" and completion_shaped(style, settings):
        holed, cursor = _holed(target, snapshot)
        ctx = action_context(holed, cursor, settings, context)
        return completion_request(ctx, style, model, stop=(), max_tokens=max_tokens), True
    ctx = action_context(snapshot, target.anchor, settings, context)
    path = snapshot.path or snapshot.uri
    if target.task == "body":
        prompt = generate_body_prompt(target.name, target.language, path, target.function_text,
                                      target.docstring, target.call_sites, ctx)
    else:
        prompt = create_function_prompt(target.name, target.language, path, target.call_sites,
                                        ctx)
    return action_request(prompt, style, model, max_tokens), False


def _functions_named(root: Node, name: str, language: str, text: bytes) -> list[Node]:
    rules = syntax.rules_for(language)
    if rules is None:
        return []
    found = []
    for node in syntax.walk(root):
        if node.type in rules.functions:
            name_node = node.child_by_field_name("name")
            if name_node is None and node.parent is not None:
                name_node = node.parent.child_by_field_name("name")
            if name_node is not None and \
                    text[name_node.start_byte : name_node.end_byte].decode() == name:
                found.append(node)
    return found


def _line_start(data: bytes, byte: int) -> int:
    return data.rfind(b"\n", 0, byte) + 1


def _body_from_function(fn: Node, data: bytes, language: str, drop_docstring: bool) -> str | None:
    body = syntax.function_body(fn)
    if body is None:
        return None
    if language == "python":
        children = [c for c in body.named_children if c is not None]
        if drop_docstring and children and syntax.is_docstring(children[0]):
            children = children[1:]
        if not children:
            return ""
        start = _line_start(data, children[0].start_byte)
        if data[start : children[0].start_byte].strip():
            start = children[0].start_byte  # a one-line `def f(): return x`
        return data[start : body.end_byte].decode("utf-8", "replace")
    inner = data[body.start_byte + 1 : body.end_byte - 1].decode("utf-8", "replace")
    return inner.strip("\n").rstrip()


_SIGNATURE_END = {True: "{", False: ":"}


def _strip_signature_by_text(code: str, name: str, braces: bool) -> str:
    lines = code.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None or not re.search(rf"\b{re.escape(name)}\s*[(<]", lines[first]):
        return code
    end = next((i for i in range(first, min(first + 8, len(lines)))
                if lines[i].rstrip().endswith(_SIGNATURE_END[braces])), None)
    if end is None:
        return code
    body = lines[end + 1 :]
    if braces and body and body[-1].strip() == "}":
        body = body[:-1]
    return "\n".join(body)


def body_of_answer(target: GenerateTarget, code: str, keeps_docstring: bool) -> str:
    """The function body in an answer that may be the whole function or just its body."""
    data = code.encode("utf-8")
    tree = parse(target.language, code)
    if tree.root_node.has_error:
        # Keep what the model wrote; the check of the edited file will judge it.
        return _strip_signature_by_text(code, target.name, target.braces)
    for fn in _functions_named(tree.root_node, target.name, target.language, data):
        body = _body_from_function(fn, data, target.language, keeps_docstring)
        if body is not None:
            return body
    return _strip_signature_by_text(code, target.name, target.braces)


def _keeps_docstring(target: GenerateTarget) -> bool:
    return target.language == "python" and ('"""' in target.function_text
                                            or "'''" in target.function_text)


def fim_body(code: str, indent: str, braces: bool) -> str:
    """A fill-in-the-middle answer up to the end of the body: the first line that dedents past
    the body (indented languages) or the brace that closes the function."""
    kept: list[str] = []
    depth = 0
    for line in code.split("\n"):
        if braces:
            for i, ch in enumerate(line):
                depth += 1 if ch == "{" else -1 if ch == "}" else 0
                if depth < 0:
                    return "\n".join([*kept, line[:i]]).rstrip()
        elif line.strip() and len(line) - len(line.lstrip(" \t")) < len(indent):
            break
        kept.append(line)
    return "\n".join(kept).rstrip()


def expectation(target: GenerateTarget, snapshot: DocumentSnapshot) -> Expect:
    return Expect(target.language, target.name, task_lines(target), snapshot.text,
                  target.rows, comment_of(target.language))


def _still_a_stub(body: str, language: str) -> bool:
    rules = syntax.rules_for(language)
    if rules is None:
        return False
    lines = [line.strip() for line in body.split("\n") if line.strip()]
    code = [line for line in lines if not line.startswith(rules.comment)]
    return len(code) == 1 and rules.stub.fullmatch(code[0]) is not None


def change_for_answer(target: GenerateTarget, raw: str, snapshot: DocumentSnapshot,
                      fim: bool = False) -> TextChange:
    """The edit for a model answer; raises AnswerError when the answer holds no usable code."""
    code = pick_code(raw, target.language, target.name)
    if fim:
        code = fim_body(target.placement.indent + code.lstrip(" \t"), target.placement.indent,
                        target.braces) if code else code
    if not code.strip():
        raise AnswerError("the model's answer has no code")
    check_code(code, expectation(target, snapshot))
    if fim and defines(code, target.language, target.name):
        raise AnswerError(f"the answer defines `{target.name}` again inside its body")
    placement = target.placement
    if target.task == "create":
        tree = parse(target.language, code)
        named = _functions_named(tree.root_node, target.name, target.language,
                                 code.encode("utf-8"))
        if not named and not re.search(rf"\b{re.escape(target.name)}\b", code):
            raise AnswerError(f"the answer does not define `{target.name}`")
        lines = reindent(code, placement.indent, target.indent_unit)
        return render(placement, lines, newline_of(snapshot))
    body = code if fim else body_of_answer(target, code, _keeps_docstring(target))
    if not body.strip():
        raise AnswerError(f"the answer has no body for `{target.name}`")
    if _still_a_stub(body, target.language):
        raise AnswerError(f"the answer leaves `{target.name}` a stub")
    lines = reindent(body, placement.indent, target.indent_unit)
    kept = [line for line in placement.kept if line.strip() and line.strip() not in body]
    if kept:
        lines = [placement.indent + k if k.strip() else "" for k in kept] + lines
    return render(placement, lines, newline_of(snapshot))
