"""What the actions need to know about each grammar: function and block node types, stub
statements, indentation; and `Source`, a snapshot's text with tree-sitter ⇄ line/index mapping.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import overload

from tree_sitter import Node, Tree

from spark_lsp.documents.store import DocumentSnapshot
from spark_lsp.documents.text import line_body

Loc = tuple[int, int]  # (row, python index into the line)


@dataclass(frozen=True)
class LanguageRules:
    """One grammar's facts, as the actions use them."""

    functions: frozenset[str]
    containers: frozenset[str]  # classes, impls, modules: definitions that hold functions
    indent_unit: str
    braces: bool
    stub: re.Pattern[str]  # a whole statement that stands for "not written yet"
    comment: str = "//"


_C_LIKE_FUNCTIONS = frozenset({"function_definition", "method_declaration",
                               "constructor_declaration", "lambda_expression"})

RULES: dict[str, LanguageRules] = {
    "python": LanguageRules(
        functions=frozenset({"function_definition"}),
        containers=frozenset({"class_definition", "decorated_definition"}),
        indent_unit="    ",
        braces=False,
        stub=re.compile(r"pass|\.\.\.|raise\s+NotImplementedError\b.*", re.S),
        comment="#",
    ),
    "typescript": LanguageRules(
        functions=frozenset({"function_declaration", "function_expression", "arrow_function",
                             "method_definition", "generator_function_declaration",
                             "generator_function"}),
        containers=frozenset({"class_declaration", "abstract_class_declaration", "class",
                              "internal_module", "module", "export_statement"}),
        indent_unit="  ",
        braces=True,
        stub=re.compile(r"throw\s+new\s+Error\s*\(\s*(['\"`]).*?(not\s+implemented|todo)"
                        r".*\)\s*;?", re.S | re.I),
    ),
    "go": LanguageRules(
        functions=frozenset({"function_declaration", "method_declaration", "func_literal"}),
        containers=frozenset(),
        indent_unit="\t",
        braces=True,
        stub=re.compile(r"panic\s*\(\s*(['\"`]).*?(not\s+implemented|todo|unimplemented)"
                        r".*\)", re.S | re.I),
    ),
    "rust": LanguageRules(
        functions=frozenset({"function_item"}),
        containers=frozenset({"impl_item", "trait_item", "mod_item"}),
        indent_unit="    ",
        braces=True,
        stub=re.compile(r"(todo|unimplemented)!\s*[\(\[\{].*[\)\]\}]\s*;?|"
                        r"panic!\s*\(\s*\".*?(not\s+implemented|todo).*\)\s*;?", re.S | re.I),
    ),
    "java": LanguageRules(
        functions=_C_LIKE_FUNCTIONS,
        containers=frozenset({"class_declaration", "interface_declaration", "enum_declaration"}),
        indent_unit="    ",
        braces=True,
        stub=re.compile(r"throw\s+new\s+(UnsupportedOperationException|RuntimeException)\s*"
                        r"\((\s*\".*?(not\s+implemented|todo).*)?\)\s*;", re.S | re.I),
    ),
    "c": LanguageRules(
        functions=frozenset({"function_definition"}),
        containers=frozenset(),
        indent_unit="    ",
        braces=True,
        stub=re.compile(r"(?!)"),
    ),
}
RULES["javascript"] = RULES["typescript"]
RULES["tsx"] = RULES["typescript"]
RULES["cpp"] = LanguageRules(
    functions=frozenset({"function_definition", "lambda_expression"}),
    containers=frozenset({"class_specifier", "struct_specifier", "namespace_definition"}),
    indent_unit="    ",
    braces=True,
    stub=re.compile(r"throw\s+std::(logic_error|runtime_error)\s*\(\s*\".*?"
                    r"(not\s+implemented|todo).*\)\s*;", re.S | re.I),
)

COMMENT_TYPES = frozenset({"comment", "line_comment", "block_comment"})
# Statement wrappers whose only child is the interesting expression.
_WRAPPERS = frozenset({"expression_statement", "statement_list"})


def rules_for(language: str | None) -> LanguageRules | None:
    return RULES.get(language) if language else None


def indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


class Lines(Sequence[str]):
    """A snapshot's lines without their line ends, stripped on access (listing actions must not
    cost a pass over the whole file)."""

    def __init__(self, raw: tuple[str, ...]) -> None:
        self._raw = raw

    def __len__(self) -> int:
        return len(self._raw)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [line_body(line) for line in self._raw[index]]
        return line_body(self._raw[index])


class Source:
    """A snapshot's text for the actions: node text, and tree-sitter points as (row, index)."""

    def __init__(self, snapshot: DocumentSnapshot) -> None:
        self.snapshot = snapshot
        self.lines = Lines(snapshot.lines)
        self.language = snapshot.language
        self.rules = rules_for(snapshot.language)

    @cached_property
    def full_text(self) -> str:
        return self.snapshot.text

    @cached_property
    def data(self) -> bytes:
        return self.full_text.encode("utf-8")

    def text(self, node: Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def loc(self, row: int, byte_column: int) -> Loc:
        line = self.lines[row] if row < len(self.lines) else ""
        if line.isascii():
            return row, min(byte_column, len(line))
        return row, len(line.encode("utf-8")[:byte_column].decode("utf-8", "ignore"))

    def start(self, node: Node) -> Loc:
        return self.loc(node.start_point.row, node.start_point.column)

    def end(self, node: Node) -> Loc:
        return self.loc(node.end_point.row, node.end_point.column)

    def byte_column(self, row: int, index: int) -> int:
        line = self.lines[row] if row < len(self.lines) else ""
        return len(line[:index].encode("utf-8"))

    def covering(self, tree: Tree, first: int, last: int) -> Node:
        """A node under which every node that starts on rows first..last is found."""
        last = min(last, len(self.lines) - 1)
        start = (first, self.byte_column(first, len(indent_of(self.lines[first]))))
        end = (last, self.byte_column(last, len(self.lines[last].rstrip())))
        node = tree.root_node.descendant_for_point_range(start, end) or tree.root_node
        # Nodes that start on these rows may enclose the smallest one (`pass_statement` around
        # `pass`): start from the outermost of them.
        while node.parent is not None and node.parent.start_point.row >= first:
            node = node.parent
        return node

    def indent(self, row: int) -> str:
        return indent_of(self.lines[row]) if 0 <= row < len(self.lines) else ""

    @cached_property
    def indent_unit(self) -> str:
        """The file's indentation step (tab, or the most common step in spaces), else the
        language's convention."""
        default = self.rules.indent_unit if self.rules else "    "
        tabs = spaces = 0
        steps: Counter[int] = Counter()
        previous = 0
        for line in self.lines[:400]:  # a slice: only these lines are stripped
            if not line.strip():
                continue
            ind = indent_of(line)
            if ind.startswith("\t"):
                tabs += 1
                continue
            width = len(ind)
            if width:
                spaces += 1
            if width > previous:
                steps[width - previous] += 1
            previous = width
        if tabs > spaces:
            return "\t"
        if not steps:
            return default
        step = steps.most_common(1)[0][0]
        return " " * step if 1 < step <= 8 else default


def walk(node: Node) -> Iterator[Node]:
    """Every node under (and including) `node`, in document order."""
    cursor = node.walk()
    while True:
        current = cursor.node
        assert current is not None
        yield current
        if cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent() or cursor.node == node:
                return


def ancestors(node: Node) -> Iterator[Node]:
    current: Node | None = node
    while current is not None:
        yield current
        current = current.parent


def function_body(node: Node) -> Node | None:
    body = node.child_by_field_name("body")
    if body is None:
        return None
    return body


def function_name(node: Node, src: Source) -> str | None:
    """The function's own name, or the name it is bound to (`const f = () => …`)."""
    name = node.child_by_field_name("name")
    if name is None and node.type == "function_definition" and src.language in ("c", "cpp"):
        declarator = node.child_by_field_name("declarator")
        while declarator is not None and declarator.child_by_field_name("declarator") is not None:
            declarator = declarator.child_by_field_name("declarator")
        name = declarator
    if name is None and node.parent is not None and node.parent.type in (
        "variable_declarator", "pair", "assignment_expression", "public_field_definition"
    ):
        name = node.parent.child_by_field_name("name") or node.parent.child_by_field_name("left") \
            or node.parent.child_by_field_name("key")
    return src.text(name) if name is not None else None


def is_comment(node: Node) -> bool:
    return node.type in COMMENT_TYPES


def unwrap(node: Node) -> Node:
    """The statement's single meaningful child (`expression_statement` → its expression)."""
    while node.type in _WRAPPERS and node.named_child_count == 1:
        child = node.named_children[0]
        assert child is not None
        node = child
    return node


def is_docstring(node: Node) -> bool:
    inner = unwrap(node)
    return node.type == "expression_statement" and inner.type in ("string", "concatenated_string")


def is_stub_statement(node: Node, src: Source) -> bool:
    """A statement that stands in for code not written yet (`pass`, `todo!()`, …)."""
    if src.rules is None:
        return False
    text = src.text(node).strip()
    return bool(src.rules.stub.fullmatch(text))


def body_statements(body: Node) -> list[Node]:
    """The statements of a block, through Go's `statement_list`, comments left out."""
    out: list[Node] = []
    for child in body.named_children:
        if child is None or is_comment(child):
            continue
        if child.type == "statement_list":
            out.extend(c for c in child.named_children if c is not None and not is_comment(c))
        else:
            out.append(child)
    return out
