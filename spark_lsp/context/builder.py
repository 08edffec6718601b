"""Assemble the prompt context for a cursor: candidates with priorities, packed into the budget.

Candidates (see `local` and `related`): the cursor's line and the nearest lines of its enclosing
scope, the headers of the enclosing definitions, the imports and definitions (signatures) of the
names used near the cursor — in this file, or in other workspace files reached through the
imports — the enclosing class's members and the sibling definitions. What is chosen from this
file is rendered in file order with an elision line for what is left out; other files become
snippets labelled with their path. The whole prompt (labels and FIM sentinels included) stays
within `context.max_prompt_tokens`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from spark_lsp.context import layout
from spark_lsp.context.packing import (
    Costs,
    Piece,
    Selection,
    elision,
    name_cost,
    pack,
    pack_by_gain,
    render_rows,
    render_snippets,
)
from spark_lsp.context.plan import Cursor, Plan, locate, make_plan
from spark_lsp.context.ranking import DEFAULT, Ranking
from spark_lsp.context.sticky import (
    FIRST_RESERVE_TOKENS,
    GROWTH_RESERVE,
    Kept,
    carried_rows,
    keep,
    others_unchanged,
)
from spark_lsp.context.tokens import TokenCounter, cached_estimate
from spark_lsp.context.types import PromptContext
from spark_lsp.context.view import ContextView
from spark_lsp.context.weights import names_in
from spark_lsp.documents.store import DocumentSnapshot
from spark_lsp.documents.text import line_body
from spark_lsp.model_request import Snippet
from spark_lsp.settings import ContextSettings
from spark_lsp.syntax.file_outline import FileOutline
from spark_lsp.syntax.languages import comment_prefix
from spark_lsp.syntax.outline import outline_tree
from spark_lsp.syntax.symbols import LinesSource

# Kept free when tokens are estimated: the estimate errs high on code, but a name list can
# take up to ~15 % more tokens than estimated (names made of rare words: `wnomask`, `_byweekno`).
# With 2 %, 1 prompt of 937 at 512 was over against the SmolLM2 tokenizer (by 10 %); with
# none, 6 (benchmarks/context_recall.py on 8 training trees and the 6 reported ones).
ESTIMATE_MARGIN = 0.02
MAX_OUTLINE_ROWS_ON_THE_SPOT = 5000  # outline a snapshot without a live outline up to this size


def _keep_end(text: str, limit: int, count: TokenCounter) -> str:
    while text and count(text) > limit:
        text = text[max(1, len(text) // 4) :]
    return text


def _keep_start(text: str, limit: int, count: TokenCounter) -> str:
    while text and count(text) > limit:
        text = text[: len(text) - max(1, len(text) // 4)]
    return text


def _snapshot_outline(snapshot: DocumentSnapshot) -> FileOutline | None:
    if snapshot.tree is None or snapshot.language is None:
        return None
    if len(snapshot.lines) > MAX_OUTLINE_ROWS_ON_THE_SPOT:
        return None
    units = outline_tree(snapshot.tree, LinesSource(snapshot.lines), snapshot.language)
    return FileOutline(snapshot.path or snapshot.uri, snapshot.language, units)


def reuse(kept: Kept, lines: Sequence[str], row: int, used: int, available: int,
          row_cost: Callable[[int], int]) -> Selection | None:
    """The choice kept for this definition, moved to the text now with the rows typed since,
    when it still fits (see `sticky`)."""
    rows = carried_rows(kept, lines, row)
    if rows is None:
        return None
    selection = kept.selection
    now = selection.used - kept.cursor_cost - kept.rows_cost + used \
        + sum(row_cost(r) for r in rows)
    if now > available:
        return None
    return Selection(rows, {p: dict(lines) for p, lines in selection.snippets.items()},
                     dict(selection.snippet_scores), now)


@dataclass(frozen=True)
class _Frame:
    """What one request fixes before choosing: the cursor's row and its line cut at the cursor
    (`head`, `tail`: `used` tokens), the counter, the label, the budget and what is available
    for context once the template, the label line and the estimate's margin are reserved."""

    snapshot: DocumentSnapshot
    row: int
    count: TokenCounter
    exact: bool  # `count` is the model's own tokenizer
    comment: str
    label: str
    budget: int
    available: int
    head: str
    tail: str
    used: int

    @property
    def lines(self) -> Sequence[str]:
        return self.snapshot.lines


def _frame(snapshot: DocumentSnapshot, line: int, index: int, settings: ContextSettings,
           count_tokens: TokenCounter | None, engine: ContextView | None) -> _Frame:
    exact = False
    if count_tokens is None:
        count_tokens, exact = engine.counter() if engine is not None else (cached_estimate, False)
    count = count_tokens
    lines = snapshot.lines
    row = max(0, min(line, len(lines) - 1))
    comment = comment_prefix(snapshot.language, snapshot.language_id)
    path = snapshot.path or snapshot.uri
    label = engine.label(path) if engine is not None and snapshot.path else path
    budget = settings.max_prompt_tokens
    available = budget - layout.TEMPLATE_RESERVE - count(layout.label_line(comment, label)) \
        - (0 if exact else int(budget * ESTIMATE_MARGIN))
    body = line_body(lines[row])
    head = _keep_end(body[:index], max(available * 2 // 3, 0), count)
    tail = _keep_start(lines[row][index:], max(available - count(head), 0), count)
    return _Frame(snapshot, row, count, exact, comment, label, budget, available, head, tail,
                  count(head) + count(tail))


def _row_cost(frame: _Frame) -> Callable[[int], int]:
    lines, count, exact = frame.lines, frame.count, frame.exact

    def row_cost(r: int) -> int:
        # With the model's tokenizer an indented row costs one token less than alone: it takes
        # the newline before the row and its indentation as one token (summed row by row,
        # 40-row blocks of httpx / hypothesis / click count 9 % more than whole). The finished
        # prompt is counted again. The estimate keeps the full count: its errors need the room.
        text = lines[r]
        return count(text) - (1 if exact and text[:1] in (" ", "\t") and text.strip() else 0)

    return row_cost


def _costs(frame: _Frame, row_cost: Callable[[int], int]) -> Costs:
    count, comment, exact = frame.count, frame.comment, frame.exact

    def label_cost(p: str) -> int:
        return count(layout.label_line(comment, p)) + layout.SEPARATOR_TOKENS

    return Costs(count, row_cost, label_cost, lambda name: name_cost(name, count, exact))


def _outline(snapshot: DocumentSnapshot, row: int, engine: ContextView | None
             ) -> FileOutline | None:
    """The open document's outline (as it stands while only the cursor's row changed), else
    one made of the snapshot (no engine, or a snapshot of other text than the document's)."""
    outline = engine.outline(snapshot, typing_row=row) if engine is not None else None
    return outline if outline is not None else _snapshot_outline(snapshot)


@dataclass(frozen=True)
class _Kept:
    """What the kept choice says: the selection to reuse (None: choose anew), the key a new
    choice is kept under, the outline to choose with, and whether the kept choice no longer
    fits (then room is left for what is typed next)."""

    selection: Selection | None
    key: tuple[object, ...]
    outline: FileOutline | None
    outgrown: bool


def _kept_choice(frame: _Frame, engine: ContextView | None, cursor: Cursor,
                 outline: FileOutline | None, ranking: Ranking,
                 row_cost: Callable[[int], int]) -> _Kept:
    if engine is None:
        return _Kept(None, (), outline, False)
    snapshot = frame.snapshot

    def key_with(outline: FileOutline | None) -> tuple[object, ...]:
        # Not the outline's version: a statement typed in the definition changes it, and
        # what the choice shows is checked row by row (`sticky.carried_rows`). Not the
        # index's or the packages' generation either (see `sticky`).
        return (snapshot.uri, outline is not None,
                tuple((s.start_row, s.kind) for s in cursor.scopes), frame.budget,
                id(frame.count), frame.exact, ranking)

    key = key_with(outline)
    kept = engine.kept(snapshot.uri)
    selection = None
    outgrown = False
    if kept is not None and kept.key == key and others_unchanged(kept, engine.labelled):
        selection = reuse(kept, frame.lines, frame.row, frame.used, frame.available, row_cost)
        outgrown = selection is None
    if selection is None and outline is not None:  # choosing anew: with the outline now
        outline = engine.outline(snapshot) or outline
        key = key_with(outline)
    return _Kept(selection, key, outline, outgrown)


def _choose(frame: _Frame, plan: Plan, limit: int, costs: Costs, ranking: Ranking
            ) -> Selection:
    """The pieces that always go in, by score, then the rest by value per token."""
    lines = frame.lines
    selection = pack(plan.first, limit, costs, Selection(used=frame.used))
    covered = set(names_in(frame.head + frame.tail + frame.label))
    for r in selection.rows:
        covered |= names_in(lines[r])
    prose = plan.prose.rows

    def names_of(piece: Piece) -> frozenset[str]:
        if piece.rows:  # the words of comments and docstrings are no names
            return frozenset().union(*(names_in(lines[r]) for r in piece.rows
                                       if r not in prose))
        return names_in(piece.text)

    return pack_by_gain(plan.rest, limit, costs, names_of, plan.weight, covered, selection,
                        ranking=ranking)


def _total(frame: _Frame, prefix: str, suffix: str, snippets: Sequence[Snippet],
           selection: Selection) -> int:
    """The prompt's tokens: as packed, or with the model's own tokenizer as it will be sent."""
    if not frame.exact:
        return selection.used + (frame.budget - frame.available)
    count, comment = frame.count, frame.comment
    return (count(layout.header(comment, snippets, frame.label) + prefix + suffix)
            + layout.TEMPLATE_RESERVE + layout.SEPARATOR_TOKENS * len(snippets))


def _render(frame: _Frame, selection: Selection) -> tuple[str, str, tuple[Snippet, ...]]:
    """The prefix and suffix (the chosen rows in place, elided between) and the snippets."""
    lines, row = frame.lines, frame.row
    marker = layout.elision_marker(frame.snapshot.language, frame.comment)
    rows = sorted(selection.rows)
    prefix = render_rows(lines, rows, marker, 0, row)
    above = [r for r in rows if r < row]
    if above and above[-1] < row - 1:
        prefix += elision(lines, above[-1] + 1, row - 1, marker)
    elif not above and row > 0 and rows:
        prefix += elision(lines, 0, row - 1, marker)
    suffix = frame.tail + render_rows(lines, rows, marker, row + 1, len(lines))
    snippets = tuple(Snippet(p, text) for p, text in render_snippets(selection))
    return prefix + frame.head, suffix, snippets


def build_context(
    snapshot: DocumentSnapshot,
    line: int,
    index: int,
    settings: ContextSettings,
    count_tokens: TokenCounter | None = None,
    *,
    engine: ContextView | None = None,
    ranking: Ranking = DEFAULT,
) -> PromptContext:
    """The prompt context at (line, python index): the best pieces that fit the budget, as
    `ranking` scores them.

    `engine` (the context engine's view for this request) brings the open document's cached
    outline, the workspace index, the package outlines and the model's tokenizer; without it
    the builder outlines the snapshot itself (small files only) and estimates tokens. The
    choice is kept while the cursor stays in its definition (see `sticky`); a prompt the
    model's tokenizer finds over the budget is chosen again, twice at most, with the excess
    taken off the room.
    """
    frame = _frame(snapshot, line, index, settings, count_tokens, engine)
    row_cost = _row_cost(frame)
    costs = _costs(frame, row_cost)
    outline = _outline(snapshot, frame.row, engine)
    cursor = locate(snapshot, frame.row, index, outline is not None, ranking=ranking)
    kept = _kept_choice(frame, engine, cursor, outline, ranking, row_cost)
    selection = kept.selection
    plan: Plan | None = None
    reserve = int(frame.budget * GROWTH_RESERVE) if kept.outgrown else \
        FIRST_RESERVE_TOKENS if engine is not None else 0
    limit = frame.available - reserve
    for _ in range(3):
        if selection is None:
            if plan is None:
                plan = make_plan(snapshot, frame.row, cursor, kept.outline, engine,
                                 frame.available, row_cost, ranking)
            selection = _choose(frame, plan, limit, costs, ranking)
            if engine is not None:
                engine.keep(snapshot.uri, keep(kept.key, selection, frame.lines, frame.row,
                                               frame.used,
                                               sum(row_cost(r) for r in selection.rows),
                                               engine.labelled, frame.label))
        prefix, suffix, snippets = _render(frame, selection)
        total = _total(frame, prefix, suffix, snippets, selection)
        if total <= frame.budget:
            break
        limit -= total - frame.budget + 4
        selection = None
    return PromptContext(
        path=frame.label,
        language=snapshot.language,
        comment=frame.comment,
        prefix=prefix,
        suffix=suffix,
        snippets=snippets,
        prompt_tokens=min(total, frame.budget) if total <= frame.budget else total,
    )
