"""What could go into a prompt, and what it is worth: the pieces (scored) and the names' weights.

The pieces that always go in come first (the enclosing headers, the code rows right around the
cursor, the comments or docstring right above it); the rest — more of the window, the imports
the nearby code uses (the others as a name list), definitions of the names used near the
cursor, the rows below that use a name nothing binds yet (`expected`) and rows elsewhere
binding those names, the rows that follow the same code as the cursor's elsewhere (`repeats`),
the classes the nearby code holds instances of, the enclosing class's members and bases,
siblings, other files' signatures, name lists (`names`) — are packed by value per token
(`packing.pack_by_gain`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from spark_lsp.context import expected, hints, imported, local, names, repeats, usage
from spark_lsp.context.packing import Piece
from spark_lsp.context.related import class_pieces, related_pieces, resolve_name
from spark_lsp.context.view import ContextView
from spark_lsp.context.weights import name_weights, names_in
from spark_lsp.documents.store import DocumentSnapshot
from spark_lsp.syntax.file_outline import FileOutline
from spark_lsp.syntax.languages import comment_prefix
from spark_lsp.syntax.prose import Prose, prose_rows, starts_in_prose
from spark_lsp.syntax.scopes import Scope, enclosing_scopes
from spark_lsp.syntax.symbols import Import, Symbol

PREFIX_SHARE = 0.25  # of the budget: the rows right above the cursor, always in
SUFFIX_SHARE = 0.15  # the rows right below it, in its block
INTENT_SHARE = 0.1  # of the budget (and of PREFIX_SHARE): comments right above the cursor
TYPED = 640.0  # the class of a value used near the cursor (its members score MEMBER_OF less)
BASE_CLASS = 560.0  # a base class of the enclosing class
EXPECTED_ROW = 850.0  # the first row below the cursor using a name nothing binds before it
BINDING_ROW = 4000.0  # a row elsewhere binding a name the rows below expect (`expected`)
MAX_BINDING_UNITS = 20  # units using such a name read for its bindings
CONTINUATION = 3000.0  # a row following the same two rows as the cursor's (`repeats`): half
# as much when the row before the same row shares none of its names with the cursor's
MAX_HINT_ROWS = 200  # rows of the enclosing function read for annotations and constructors
ANALOGOUS = 0.5  # the weight, for kinship (`names.Kinship`), of a name in a row elsewhere that
# binds what the rows below expect or follows the same row as the cursor's: the missing row is
# likely a sibling (`get_integer_bounds(…)` there, `get_float_bounds(…)` here)


@dataclass
class Plan:
    """What the packer works from: pieces that go first (in order of score), the rest (by value
    per token), and what each name is worth."""

    first: list[Piece] = field(default_factory=list)
    rest: list[Piece] = field(default_factory=list)
    weight: Callable[[str], float] = lambda name: 0.0
    prose: Prose = field(default_factory=Prose)  # rows of the window that hold no code


def _nearest_rows(lines: Sequence[str], row: int, scopes: Sequence[Scope], budget: int,
                  row_cost: Callable[[int], int], prose: Prose) -> list[Piece]:
    """The rows right above and below the cursor that always go in (shares of the budget):
    code rows, and the comments right above the cursor (`_intent_rows`); no other prose."""
    function = next((s for s in scopes if s.kind == "function"), None)
    block = next((s for s in scopes if s.kind == "block"), None)
    top = function.start_row if function is not None else 0
    bottom = block.end_row if block is not None else len(lines) - 1
    intent, intent_cost = _intent_rows(lines, row, top, prose, int(budget * INTENT_SHARE),
                                       row_cost)
    pieces = [Piece(local.HEADER - 1 - (row - rows[-1]) / 1000, rows=rows, kind="nearest")
              for rows in intent]
    for share, rows in ((PREFIX_SHARE, range(row - 1, top - 1, -1)),
                        (SUFFIX_SHARE, range(row + 1, bottom + 1))):
        spent = intent_cost if rows.step < 0 else 0
        for r in rows:
            if r in prose or r in prose.in_blocks:
                continue
            spent += row_cost(r)
            if spent > budget * share:
                break
            pieces.append(Piece(local.HEADER - 1 - abs(r - row) / 1000, rows=(r,), kind="nearest"))
    return pieces


def _intent_rows(lines: Sequence[str], row: int, top: int, prose: Prose, allowance: int,
                 row_cost: Callable[[int], int]) -> tuple[list[tuple[int, ...]], int]:
    """The comment rows, or the docstring, right above the cursor (blank rows between): what
    the next line is meant to do. Nearest first, as many as `allowance` tokens hold; a
    docstring or block comment whole or not at all. With their cost."""
    found: list[tuple[int, ...]] = []
    if any(first <= row <= last for first, last in prose.blocks):
        return found, 0  # (the cursor is in a string)
    spent = 0
    r = row - 1
    while r >= top and (r in prose or r in prose.in_blocks):
        if not lines[r].strip():
            r -= 1
            continue
        first = next((f for f, last in prose.blocks if f <= r <= last), r)
        if first < top:
            break  # (a string opening above the function)
        taken = tuple(range(first, r + 1))
        cost = sum(row_cost(t) for t in taken)
        if spent + cost > allowance:
            break
        spent += cost
        found.append(taken)
        r = first - 1
    return found, spent


@dataclass(frozen=True)
class Cursor:
    """Where the cursor is: its scopes (innermost first) and the names used near it."""

    scopes: tuple[Scope, ...]
    near: local.Near
    stable_names: frozenset[str] = frozenset()

    def key(self) -> tuple[object, ...]:
        """What the pieces depend on, less what changes with every keystroke on the cursor's
        line (the names only it uses, except the receivers of `x.`)."""
        return (tuple((s.start_row, s.kind) for s in self.scopes), self.stable_names)


_WORD_END = re.compile(r"[A-Za-z_$][\w$]*$")
_WORD_START = re.compile(r"^[\w$]*")
_RECEIVER = re.compile(r"([A-Za-z_$][\w$]*)\s*(?:\.|->|::)")


def locate(snapshot: DocumentSnapshot, row: int, index: int, with_names: bool) -> Cursor:
    """The cursor's scopes and nearby names (not the word being typed at the cursor)."""
    lines, language, tree = snapshot.lines, snapshot.language, snapshot.tree
    if tree is None or language is None:
        return Cursor((), local.Near())
    body = lines[row]
    # Scopes are looked up at the row's indentation (or the cursor, if before it): what is being
    # typed on the row does not move them, also while the tree is not reparsed yet (typed past
    # the old end of the last definition, the cursor would be outside it).
    indent = len(body) - len(body.lstrip(" \t"))
    column = len(body[: min(index, indent)].encode("utf-8"))
    scopes = tuple(enclosing_scopes(tree, lines, row, column, language))
    if not with_names:
        return Cursor(scopes, local.Near())
    function = next((s for s in scopes if s.kind == "function"), None)
    first = max(row - local.NEAR_ABOVE, function.start_row if function is not None else 0)
    near = local.near_names(tree, lines, row, first, min(row + local.NEAR_BELOW,
                                                         len(lines) - 1), language,
                            snapshot.stale_row)
    typing = body[:index]
    match = _WORD_END.search(typing)
    if match:
        word = match.group() + _WORD_START.match(body[index:]).group()  # type: ignore[union-attr]
        near.weights.pop(word, None)
    others = frozenset().union(*(names_in(lines[r]) for r in range(first, min(
        row + local.NEAR_BELOW, len(lines) - 1) + 1) if r != row))
    stable = others | frozenset(_RECEIVER.findall(typing))
    return Cursor(scopes, near, stable)


def make_plan(snapshot: DocumentSnapshot, row: int, cursor: Cursor, outline: FileOutline | None,
              engine: ContextView | None, budget: int, row_cost: Callable[[int], int]
              ) -> Plan:
    """Every piece the prompt could hold, scored, and the names' weights."""
    lines, language = snapshot.lines, snapshot.language
    scopes, near = cursor.scopes, cursor.near
    window = local.window_pieces(lines, row, scopes, budget, row_cost)
    reach = [r for piece in window for r in piece.rows] or [row]
    prose = prose_rows(snapshot.tree, lines, min(reach), max(reach), language)
    result = Plan(first=local.scope_pieces(scopes) + _nearest_rows(lines, row, scopes, budget,
                                                                    row_cost, prose),
                  rest=local.whole_blocks(window, prose.blocks, row), prose=prose)
    if outline is None or language is None:
        return result
    imports = outline.imports()
    bound = {b.local for imp in imports for b in imp.bindings}  # the names imports bind
    popularity = _member_popularity(snapshot, engine)
    used, unused = local.used_imports(imports, near)
    result.rest += local.import_pieces(used, near, outline.name_counts)
    comment = comment_prefix(language, snapshot.language_id)
    label = engine.label(snapshot.path) if engine is not None and snapshot.path is not None \
        else snapshot.path or snapshot.uri
    definitions, defined = local.definition_pieces(outline, near, row, scopes)
    result.rest += definitions
    owner = local.enclosing_class(outline, scopes)
    result.rest += local.member_pieces(outline, scopes, row, owner)
    if engine is not None and snapshot.path is not None:
        result.rest += related_pieces(near, imports, defined, snapshot.path, language, comment,
                                      engine, engine.is_excluded,
                                      names.not_yet_used(sorted(bound), outline.name_counts))
    unbound = _unbound_below(lines, row, scopes, outline, bound, prose)
    result.rest += [Piece(EXPECTED_ROW, rows=(r,), kind="expected") for r in set(unbound.values())]
    window_rows = (max(0, row - local.NEAR_ABOVE), row + local.NEAR_BELOW)  # "near the cursor"
    is_prose = functools.partial(starts_in_prose, snapshot.tree, lines)  # any row of the file
    analogous: list[int] = []  # rows elsewhere likely to resemble the missing one
    for rank, (r, likeness) in enumerate(repeats.continuation_rows(lines, row, window_rows,
                                                                   prose)):
        if not is_prose(r):  # (a docstring's example is no code)
            result.rest.append(Piece(CONTINUATION * (1 + likeness) / 2 - rank, rows=(r,),
                                     kind="continuation"))
            analogous.append(r)
    for rows in expected.binding_rows(lines, unbound, lambda n: outline.spans_using(
            n, MAX_BINDING_UNITS), window_rows, is_prose).values():
        result.rest += [Piece(BINDING_ROW - i, rows=(r,), kind="binding")
                        for i, r in enumerate(rows)]
        analogous += rows
    kin = names.Kinship({**_analogous_names(lines, analogous), **near.weights})
    result.rest += names.imported_name_pieces(unused, outline.name_counts, near.weights, comment,
                                              label, kin, shown=used)
    typed, typed_names = _typed_pieces(snapshot, row, scopes, outline, owner, imports, near,
                                       engine, comment, label, popularity)
    result.rest += typed
    similar, cooccurring = local.similar_pieces(outline, lines, near, row, window_rows, names_in,
                                                snapshot.tree)
    result.rest += similar
    result.rest += usage.usage_pieces(lines, row, (window_rows[0], min(
        len(lines) - 1, window_rows[1])), near.weights, bound, comment, label)
    workspace = engine if snapshot.path is not None else None
    inherited = names.inherited_member_names(outline, owner, language, workspace)
    result.rest += _listed(snapshot, scopes, outline, owner, inherited, imports, near, engine,
                           comment, label, popularity,
                           _unassigned(lines, row, scopes, outline, owner, inherited))

    def is_member(name: str) -> bool:
        return name in typed_names or name in inherited or (
            owner is not None and outline.has_member(owner.qualname, name))

    result.weight = name_weights(
        outline.name_counts, bound, is_member, outline.is_top_level, near.weights, cooccurring,
        unbound)
    return result


def _analogous_names(lines: Sequence[str], rows: Iterable[int]) -> dict[str, float]:
    return {name: ANALOGOUS for r in rows for name in names_in(lines[r])}


def _unbound_below(lines: Sequence[str], row: int, scopes: Sequence[Scope],
                   outline: FileOutline, imported: Container[str], prose: Prose
                   ) -> dict[str, int]:
    """The names the rest of the enclosing function uses before anything binds them (see
    `expected.unbound_below`; `imported`: the names the imports bind), with the first row
    using each."""
    function = next((s for s in scopes if s.kind == "function"), None)
    if function is None:
        return {}
    return expected.unbound_below(lines, row, function.start_row, function.end_row,
                                  lambda n: n in imported or outline.is_top_level(n), prose)


def _unassigned(lines: Sequence[str], row: int, scopes: Sequence[Scope], outline: FileOutline,
                owner: Symbol | None, inherited: Iterable[str]) -> list[str]:
    """The attributes the enclosing class reads on `self` but sets nowhere (see
    `expected.unassigned_attributes`), read around the cursor."""
    klass = next((s for s in scopes if s.kind == "class"), None)
    if owner is None or klass is None:
        return []
    members = set(names.member_names(outline, owner)) | set(inherited)
    first = max(klass.start_row, row - expected.MAX_CLASS_ROWS // 2)
    return expected.unassigned_attributes(lines, first, klass.end_row, members)


def _listed(snapshot: DocumentSnapshot, scopes: Sequence[Scope], outline: FileOutline,
            owner: Symbol | None, inherited: Iterable[str], imports: Sequence[Import],
            near: local.Near, engine: ContextView | None, comment: str, label: str,
            popularity: Mapping[str, int] | None, unassigned: Sequence[str]) -> list[Piece]:
    """The name lists (see `names`) under the file's `label`: with an engine, imported modules
    are looked up in the workspace, then among installed packages."""
    path = snapshot.path or snapshot.uri
    language = snapshot.language or ""
    enclosing = {symbol.name for s in scopes for symbol in outline.lookup_at(s.start_row)}
    modules: list[imported.ImportedModule] = []
    if engine is not None and snapshot.path is not None:
        index = engine.index
        key = (index, path, engine.generation, engine.packages.generation)
        modules = imported.imported_modules(
            engine.memo, key, imports, path, language, engine, engine.packages,
            engine.is_excluded, functools.partial(index.module_uses, without=path)
            if index is not None else lambda module: {})
    return names.name_list_pieces(outline, owner, inherited, modules, near.weights, enclosing,
                                  comment, label, unassigned, popularity,
                                  engine.memo if engine is not None else None)


def _member_popularity(snapshot: DocumentSnapshot, engine: ContextView | None
                       ) -> Mapping[str, int] | None:
    """How many workspace files use each `.name` (not counting the edited document)."""
    if engine is None or engine.index is None or snapshot.path is None:
        return None
    return engine.index.attribute_files(without=snapshot.path)


def _typed_pieces(snapshot: DocumentSnapshot, row: int, scopes: Sequence[Scope],
                  outline: FileOutline, owner: Symbol | None, imports: Sequence[Import],
                  near: local.Near, engine: ContextView | None, comment: str, label: str,
                  popularity: Mapping[str, int] | None) -> tuple[list[Piece], set[str]]:
    """The enclosing class's bases, and the classes of the values used near the cursor (typed
    parameters and locals, and `self.x` whose type the class or its bases declare)."""
    language = snapshot.language or ""
    path = snapshot.path or snapshot.uri
    workspace = engine if engine is not None and snapshot.path is not None else None
    excluded = engine.is_excluded if engine is not None else (lambda p: False)
    function = next((s for s in scopes if s.kind == "function"), None)
    texts = ["".join(snapshot.lines[max(function.start_row, row - MAX_HINT_ROWS) : row])] \
        if function is not None else []
    variables = hints.variable_types(texts)
    members = outline.members(owner.qualname, positioned=False) if owner is not None else []
    attributes = hints.attribute_types(members)
    pieces: list[Piece] = []
    base_names: set[str] = set()
    if owner is not None:
        used = near.attributes.get("self", set()) | near.attributes.get("this", set())
        bases = {b: used for b in hints.base_classes(owner.signature)}
        pieces, base_names = class_pieces(bases, BASE_CLASS, outline, imports, path, language,
                                     comment, workspace, excluded, local.header_rows)
        for base in bases:  # what the bases declare their attributes to be
            for found in (resolve_name(base, imports, path, language, workspace)
                          if workspace is not None else []):
                inherited = found.outline.members(found.symbol.qualname, positioned=False)
                for name, types in hints.attribute_types(inherited).items():
                    attributes.setdefault(name, types)
    classes: dict[str, set[str]] = {}
    receivers: dict[str, list[str]] = {}
    for name, class_names in variables.items():  # every typed parameter and local
        for class_name in class_names:
            classes.setdefault(class_name, set()).update(near.attributes.get(name, ()))
            receivers.setdefault(class_name, []).append(name)
    known = set(variables) | {b.local for imp in imports for b in imp.bindings}
    for name, used in near.attributes.items():  # duck typing: `p.text(); p.group()`
        if name not in known and name not in ("self", "this"):
            duck = hints.classes_having(outline, used)
            if len(duck) == 1:
                classes.setdefault(duck[0], set()).update(used)
                receivers.setdefault(duck[0], []).append(name)
    for receiver in ("self", "this"):
        for name in near.attributes.get(receiver, ()):
            for class_name in attributes.get(name, ()):
                classes.setdefault(class_name, set()).update(near.attributes.get(name, ()))
                receivers.setdefault(class_name, []).append(f"{receiver}.{name}")
    more, typed_names = class_pieces(classes, TYPED, outline, imports, path, language, comment,
                                     workspace, excluded, local.header_rows)
    more += names.typed_name_pieces(receivers, outline, imports, path, language, comment,
                                    label, workspace, near.weights, excluded, popularity)
    return pieces + more, base_names | typed_names
