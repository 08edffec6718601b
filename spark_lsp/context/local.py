"""Pieces from the current document: the cursor's window, the headers of its enclosing scopes,
the imports and same-file definitions of the names used near it, its class's members, siblings."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tree_sitter import Point, QueryCursor, Tree

from spark_lsp.context.packing import Piece
from spark_lsp.context.ranking import Ranking
from spark_lsp.context.weights import COMMON_WORDS, IDENTIFIER
from spark_lsp.syntax.file_outline import FileOutline
from spark_lsp.syntax.prose import starts_in_prose
from spark_lsp.syntax.queries import query
from spark_lsp.syntax.scopes import Scope
from spark_lsp.syntax.symbols import CONTAINER_KINDS, Import, LinesSource, Symbol

# The scores are `ranking.Window`, `ranking.Nearness` and `ranking.Code`.
MAX_WINDOW_ROWS = 400
MAX_HEADER_ROWS = 6
MAX_SIBLINGS = 30
MAX_IMPORTS = 40
MAX_MEMBERS = 30  # on each side of the cursor
ATTRIBUTE_KINDS = frozenset({"attribute", "variable"})
MAX_SIMILAR_USES = 40  # names used more often than this say little about similarity
MAX_SIMILAR_UNITS = 25
MAX_SIMILAR_ROWS = 40

_ATTRIBUTE_PARENTS = frozenset({
    "attribute", "member_expression", "selector_expression", "field_expression",
    "field_access", "scoped_identifier", "qualified_identifier",
})


@dataclass
class Near:
    """Names used near the cursor, weighted by closeness, and `obj.attr` uses per object."""

    weights: dict[str, float] = field(default_factory=dict)
    attributes: dict[str, set[str]] = field(default_factory=dict)

    def ranked(self) -> list[tuple[str, float]]:
        return sorted(self.weights.items(), key=lambda item: -item[1])


def near_names(tree: Tree | None, lines: Sequence[str], row: int, first: int, last: int,
               language: str | None, stale_row: int | None = None, *, ranking: Ranking
               ) -> Near:
    """Identifiers in rows first..last (the identifiers query), weighted by distance to `row`
    (`ranking.nearness`). On a `stale_row` (the tree not reparsed there) the row's words stand
    in for its nodes."""
    decay = ranking.nearness.decay_rows
    near = Near()
    q = query(language, "identifiers") if language and tree is not None else None
    if q is None or tree is None:
        return near
    cursor = QueryCursor(q)
    cursor.set_point_range(Point(first, 0), Point(last + 1, 0))
    src = LinesSource(lines)
    if stale_row is not None and first <= stale_row <= last:
        for name in IDENTIFIER.findall(lines[stale_row]):
            if name in COMMON_WORDS:
                continue
            near.weights[name] = near.weights.get(name, 0.0) \
                + 1.0 / (1.0 + abs(stale_row - row) / decay)
    # In document order: py-tree-sitter 0.26 returns captures in an order that changes from
    # one parse of the same text to the next, and the sums below would round differently.
    identifiers = sorted(cursor.captures(tree.root_node).get("identifier", ()),
                         key=lambda node: node.start_byte)
    for node in identifiers:
        start = node.start_point
        if start.row < first or start.row > last or node.end_point.row != start.row \
                or start.row == stale_row:
            continue
        name = src.text(start, node.end_point, 1)
        if not name:
            continue
        near.weights[name] = near.weights.get(name, 0.0) \
            + 1.0 / (1.0 + abs(start.row - row) / decay)
        parent = node.parent
        if parent is not None and parent.type in _ATTRIBUTE_PARENTS and parent.named_child_count:
            left = parent.named_children[0]
            if left.start_byte < node.start_byte and left.type in ("identifier",
                                                                   "package_identifier"):
                owner = src.text(left.start_point, left.end_point, 1)
                near.attributes.setdefault(owner, set()).add(name)
    return near


def header_rows(symbol: Symbol) -> tuple[int, ...]:
    last = min(symbol.header_end, symbol.row + MAX_HEADER_ROWS - 1)
    return tuple(range(symbol.row, last + 1))


def window_pieces(lines: Sequence[str], row: int, scopes: Sequence[Scope], budget: int,
                  row_cost: Callable[[int], int], *, ranking: Ranking) -> list[Piece]:
    """Lines above and below the cursor (as many as the budget could hold), scored by distance
    (`ranking.window`); lines in the enclosing function (above) and block (below) first."""
    scores = ranking.window
    function = next((s for s in scopes if s.kind == "function"), None)
    block = next((s for s in scopes if s.kind == "block"), None)
    top = function.start_row if function is not None else 0
    block_end = block.end_row if block is not None else len(lines) - 1
    function_end = function.end_row if function is not None else len(lines) - 1
    pieces = []
    spent = 0
    for distance, r in enumerate(range(row - 1, max(row - MAX_WINDOW_ROWS, 0) - 1, -1), 1):
        spent += row_cost(r)
        if spent > budget:
            break
        if r >= top:
            score = scores.prefix - scores.prefix_decay * distance
        else:
            score = scores.prefix - scores.prefix_decay * (row - top) \
                - scores.outside_decay * (top - r)
        pieces.append(Piece(score, rows=(r,), after=r + 1 if r + 1 < row else None,
                            kind="window"))
    last = min(len(lines) - 1, row + MAX_WINDOW_ROWS)
    spent = 0
    for distance, r in enumerate(range(row + 1, last + 1), 1):
        spent += row_cost(r)
        if spent > budget // 2:
            break
        score = scores.suffix - scores.suffix_decay * distance
        if r > block_end:
            score -= scores.below_block + scores.outside_decay * (r - block_end)
        if r > function_end:
            score -= scores.below_function
        pieces.append(Piece(score, rows=(r,), after=r - 1 if r - 1 > row else None,
                            kind="window"))
    return pieces


def whole_blocks(window: list[Piece], blocks: Sequence[tuple[int, int]], row: int
                 ) -> list[Piece]:
    """The window's pieces with the rows of each block (a docstring, a block comment: first,
    last row) merged into one piece, so that a block goes in whole or not at all; a block
    the window holds only part of (or the cursor's row is in) is left out."""
    if not blocks:
        return window
    by_row = {p.rows[0]: p for p in window}
    merged: list[Piece] = []
    dropped: set[int] = set()
    for first, last in blocks:
        if first <= row <= last:
            dropped.update(range(first, last + 1))
            continue
        rows = range(first, last + 1)
        dropped.update(rows)
        if not all(r in by_row for r in rows):
            continue
        above = last < row
        edge = by_row[last if above else first]
        merged.append(Piece(edge.score, rows=tuple(rows), after=edge.after, kind="window"))
    return [p for p in window if p.rows[0] not in dropped] + merged


def scope_pieces(scopes: Sequence[Scope], *, ranking: Ranking) -> list[Piece]:
    """The header rows of every enclosing function and class (innermost first)."""
    pieces = []
    for depth, scope in enumerate(s for s in scopes if s.kind != "block"):
        rows = tuple(range(scope.start_row, min(scope.header_end, scope.start_row
                                                 + MAX_HEADER_ROWS - 1) + 1))
        pieces.append(Piece(ranking.window.header - depth, rows=rows, kind="scope"))
    return pieces


def used_imports(imports: Sequence[Import], near: Near) -> tuple[list[Import], list[Import]]:
    """The import statements that bind a name used near the cursor (or import everything), and
    the others."""
    used: list[Import] = []
    unused: list[Import] = []
    for imp in imports:
        near_it = imp.wildcard or any(b.local in near.weights for b in imp.bindings)
        (used if near_it else unused).append(imp)
    return used, unused


def import_pieces(imports: Sequence[Import], near: Near, uses: dict[str, int], *,
                  ranking: Ranking) -> list[Piece]:
    """The import statements (those `used_imports` finds), those whose names the file uses
    most first (at most MAX_IMPORTS); a statement over several rows is offered row by row (with
    its first and last rows)."""
    def rank(imp: Import) -> int:
        return -max((uses.get(b.local, 0) for b in imp.bindings), default=0)

    pieces = []
    for imp in sorted(imports, key=rank)[:MAX_IMPORTS]:
        used = [b.local for b in imp.bindings if b.local in near.weights]
        weight = max((near.weights[name] for name in used), default=0.0)
        score = ranking.code.import_row + ranking.code.use_bonus * weight
        if imp.end_row - imp.row < 2:
            pieces.append(Piece(score, rows=tuple(range(imp.row, imp.end_row + 1)),
                                kind="import"))
            continue
        for r in range(imp.row + 1, imp.end_row):
            pieces.append(Piece(score, rows=(imp.row, r, imp.end_row), kind="import"))
    return pieces


def definition_pieces(outline: FileOutline, near: Near, row: int, scopes: Sequence[Scope],
                      max_each: int = 3, *, ranking: Ranking) -> tuple[list[Piece], set[str]]:
    """Headers of same-file definitions of the names used near the cursor — module-level ones
    for plain names, members for `obj.name` — and which names the file defines at module
    level (they need no look-up elsewhere)."""
    pieces: list[Piece] = []
    defined: set[str] = set()
    enclosing = {s.start_row for s in scopes}
    attributes = set().union(*near.attributes.values()) if near.attributes else set()
    for name, weight in near.ranked():
        symbols = outline.lookup(name)
        if not symbols:
            continue
        if any(s.depth == 0 for s in symbols):
            defined.add(name)
        symbols = [s for s in symbols if s.depth == 0 or name in attributes]
        symbols.sort(key=lambda s: abs(s.row - row))
        for symbol in symbols[:max_each]:
            if symbol.row in enclosing:
                continue
            score = ranking.code.definition + ranking.code.use_bonus * weight
            pieces.append(Piece(score - abs(symbol.row - row) / 100, rows=header_rows(symbol),
                                kind="definition"))
    return pieces, defined


def enclosing_class(outline: FileOutline, scopes: Sequence[Scope]) -> Symbol | None:
    classes = [s for s in scopes if s.kind == "class"]
    if not classes:
        return None
    return next((s for s in outline.lookup_at(classes[0].start_row)
                 if s.kind in CONTAINER_KINDS), None)


def member_pieces(outline: FileOutline, scopes: Sequence[Scope], row: int,
                  owner: Symbol | None, *, ranking: Ranking) -> list[Piece]:
    """Members of the enclosing class `owner` (nearest first, and every attribute) and the
    definitions beside the outermost enclosing one (nearest first)."""
    member, sibling, decay = ranking.code.member, ranking.code.sibling, ranking.code.rank_decay
    pieces: list[Piece] = []
    if owner is not None:
        above, below = outline.around(row)
        for direction in (above, below):
            rank = 0
            for symbol, base in direction:
                if symbol.parent != owner.qualname:
                    if symbol.depth <= owner.depth:
                        break  # out of the class
                    continue
                pieces.append(Piece(member - decay * rank,
                                    rows=header_rows(symbol.shifted(base)), kind="member"))
                rank += 1
                if rank >= MAX_MEMBERS:
                    break
        for rank, attribute in enumerate(outline.members(owner.qualname, ATTRIBUTE_KINDS)):
            pieces.append(Piece(member - decay * rank, rows=header_rows(attribute),
                                kind="member"))
    outermost = next((s for s in reversed(scopes) if s.kind != "block"), None)
    first = outermost.start_row if outermost is not None else row
    last = outermost.end_row if outermost is not None else row
    for direction in (outline.around(first)[0], outline.around(last)[1]):
        rank = 0
        for symbol, base in direction:
            if symbol.depth > 0 or symbol.kind == "attribute" or \
                    first <= symbol.row + base <= last:
                continue
            pieces.append(Piece(sibling - decay * rank,
                                rows=header_rows(symbol.shifted(base)), kind="sibling"))
            rank += 1
            if rank >= MAX_SIBLINGS:
                break
    return pieces


def similar_pieces(outline: FileOutline, lines: Sequence[str], near: Near, row: int,
                   skip: tuple[int, int], names_in: Callable[[str], frozenset[str]],
                   tree: Tree | None = None, *, ranking: Ranking
                   ) -> tuple[list[Piece], dict[str, float]]:
    """Rows of code elsewhere in the file that use the rarer names used near the cursor (code
    repeats itself: a sibling method doing the same thing), scored by how much they share; and
    how strongly each other name co-occurs with them. Rows of comments and docstrings are no
    examples of code."""
    scores: dict[int, float] = {}
    for name, weight in near.weights.items():
        uses = outline.name_counts.get(name, 0)
        if uses < 2 or uses > MAX_SIMILAR_USES or name in COMMON_WORDS:
            continue
        rarity = 1.0 / math.log2(1 + uses)
        for first, last in outline.spans_using(name, MAX_SIMILAR_UNITS):
            for r in range(first, min(last, len(lines) - 1) + 1):
                if skip[0] <= r <= skip[1] or name not in names_in(lines[r]):
                    continue
                if r not in scores and starts_in_prose(tree, lines, r):
                    scores[r] = -1e9  # never a candidate
                    continue
                scores[r] = scores.get(r, 0.0) + rarity * min(weight, 1.0)
    best = sorted(((r, score) for r, score in scores.items() if score > 0),
                  key=lambda item: -item[1])[:MAX_SIMILAR_ROWS]
    if not best:
        return [], {}
    top = best[0][1]
    pieces: list[Piece] = []
    cooccurring: dict[str, float] = {}
    for r, score in best:
        pieces.append(Piece(ranking.code.similar * score / top, rows=(r,), kind="similar"))
        for name in names_in(lines[r]):
            if name not in near.weights:
                cooccurring[name] = cooccurring.get(name, 0.0) + score / top
    return pieces, cooccurring
