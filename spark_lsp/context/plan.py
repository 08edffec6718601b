"""What could go into a prompt, and what it is worth: the pieces (scored by a `ranking.Ranking`)
and the names' weights.

The pieces that always go in come first (the enclosing headers, the code rows right around the
cursor, the comments or docstring right above it); the rest — more of the window, the imports
the nearby code uses (the others as a name list), definitions of the names used near the
cursor, the rows below that use a name nothing binds yet (`expected`) and rows elsewhere
binding those names, the rows that follow the same code as the cursor's elsewhere (`repeats`),
the classes the nearby code holds instances of, the enclosing class's members and bases,
siblings, other files' signatures, name lists (`names`): one function each in `sources` — are
packed by value per token (`packing.pack_by_gain`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from spark_lsp.context import local
from spark_lsp.context.packing import Piece
from spark_lsp.context.ranking import Ranking
from spark_lsp.context.scene import Scene
from spark_lsp.context.sources import SOURCES, name_weight
from spark_lsp.context.view import ContextView
from spark_lsp.context.weights import names_in
from spark_lsp.documents.store import DocumentSnapshot
from spark_lsp.syntax.file_outline import FileOutline
from spark_lsp.syntax.prose import Prose, prose_rows
from spark_lsp.syntax.scopes import Scope, enclosing_scopes


@dataclass
class Plan:
    """What the packer works from: pieces that go first (in order of score), the rest (by value
    per token), and what each name is worth."""

    first: list[Piece] = field(default_factory=list)
    rest: list[Piece] = field(default_factory=list)
    weight: Callable[[str], float] = lambda name: 0.0
    prose: Prose = field(default_factory=Prose)  # rows of the window that hold no code


def _nearest_rows(lines: Sequence[str], row: int, scopes: Sequence[Scope], budget: int,
                  row_cost: Callable[[int], int], prose: Prose, *, ranking: Ranking
                  ) -> list[Piece]:
    """The rows right above and below the cursor that always go in (shares of the budget,
    `ranking.window`): code rows, and the comments right above the cursor (`_intent_rows`);
    no other prose."""
    shares = ranking.window
    function = next((s for s in scopes if s.kind == "function"), None)
    block = next((s for s in scopes if s.kind == "block"), None)
    top = function.start_row if function is not None else 0
    bottom = block.end_row if block is not None else len(lines) - 1
    intent, intent_cost = _intent_rows(lines, row, top, prose,
                                       int(budget * shares.intent_share), row_cost)
    header = shares.header
    pieces = [Piece(header - 1 - (row - rows[-1]) / 1000, rows=rows, kind="nearest")
              for rows in intent]
    for share, rows in ((shares.prefix_share, range(row - 1, top - 1, -1)),
                        (shares.suffix_share, range(row + 1, bottom + 1))):
        spent = intent_cost if rows.step < 0 else 0
        for r in rows:
            if r in prose or r in prose.in_blocks:
                continue
            spent += row_cost(r)
            if spent > budget * share:
                break
            pieces.append(Piece(header - 1 - abs(r - row) / 1000, rows=(r,), kind="nearest"))
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


def locate(snapshot: DocumentSnapshot, row: int, index: int, with_names: bool, *,
           ranking: Ranking) -> Cursor:
    """The cursor's scopes and nearby names (`ranking.nearness`; not the word being typed at
    the cursor)."""
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
    above, below = ranking.nearness.rows_above, ranking.nearness.rows_below
    first = max(row - above, function.start_row if function is not None else 0)
    near = local.near_names(tree, lines, row, first, min(row + below, len(lines) - 1),
                            language, snapshot.stale_row, ranking=ranking)
    typing = body[:index]
    match = _WORD_END.search(typing)
    if match:
        word = match.group() + _WORD_START.match(body[index:]).group()  # type: ignore[union-attr]
        near.weights.pop(word, None)
    others = frozenset().union(*(names_in(lines[r]) for r in range(first, min(
        row + below, len(lines) - 1) + 1) if r != row))
    stable = others | frozenset(_RECEIVER.findall(typing))
    return Cursor(scopes, near, stable)


def make_plan(snapshot: DocumentSnapshot, row: int, cursor: Cursor, outline: FileOutline | None,
              engine: ContextView | None, budget: int, row_cost: Callable[[int], int],
              ranking: Ranking) -> Plan:
    """Every piece the prompt could hold, scored by `ranking`, and the names' weights: the
    pieces that always go in, then those of each candidate source (`sources.SOURCES`)."""
    lines, language, scopes = snapshot.lines, snapshot.language, cursor.scopes
    window = local.window_pieces(lines, row, scopes, budget, row_cost, ranking=ranking)
    reach = [r for piece in window for r in piece.rows] or [row]
    prose = prose_rows(snapshot.tree, lines, min(reach), max(reach), language)
    first = local.scope_pieces(scopes, ranking=ranking) + _nearest_rows(
        lines, row, scopes, budget, row_cost, prose, ranking=ranking)
    if outline is None or language is None:
        return Plan(first=first, rest=local.whole_blocks(window, prose.blocks, row), prose=prose)
    scene = Scene(snapshot, row, scopes, cursor.near, outline, language, engine, ranking,
                  window, prose)
    rest = [piece for source in SOURCES for piece in source(scene)]
    return Plan(first=first, rest=rest, weight=name_weight(scene), prose=prose)
