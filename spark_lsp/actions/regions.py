"""The lines an action works on (the selection, else the enclosing definition) and the holes of a
skeleton inside them: TODO/FIXME comments, stub statements, empty bodies, `${placeholders}`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tree_sitter import Node, Tree

from spark_lsp.actions import syntax
from spark_lsp.actions.detect import BLOCK_TYPES, function_at, node_at
from spark_lsp.actions.syntax import Loc, Source, indent_of
from spark_lsp.actions.targets import FillTarget, Hole, Region

_TODO = re.compile(r"\b(TODO|FIXME|XXX)\b")
_PLACEHOLDER = re.compile(r"\$\{[^{}\n]{0,80}\}")
_STATEMENT_PARENTS = BLOCK_TYPES | frozenset({
    "statement_list", "module", "program", "source_file", "declaration_list", "class_body",
    "translation_unit", "expression_statement",
})
_ELLIPSIS_PARENTS = frozenset({"expression_statement", "assignment", "return_statement",
                               "default_parameter", "typed_default_parameter", "keyword_argument"})


def nodes_in_rows(tree: Tree, src: Source, first: int, last: int) -> Iterator[Node]:
    """Every node that starts within rows first..last, descending only where they overlap."""
    stack = [src.covering(tree, first, last)]
    while stack:
        node = stack.pop()
        if node.end_point.row < first or node.start_point.row > last:
            continue
        if node.start_point.row >= first:
            yield node
        stack.extend(c for c in reversed(node.children) if c is not None)


def _region(src: Source, first: int, last: int, label: str) -> Region:
    lines = src.lines[first : last + 1]
    indents = [indent_of(line) for line in lines if line.strip()]
    indent = min(indents, key=len) if indents else ""
    return Region(first=first, last=last, text="\n".join(lines), indent=indent, label=label)


def selection_region(src: Source, start: Loc, end: Loc) -> Region | None:
    """Whole lines of a non-empty selection (one ending at column 0 stops the line before)."""
    if start == end:
        return None
    (first, _), (last, last_index) = sorted((start, end))
    if last > first and last_index == 0:
        last -= 1
    last = min(last, len(src.lines) - 1)
    if not any(line.strip() for line in src.lines[first : last + 1]):
        return None
    label = f"line {first + 1}" if first == last else f"lines {first + 1}-{last + 1}"
    return _region(src, first, last, label)


def _definition_label(node: Node, src: Source) -> str:
    name = syntax.function_name(node, src)
    if name is None:
        return f"lines {node.start_point.row + 1}-{node.end_point.row + 1}"
    kind = "function" if src.rules and node.type in src.rules.functions else "definition"
    return f"{kind} `{name}`"


def _trailing_comment_rows(src: Source, first: int, last: int) -> int:
    """The last row of an indented definition's body, counting the comment lines that follow it
    deeper indented (tree-sitter leaves a block's trailing comments outside the definition)."""
    if src.rules is None or src.rules.braces:
        return last
    base = len(indent_of(src.lines[first]))
    row, found = last + 1, last
    while row < len(src.lines):
        line = src.lines[row]
        if line.strip():
            if len(indent_of(line)) <= base or not line.strip().startswith(src.rules.comment):
                break
            found = row
        row += 1
    return found


def _node_region(node: Node, src: Source) -> Region:
    outer = node
    while outer.parent is not None and outer.parent.type in ("decorated_definition",
                                                            "export_statement"):
        outer = outer.parent
    first = outer.start_point.row
    last = _trailing_comment_rows(src, first, outer.end_point.row)
    return _region(src, first, last, _definition_label(node, src))


def definition_regions(tree: Tree, src: Source, loc: Loc) -> list[Region]:
    """Candidate regions around a cursor, innermost first: function, container, top-level node."""
    if src.rules is None:
        return []
    regions: list[Region] = []
    fn = function_at(tree, src, loc)
    if fn is not None:
        regions.append(_node_region(fn, src))
    start = node_at(tree, src, loc)
    for node in syntax.ancestors(start):
        if node.type in src.rules.containers and node.type not in ("decorated_definition",
                                                                   "export_statement"):
            regions.append(_node_region(node, src))
            break
    top = start
    while top.parent is not None and top.parent.parent is not None:
        top = top.parent
    if top.parent is not None:
        region = _node_region(top, src)
        if all(r.first != region.first or r.last != region.last for r in regions):
            regions.append(region)
    return regions


def _inside_string(node: Node) -> bool:
    return any("string" in n.type or n.type == "template_substitution"
               for n in syntax.ancestors(node))


def _is_stub_node(node: Node, src: Source) -> bool:
    parent = node.parent
    if parent is None or not node.is_named or syntax.is_comment(node):
        return False
    if node.type == "ellipsis":
        return parent.type in _ELLIPSIS_PARENTS
    if node.type == "pass_statement" and parent.parent is not None and \
            parent.parent.type == "except_clause":
        return False  # `except ...: pass` is deliberate
    if node.type == "macro_invocation" or parent.type in _STATEMENT_PARENTS:
        return node.type != "expression_statement" and syntax.is_stub_statement(node, src)
    return False


def _empty_body(node: Node, src: Source) -> bool:
    if src.rules is None or not src.rules.braces or node.type not in src.rules.functions:
        return False
    body = syntax.function_body(node)
    return body is not None and body.type in BLOCK_TYPES and body.named_child_count == 0


def find_holes(tree: Tree, src: Source, region: Region) -> tuple[Hole, ...]:
    holes: dict[tuple[int, int], Hole] = {}

    def add(start: Loc, end: Loc, kind: str) -> None:
        text = src.lines[start[0]][start[1]:] if end[0] != start[0] else \
            src.lines[start[0]][start[1]:end[1]]
        holes.setdefault(start, Hole(start[0], start[1], end[1] if end[0] == start[0]
                                     else len(src.lines[start[0]]), text, kind))  # type: ignore[arg-type]

    for node in nodes_in_rows(tree, src, region.first, region.last):
        if syntax.is_comment(node) and _TODO.search(src.text(node)):
            add(src.start(node), src.end(node), "todo")
        elif _is_stub_node(node, src):
            add(src.start(node), src.end(node), "stub")
        elif _empty_body(node, src):
            body = syntax.function_body(node)
            assert body is not None
            add(src.start(body), src.end(body), "empty")
    for row in range(region.first, region.last + 1):
        for match in _PLACEHOLDER.finditer(src.lines[row]):
            at = node_at(tree, src, (row, match.start() + 1))
            if not _inside_string(at):
                add((row, match.start()), (row, match.end()), "placeholder")
    return tuple(sorted(holes.values(), key=lambda h: (h.row, h.start)))


def fill_target(tree: Tree, src: Source, start: Loc, end: Loc) -> FillTarget | None:
    """The skeleton to fill: the selection, else the innermost definition that has holes."""
    if src.rules is None or src.language is None:
        return None
    selected = selection_region(src, start, end)
    candidates = [selected] if selected is not None else definition_regions(tree, src, start)
    for region in candidates:
        holes = find_holes(tree, src, region)
        if holes:
            return FillTarget(src.language, region, holes, src.indent_unit)
    return None
