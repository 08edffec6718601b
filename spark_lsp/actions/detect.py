"""Which function to generate at a cursor: a stub (or a signature with only a docstring/comment),
or a call to a function that does not exist yet. Reads the tree only; never calls a model.
"""

from __future__ import annotations

import re

from tree_sitter import Node, Tree

from spark_lsp.actions import syntax
from spark_lsp.actions.syntax import Loc, Source
from spark_lsp.actions.targets import GenerateTarget, Placement
from spark_lsp.actions.undefined import is_undefined, word_occurrences

BLOCK_TYPES = frozenset({"block", "statement_block", "compound_statement", "constructor_body"})
CALL_TYPES = frozenset({"call", "call_expression"})
TOP_LEVEL_WRAPPERS = frozenset({"decorated_definition", "export_statement"})
_NO_BODY_DECORATORS = re.compile(r"@(typing\.)?(overload|abc\.abstractmethod|abstractmethod)\b")
_MAX_CALL_SITES = 6


def node_at(tree: Tree, src: Source, loc: Loc) -> Node:
    """The smallest named node at the cursor; at the end of a line (or before a space) the one
    just left of it, as editors put the cursor after the last character."""
    row, index = loc
    line = src.lines[row] if row < len(src.lines) else ""
    if index > 0 and (index >= len(line) or line[index].isspace()) and line[:index].strip():
        index -= 1
    point = (row, src.byte_column(row, index))
    node = tree.root_node.named_descendant_for_point_range(point, point)
    return node if node is not None else tree.root_node


def _outer(node: Node) -> Node:
    """The function together with its decorators / `export` keyword."""
    parent = node.parent
    if parent is not None and parent.type in TOP_LEVEL_WRAPPERS:
        return parent
    return node


def _inner_function(node: Node, src: Source) -> Node | None:
    """The function a wrapper (decorated definition, export, `const f = …`) stands for."""
    assert src.rules is not None
    if node.type in src.rules.functions:
        return node
    if node.type in TOP_LEVEL_WRAPPERS | {"lexical_declaration", "variable_declaration",
                                           "variable_declarator"}:
        for child in node.named_children:
            if child is not None:
                found = _inner_function(child, src)
                if found is not None:
                    return found
    if node.type == "variable_declarator":
        value = node.child_by_field_name("value")
        return value if value is not None and value.type in src.rules.functions else None
    return None


def _function_below_comment(node: Node, src: Source) -> Node | None:
    """The function that a comment (doc comment, describing comment) sits right above."""
    end_row = node.end_point.row
    sibling = node.next_named_sibling
    while sibling is not None and syntax.is_comment(sibling):
        end_row = sibling.end_point.row
        sibling = sibling.next_named_sibling
    if sibling is None or sibling.start_point.row > end_row + 1:
        return None
    return _inner_function(sibling, src)


def function_at(tree: Tree, src: Source, loc: Loc) -> Node | None:
    """The innermost function at the cursor (or right under the comment the cursor is on)."""
    assert src.rules is not None
    start = node_at(tree, src, loc)
    comment = next((n for n in syntax.ancestors(start) if syntax.is_comment(n)), None)
    if comment is not None:
        below = _function_below_comment(comment, src)
        if below is not None:
            return below
    for node in syntax.ancestors(start):
        found = _inner_function(node, src) if node.type in TOP_LEVEL_WRAPPERS else None
        if node.type in src.rules.functions:
            return node
        if found is not None:
            return found
    return None


def _statements_after_docstring(body: Node, src: Source) -> list[Node]:
    statements = syntax.body_statements(body)
    if src.language == "python" and statements and syntax.is_docstring(statements[0]):
        statements = statements[1:]
    return statements


def _exempt(fn: Node, src: Source) -> bool:
    """Stubs that are meant to stay stubs: overloads, abstract methods, .pyi, empty constructors."""
    if src.language == "python":
        if (src.snapshot.path or "").endswith(".pyi"):
            return True
        outer = _outer(fn)
        return outer is not fn and bool(_NO_BODY_DECORATORS.search(src.text(outer)))
    name = fn.child_by_field_name("name")
    return name is not None and src.text(name) == "constructor"


def is_stub(fn: Node, src: Source) -> bool:
    body = syntax.function_body(fn)
    if body is None or body.type not in BLOCK_TYPES or _exempt(fn, src):
        return False
    return all(syntax.is_stub_statement(s, src) for s in _statements_after_docstring(body, src))


def _comment_lines(node: Node, src: Source) -> list[str]:
    lines = src.text(node).split("\n")
    base = src.indent(node.start_point.row)
    return [lines[0]] + [line[len(base):] if line.startswith(base) else line.lstrip()
                         for line in lines[1:]]


def describing_text(fn: Node, src: Source) -> str:
    """The docstring and comments that describe a function (above it, or inside its stub)."""
    parts: list[str] = []
    outer = _outer(fn)
    above: list[Node] = []
    sibling = outer.prev_named_sibling
    row = outer.start_point.row
    while sibling is not None and syntax.is_comment(sibling) and sibling.end_point.row >= row - 1:
        above.append(sibling)
        row = sibling.start_point.row
        sibling = sibling.prev_named_sibling
    parts.extend("\n".join(_comment_lines(c, src)) for c in reversed(above))
    body = syntax.function_body(fn)
    for node in syntax.walk(fn):
        if syntax.is_comment(node) or (body is not None and node.parent == body
                                        and syntax.is_docstring(node)):
            parts.append("\n".join(_comment_lines(node, src)))
    return "\n".join(parts)


def _call_sites(name: str, src: Source, skip: tuple[int, int]) -> tuple[str, ...]:
    """Lines that call `name` (outside rows `skip`), numbered, at most a few."""
    text = src.full_text
    sites: list[str] = []
    row, counted, last_row = 0, 0, -1
    for start in word_occurrences(text, name):
        if start and text[start - 1] == ".":
            continue
        if not text[start + len(name) : start + len(name) + 40].lstrip(" \t").startswith("("):
            continue
        row += text.count("\n", counted, start)
        counted = start
        if skip[0] <= row <= skip[1] or row == last_row:
            continue
        last_row = row
        sites.append(f"line {row + 1}: {src.lines[row].strip()}")
        if len(sites) >= _MAX_CALL_SITES:
            break
    return tuple(sites)


def _python_placement(fn: Node, body: Node, src: Source, unit: str) -> Placement:
    colon = None
    for child in fn.children:
        if child is not None and child.type == ":" and child.start_byte < body.start_byte:
            colon = child
    children = [c for c in body.named_children if c is not None]
    docstring = children[0] if children and syntax.is_docstring(children[0]) else None
    if colon is not None and body.start_point.row == colon.end_point.row:
        indent = src.indent(fn.start_point.row) + unit
        kept = tuple(_comment_lines(docstring, src)) if docstring is not None else ()
        return Placement(src.end(colon), src.end(body), indent, lead="\n", kept=kept)
    indent = src.indent(body.start_point.row)
    for child in children:
        if child is docstring or syntax.is_comment(child):
            continue
        return Placement(src.start(child), src.end(body), indent, inline_first=True)
    last = children[-1]
    return Placement(src.end(last), src.end(last), indent, lead="\n")


def _brace_placement(body: Node, src: Source, unit: str) -> Placement:
    close_indent = src.indent(body.start_point.row)
    indent = close_indent + unit
    kept: list[str] = []
    first_stub = None
    for node in syntax.walk(body):
        if node == body:
            continue
        if syntax.is_comment(node):
            if first_stub is None or node.start_byte < first_stub:
                kept.extend(_comment_lines(node, src))
        elif first_stub is None and node.is_named and node.type != "statement_list":
            first_stub = node.start_byte
    return Placement(src.start(body), src.end(body), indent, lead="{\n",
                     trail="\n" + close_indent + "}", kept=tuple(kept))


def stub_target(tree: Tree, src: Source, loc: Loc) -> GenerateTarget | None:
    """A 'Generate function' target for the stub at the cursor, if there is one."""
    if src.rules is None or src.language is None:
        return None
    fn = function_at(tree, src, loc)
    if fn is None or not is_stub(fn, src):
        return None
    body = syntax.function_body(fn)
    assert body is not None
    name = syntax.function_name(fn, src) or "anonymous function"
    unit = src.indent_unit
    placement = (_python_placement(fn, body, src, unit) if src.language == "python"
                 else _brace_placement(body, src, unit))
    outer = _outer(fn)
    signature = src.data[outer.start_byte : body.start_byte].decode("utf-8", "replace").rstrip()
    return GenerateTarget(
        task="body",
        name=name,
        language=src.language,
        signature=signature,
        docstring=describing_text(fn, src),
        function_text=src.text(outer),
        call_sites=_call_sites(name, src, (outer.start_point.row, outer.end_point.row)),
        placement=placement,
        anchor=placement.start,
        braces=src.rules.braces,
        indent_unit=unit,
        rows=(outer.start_point.row, outer.end_point.row),
    )


def _undefined_call(tree: Tree, src: Source, loc: Loc) -> tuple[Node, str] | None:
    seen = 0
    for node in syntax.ancestors(node_at(tree, src, loc)):
        if node.type not in CALL_TYPES:
            continue
        seen += 1
        callee = node.child_by_field_name("function")
        if callee is not None and callee.type == "identifier":
            name = src.text(callee)
            if is_undefined(name, src.full_text, src.language, src.snapshot.path):
                return node, name
        if seen >= 3:
            break
    return None


def _top_level(node: Node) -> Node:
    while node.parent is not None and node.parent.parent is not None:
        node = node.parent
    return node


def create_target(tree: Tree, src: Source, loc: Loc) -> GenerateTarget | None:
    """A 'Generate function' target for a call (at the cursor) to a function not written yet."""
    if src.rules is None or src.language is None:
        return None
    found = _undefined_call(tree, src, loc)
    if found is None:
        return None
    call, name = found
    top = _top_level(call)
    blank = "\n\n\n" if src.language == "python" else "\n\n"
    definitions = src.rules.functions | src.rules.containers | TOP_LEVEL_WRAPPERS | {
        "impl_item", "class_definition", "type_declaration"}
    if top.type in definitions or _inner_function(top, src) is not None:
        at = src.end(top)
        placement = Placement(at, at, "", lead=blank)
    else:
        at = (top.start_point.row, 0)
        placement = Placement(at, at, "", trail=blank)
    return GenerateTarget(
        task="create",
        name=name,
        language=src.language,
        signature="",
        docstring="",
        function_text=src.text(top),
        call_sites=_call_sites(name, src, (-1, -1)),
        placement=placement,
        anchor=src.start(call),
        braces=src.rules.braces,
        indent_unit=src.indent_unit,
    )


def generate_targets(tree: Tree, src: Source, loc: Loc) -> list[GenerateTarget]:
    """Every 'Generate function' target at the cursor: the stub there, and the missing callee."""
    return [t for t in (stub_target(tree, src, loc), create_target(tree, src, loc))
            if t is not None]
