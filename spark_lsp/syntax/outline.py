"""Outline of a syntax tree: its definitions (signature, first doc line) and imports, per unit.

A *unit* is a top-level node, or a member of a container (a class, an impl, a namespace…). A
container's unit holds only its header; each member is a unit of its own, so a change inside one
method of a 5,000-line class re-outlines that method, not the class (see `outline_cache`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from tree_sitter import Node, QueryCursor, Tree

from spark_lsp.syntax.queries import query
from spark_lsp.syntax.symbols import CONTAINER_KINDS, Binding, Import, LinesSource, Symbol

MAX_SIGNATURE_ROWS = 8
MAX_SIGNATURE_CHARS = 500
MAX_TYPE_ROWS = 12
MAX_LINE_CHARS = 160
MAX_DOC_CHARS = 120

# Nodes that wrap a definition and belong in its signature (decorators, `export`, `const`, `type`).
_WRAPPERS = frozenset({
    "decorated_definition", "export_statement", "lexical_declaration", "variable_declaration",
    "type_declaration", "const_declaration", "var_declaration", "template_declaration",
    "ambient_declaration", "expression_statement",
})


@dataclass(eq=False)
class Unit:
    """One outlined node. Symbol and import rows are relative to `start_row`; the byte range is
    the node's (a container's ends where its body starts: its members are units of their own)."""

    start_byte: int
    end_byte: int
    start_row: int
    end_row: int
    container: str  # qualified name of the container the unit is a member of, "" at top level
    symbols: tuple[Symbol, ...]
    imports: tuple[Import, ...]
    names: dict[str, int] | None = None  # identifier → uses in the unit (open documents only)
    tail: bool = False  # see FileOutline: positions held as distances from the end


@dataclass(frozen=True)
class _Def:
    node: Node
    kind: str
    name: Node
    body: Node | None
    pattern: int


def _defs(node: Node, language: str, max_depth: int | None = None) -> list[_Def]:
    q = query(language, "definitions")
    if q is None:
        return []
    cursor = QueryCursor(q)
    if max_depth is not None:
        cursor.set_max_start_depth(max_depth)
    found: dict[tuple[int, int], _Def] = {}
    for pattern, captures in cursor.matches(node):
        kind = next((k[11:] for k in captures if k.startswith("definition.")), None)
        if kind is None or "name" not in captures:
            continue
        def_node = captures["definition." + kind][0]
        body = captures.get("body")
        key = (def_node.start_byte, def_node.end_byte)
        old = found.get(key)
        if old is None or pattern < old.pattern:
            found[key] = _Def(def_node, kind, captures["name"][0], body[0] if body else None,
                              pattern)
    return sorted(found.values(), key=lambda d: (d.node.start_byte, -d.node.end_byte))


def container_of(node: Node, language: str) -> tuple[_Def, Node] | None:
    """(definition, body) when `node` is — or wraps — a container (class, impl, namespace…)."""
    for d in _defs(node, language, max_depth=1):
        if d.kind in CONTAINER_KINDS and d.body is not None \
                and d.node.start_byte >= node.start_byte:
            return d, d.body
    return None


def _outer(node: Node) -> Node:
    """The definition with the wrappers that belong to its signature (decorators, export…)."""
    while node.parent is not None and node.parent.type in _WRAPPERS:
        node = node.parent
    return node


def _name(node: Node, src: LinesSource) -> str:
    text = src.text(node.start_point, node.end_point, 1).strip()
    text = text.split("::")[-1]
    end = 0
    while end < len(text) and (text[end].isalnum() or text[end] in "_$~"):
        end += 1
    return text[:end] or text[:40]


def _dedent(text: str, column: int) -> str:
    lines = text.split("\n")
    out = [lines[0]]
    for line in lines[1:]:
        stripped = line[:column]
        out.append(line[column:] if not stripped.strip() else line)
    return "\n".join(out)


def _cap(text: str, rows: int, chars: int) -> str:
    lines = text.split("\n")
    if len(lines) > rows:
        lines = [*lines[:rows], "…"]
    text = "\n".join(line[:MAX_LINE_CHARS] for line in lines)
    return text if len(text) <= chars else text[:chars] + "…"


def _signature(d: _Def, outer: Node, src: LinesSource) -> tuple[str, int]:
    """The header text (dedented) and the row it ends on."""
    start = outer.start_point
    column = src._column(start.row, start.column)
    if d.kind in ("variable", "attribute", "macro"):
        line = src.text(start, d.node.end_point, 1).rstrip("\r\n")
        return line.strip()[:MAX_LINE_CHARS], start.row
    if d.body is not None and d.kind != "type":
        end = d.body.start_point
        text = src.text(start, end, MAX_SIGNATURE_ROWS + 1).rstrip()
        line = src.line(end.row)
        before_body = line[: src._column(end.row, end.column)]
        header_end = end.row if before_body.strip() else max(end.row - 1, start.row)
        return _cap(_dedent(text, column), MAX_SIGNATURE_ROWS, MAX_SIGNATURE_CHARS), header_end
    rows = MAX_TYPE_ROWS if d.kind == "type" else MAX_SIGNATURE_ROWS
    text = src.text(start, outer.end_point, rows + 1).rstrip()
    return _cap(_dedent(text, column), rows, MAX_SIGNATURE_CHARS * 2), outer.end_point.row


_COMMENT_MARKS = "/*!#;-"


def _clean_doc(text: str) -> str:
    for raw in text.split("\n"):
        line = raw.strip().lstrip(_COMMENT_MARKS).strip()
        for quote in ('"""', "'''", '"', "'"):
            if line.startswith(quote):
                line = line[len(quote):]
            if line.endswith(quote):
                line = line[: -len(quote)]
        line = line.rstrip("*/").strip()
        if line:
            return line[:MAX_DOC_CHARS]
    return ""


def _doc(d: _Def, outer: Node, src: LinesSource) -> str:
    if d.body is not None and d.body.type == "block" and d.body.named_child_count:
        first = d.body.named_children[0]
        if first.type == "expression_statement" and first.named_child_count:
            string = first.named_children[0]
            if string.type == "string":
                return _clean_doc(src.text(string.start_point, string.end_point, 4)
                                  .lstrip("rRbBuUfF"))
    comment = outer.prev_named_sibling
    if comment is None or "comment" not in comment.type:
        return ""
    if comment.end_point.row < outer.start_point.row - 1:
        return ""
    while True:  # a block of line comments: start at its first line
        before = comment.prev_named_sibling
        if before is None or "comment" not in before.type:
            break
        if before.end_point.row < comment.start_point.row - 1:
            break
        comment = before
    return _clean_doc(src.text(comment.start_point, comment.end_point, 6))


def unit_symbols(node: Node, src: LinesSource, language: str, parent: str, parent_kind: str,
                 depth: int, defs: list[_Def] | None = None) -> tuple[Symbol, ...]:
    """Symbols of one unit with absolute rows. Local variables (in function bodies) are left out;
    `attribute`s (`self.x = …`) become members of the enclosing class."""
    symbols: list[Symbol] = []
    stack: list[tuple[int, str, str]] = []  # (end_byte, qualname, kind) of open definitions
    seen_attributes: set[tuple[str, str]] = set()
    defs = defs if defs is not None else _defs(node, language)
    # `const f = () => …` is one function, not a variable holding one.
    functions = [(d.node.start_byte, d.node.end_byte) for d in defs if d.kind == "function"]
    for d in defs:
        if d.kind == "variable" and any(d.node.start_byte <= s and e <= d.node.end_byte
                                        for s, e in functions):
            continue
        while stack and stack[-1][0] <= d.node.start_byte:
            stack.pop()
        in_function = any(kind == "function" for _, _, kind in stack)
        owner = parent
        name = _name(d.name, src)
        if d.kind == "variable" and in_function:
            continue
        if d.kind == "attribute":
            classes = [q for _, q, k in stack if k == "class"]
            owner = classes[-1] if classes else (parent if parent_kind == "class" else "")
            if not owner or (owner, name) in seen_attributes:
                continue
            seen_attributes.add((owner, name))
        outer = _outer(d.node)
        signature, header_end = _signature(d, outer, src)
        symbol = Symbol(
            name=name, kind=d.kind, signature=signature, doc=_doc(d, outer, src),
            row=outer.start_point.row, header_end=header_end, end_row=d.node.end_point.row,
            depth=depth + (0 if d.kind == "attribute" else len(stack)),
            parent=owner if d.kind == "attribute" else (stack[-1][1] if stack else parent),
        )
        symbols.append(symbol)
        if d.kind != "attribute":
            stack.append((d.node.end_byte, symbol.qualname, d.kind))
    return tuple(symbols)


def unit_imports(node: Node, src: LinesSource, language: str) -> tuple[Import, ...]:
    """The import statements in one unit (at most two levels down: `if TYPE_CHECKING:` blocks)."""
    q = query(language, "imports")
    if q is None:
        return ()
    cursor = QueryCursor(q)
    cursor.set_max_start_depth(2)
    grouped: dict[tuple[int, str], tuple[Node, list[Binding], list[bool]]] = {}
    for _, captures in cursor.matches(node):
        statement = captures["import"][0]
        module = _text(captures, "module", src)
        _, bindings, wildcard = grouped.setdefault((statement.start_byte, module),
                                                   (statement, [], [False]))
        name = _text(captures, "name", src)
        alias = _text(captures, "alias", src)
        if "wildcard" in captures or language in ("c", "cpp"):  # #include: everything
            wildcard[0] = True
        elif name:
            bindings.append(Binding(alias or name.split(".")[-1].split("::")[-1], name))
        elif alias or module:
            bindings.append(Binding(alias or _module_local(module, language), ""))
    imports = []
    for (_, module), (statement, bindings, wildcard) in grouped.items():
        level = len(module) - len(module.lstrip(".")) if language == "python" else 0
        text = src.text(statement.start_point, statement.end_point, MAX_SIGNATURE_ROWS)
        imports.append(Import(module=module[level:] if level else module.strip("<>\"'"),
                              level=level, bindings=tuple(dict.fromkeys(bindings)),
                              wildcard=wildcard[0], row=statement.start_point.row,
                              end_row=statement.end_point.row,
                              text=_cap(text.strip(), MAX_SIGNATURE_ROWS, MAX_SIGNATURE_CHARS)))
    return tuple(imports)


def _text(captures: dict[str, list[Node]], key: str, src: LinesSource) -> str:
    nodes = captures.get(key)
    return src.text(nodes[0].start_point, nodes[0].end_point, 1).strip() if nodes else ""


def _module_local(module: str, language: str) -> str:
    """The name a plain module import binds: `a` for Python's `import a.b`, else the last part."""
    if language == "python":
        return module.split(".")[0]
    return module.replace("::", "/").rstrip("/").split("/")[-1].split(".")[0]


_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


def count_names(text: str) -> dict[str, int]:
    """Identifier-like words of a text and how often each occurs."""
    counts: dict[str, int] = {}
    for word in _IDENTIFIER.findall(text):
        counts[word] = counts.get(word, 0) + 1
    return counts


def make_unit(node: Node, src: LinesSource, language: str, parent: str, parent_kind: str,
              depth: int, with_names: bool = False) -> tuple[Unit, Node | None, str, str]:
    """The unit for `node`; for a container also its body, qualified name and kind (its members
    are the next units)."""
    return unit_of(node, container_of(node, language), src, language, parent, parent_kind, depth,
                   with_names)


def unit_of(node: Node, container: tuple[_Def, Node] | None, src: LinesSource, language: str,
            parent: str, parent_kind: str, depth: int, with_names: bool = False
            ) -> tuple[Unit, Node | None, str, str]:
    """`make_unit` for a caller that has `container_of(node)` already."""
    if container is not None:
        d, body = container
        # A container's extent changes with every edit inside it: its symbol ends at its header.
        symbols = tuple(replace(s, end_row=s.header_end)
                        for s in unit_symbols(node, src, language, parent, parent_kind, depth,
                                              defs=[d]))
        end_byte = body.start_byte
        qualname, kind = (symbols[0].qualname if symbols else parent), d.kind
    else:
        symbols = unit_symbols(node, src, language, parent, parent_kind, depth)
        body, end_byte, qualname, kind = None, node.end_byte, parent, parent_kind
    base = node.start_point.row
    unit = Unit(
        start_byte=node.start_byte, end_byte=end_byte, start_row=base,
        end_row=(body.start_point.row if body is not None else node.end_point.row),
        container=parent,
        symbols=tuple(s.shifted(-base) for s in symbols),
        imports=() if body is not None else  # a container's imports are in its members
        tuple(i.shifted(-base) for i in unit_imports(node, src, language)),
        names=count_names(src.text(node.start_point, body.start_point if body is not None
                                   else node.end_point)) if with_names else None,
    )
    return unit, body, qualname, kind


def outline_units(node: Node, src: LinesSource, language: str, parent: str = "",
                  parent_kind: str = "", depth: int = 0, with_names: bool = False
                  ) -> Iterator[Unit]:
    """Units of every named child of `node` (the root, or a container's body), in order."""
    for child in node.named_children:
        unit, body, qualname, kind = make_unit(child, src, language, parent, parent_kind, depth,
                                               with_names)
        yield unit
        if body is not None:
            yield from outline_units(body, src, language, qualname, kind, depth + 1, with_names)


def outline_tree(tree: Tree, src: LinesSource, language: str, with_names: bool = False
                 ) -> list[Unit]:
    """Every unit of a whole tree (used for workspace files and a document's first outline);
    `with_names` also counts each unit's identifiers (for open documents)."""
    return list(outline_units(tree.root_node, src, language, with_names=with_names))
