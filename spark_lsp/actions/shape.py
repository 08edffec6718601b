"""Judge the shape of a model's code before it becomes an edit: pick the block meant for the target,
and refuse code that is degenerate, mostly comments, far too long, defines other top-level names
or repeats the file. (Whether the edited file parses is `validate.check`.)
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass

from tree_sitter import Node

from spark_lsp.actions import syntax
from spark_lsp.actions.clean import extract_code, fenced_blocks
from spark_lsp.actions.validate import parse


class AnswerError(ValueError):
    """A model answer that cannot become an edit; the message says why (shown to the user)."""


_DEFINITIONS = frozenset({
    "function_definition", "class_definition", "decorated_definition",
    "function_declaration", "class_declaration", "generator_function_declaration",
    "abstract_class_declaration", "interface_declaration", "type_alias_declaration",
    "enum_declaration", "method_declaration", "type_declaration",
    "function_item", "struct_item", "enum_item", "impl_item", "trait_item", "mod_item",
})
_BLOCK_COMMENT_LINE = re.compile(r"^\s*(/\*|\*|\*/)")
MIN_LONG_LINES = 40  # an answer this long is never "too long" by itself
LONG_FACTOR = 8  # ... else at most this many times the target's lines


@dataclass(frozen=True)
class Expect:
    """What an answer is for: the target's name (None for a selection), its size, the file."""

    language: str
    name: str | None
    task_lines: int
    document: str
    region: tuple[int, int]  # rows of the target in the document, inclusive
    comment: str = "#"


def _substantial(line: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= 4 and any(ch.isalnum() for ch in stripped)


def is_comment_line(line: str, comment: str) -> bool:
    stripped = line.strip()
    return stripped.startswith(comment) or bool(_BLOCK_COMMENT_LINE.match(stripped))


def definition_name(node: Node, data: bytes) -> str | None:
    """The name a top-level definition binds (through decorators and `export`)."""
    inner = node
    while inner.type in ("decorated_definition", "export_statement"):
        child = inner.child_by_field_name("definition") or inner.child_by_field_name(
            "declaration") or (inner.named_children[-1] if inner.named_children else None)
        if child is None:
            return None
        inner = child
    if inner.type == "type_declaration" and inner.named_children:
        first = inner.named_children[0]
        inner = first if first is not None else inner
    name = inner.child_by_field_name("name")
    if name is None and inner.type == "impl_item":
        name = inner.child_by_field_name("type")
    return data[name.start_byte : name.end_byte].decode("utf-8", "replace") if name else None


def top_level_names(code: str, language: str) -> list[str]:
    """Names defined at the top level of `code` (functions, classes, types), in order."""
    data = code.encode("utf-8")
    names = []
    for node in parse(language, code).root_node.named_children:
        if node is not None and (node.type in _DEFINITIONS or node.type == "export_statement"):
            name = definition_name(node, data)
            if name is not None:
                names.append(name)
    return names


def defines(code: str, language: str, name: str) -> bool:
    return name in top_level_names(code, language)


def pick_code(raw: str, language: str, name: str | None) -> str:
    """The code of the answer meant for the target: among several fenced blocks the one that
    defines `name` (else the one that mentions it), else `extract_code`'s choice."""
    blocks = [code for _, code in fenced_blocks(raw.replace("\r\n", "\n"))]
    if name and len(blocks) > 1:
        word = re.compile(rf"(?<![\w$]){re.escape(name)}(?![\w$])")
        defining = [b for b in blocks if defines(b, language, name)]
        mentioning = [b for b in blocks if word.search(b)]
        chosen = defining or mentioning
        if chosen:
            return extract_code(f"```\n{max(chosen, key=len)}\n```", language)
    return extract_code(raw, language)


def _degenerate(lines: list[str]) -> str | None:
    stripped = [line.strip() for line in lines if _substantial(line)]
    if len(stripped) < 4:
        return None
    line, count = Counter(stripped).most_common(1)[0]
    if count >= 4 and count * 3 >= len(stripped):
        return f"it repeats one line {count} times ({line[:40]!r})"
    pairs = Counter(itertools.pairwise(stripped))
    (first, _), twice = pairs.most_common(1)[0]
    if twice >= 4 and twice * 3 >= len(stripped):
        return f"it repeats a block {twice} times (from {first[:40]!r})"
    return None


def _comments(lines: list[str], comment: str) -> str | None:
    body = [line for line in lines if line.strip()]
    notes = sum(1 for line in body if is_comment_line(line, comment))
    if body and notes == len(body):
        return "it is only comments, no code"
    if notes >= 3 and notes * 2 > len(body):
        return f"it is mostly comments ({notes} of {len(body)} lines)"
    return None


def _outside_lines(expect: Expect) -> set[str]:
    lines = expect.document.split("\n")
    first, last = expect.region
    return {line.strip() for row, line in enumerate(lines)
            if not first <= row <= last and _substantial(line) and len(line.strip()) >= 10}


def _repeats_file(lines: list[str], expect: Expect) -> str | None:
    outside = _outside_lines(expect)
    body = [line.strip() for line in lines if line.strip()]
    repeated = {line for line in body if line in outside}
    if len(repeated) >= 3 and len(repeated) * 10 >= len(body) * 3:
        return f"it repeats {len(repeated)} lines of the file outside the target"
    return None


def _other_names(code: str, expect: Expect) -> str | None:
    if expect.name is None:
        return None
    names = top_level_names(code, expect.language)
    if expect.name not in names:
        return None  # only a body: its own definitions are local to it
    others = [n for n in dict.fromkeys(names) if n != expect.name]
    if not others:
        return None
    shown = ", ".join(f"`{n}`" for n in others[:3])
    in_file = set(top_level_names(expect.document, expect.language))
    clash = [n for n in others if n in in_file]
    why = " (it would shadow the one in the file)" if clash else ", which the task did not ask for"
    return f"it also defines {shown}{why}"


def check_code(code: str, expect: Expect) -> None:
    """Raise AnswerError saying why `code` must not become an edit (None when it may)."""
    lines = code.split("\n")
    count = sum(1 for line in lines if line.strip())
    for problem in (_degenerate(lines), _comments(lines, expect.comment)):
        if problem:
            raise AnswerError(f"the answer is degenerate: {problem}"
                              if "repeats" in problem else f"the answer is junk: {problem}")
    limit = max(MIN_LONG_LINES, LONG_FACTOR * expect.task_lines)
    if count > limit:
        raise AnswerError(f"the answer is {count} lines long, far longer than the task "
                          f"({expect.task_lines} lines) warrants")
    repeated = _repeats_file(lines, expect)
    if repeated:
        raise AnswerError(f"the answer repeats the file: {repeated}")
    other = _other_names(code, expect)
    if other:
        raise AnswerError(f"the answer {other}")


def line_limit(task_lines: int) -> int:
    """The most lines an answer for a target of this size may have."""
    return max(MIN_LONG_LINES, LONG_FACTOR * task_lines)


def comment_of(language: str) -> str:
    rules = syntax.rules_for(language)
    return rules.comment if rules is not None else "#"
