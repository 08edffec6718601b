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
from spark_lsp.context.plan import Plan, locate, make_plan
from spark_lsp.context.sticky import GROWTH_RESERVE, Kept, carried_rows, keep
from spark_lsp.context.tokens import TokenCounter, cached_estimate
from spark_lsp.context.types import PromptContext
from spark_lsp.context.view import ContextView
from spark_lsp.context.weights import names_in
from spark_lsp.documents.store import DocumentSnapshot
from spark_lsp.documents.text import line_body
from spark_lsp.models.base import Snippet
from spark_lsp.settings import ContextSettings
from spark_lsp.syntax.file_outline import FileOutline
from spark_lsp.syntax.languages import comment_prefix
from spark_lsp.syntax.outline import outline_tree
from spark_lsp.syntax.symbols import LinesSource

TEMPLATE_RESERVE = 8  # FIM sentinels around prefix/suffix
SEPARATOR_TOKENS = 2  # a file-separator token (or the blank line) per snippet
# Kept free when tokens are estimated: the estimate errs high on code, but a name list can
# take up to ~15 % more tokens than estimated (names made of rare words: `wnomask`, `_byweekno`).
# With 2 %, 1 prompt of 937 at 512 was over against the SmolLM2 tokenizer (by 10 %); with
# none, 6 (benchmarks/context_recall.py on 8 training trees and the 6 reported ones).
ESTIMATE_MARGIN = 0.02
MAX_OUTLINE_ROWS_ON_THE_SPOT = 5000  # outline a snapshot without a live outline up to this size



def label_line(comment: str, path: str) -> str:
    """How `prompts/` labels a file (`{comment} Path: …`)."""
    return f"{comment} Path: {path}\n"


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


def _render(snapshot: DocumentSnapshot, row: int, head: str, tail: str, selection: Selection,
            marker: str) -> tuple[str, str]:
    lines = snapshot.lines
    rows = sorted(selection.rows)
    prefix = render_rows(lines, rows, marker, 0, row)
    above = [r for r in rows if r < row]
    if above and above[-1] < row - 1:
        prefix += elision(lines, above[-1] + 1, row - 1, marker)
    elif not above and row > 0 and rows:
        prefix += elision(lines, 0, row - 1, marker)
    suffix = tail + render_rows(lines, rows, marker, row + 1, len(lines))
    return prefix + head, suffix


def build_context(
    snapshot: DocumentSnapshot,
    line: int,
    index: int,
    settings: ContextSettings,
    count_tokens: TokenCounter | None = None,
    *,
    engine: ContextView | None = None,
) -> PromptContext:
    """The prompt context at (line, python index): the best pieces that fit the budget.

    `engine` (the context engine's view for this request) brings the open document's cached
    outline, the workspace index, the package outlines and the model's tokenizer; without it
    the builder outlines the snapshot itself (small files only) and estimates tokens.
    """
    exact = False
    if count_tokens is None:
        count_tokens, exact = engine.counter() if engine is not None else (cached_estimate, False)
    count = count_tokens
    lines = snapshot.lines
    row = max(0, min(line, len(lines) - 1))
    language = snapshot.language
    comment = comment_prefix(language, snapshot.language_id)
    path = snapshot.path or snapshot.uri
    label = engine.label(path) if engine is not None and snapshot.path else path
    budget = settings.max_prompt_tokens
    available = budget - TEMPLATE_RESERVE - count(label_line(comment, label)) \
        - (0 if exact else int(budget * ESTIMATE_MARGIN))
    body = line_body(lines[row])
    head = _keep_end(body[:index], max(available * 2 // 3, 0), count)
    tail = _keep_start(lines[row][index:], max(available - count(head), 0), count)
    used = count(head) + count(tail)

    outline = engine.outline(snapshot, typing_row=row) if engine is not None else None
    if outline is None:  # no engine, or a snapshot of other text than the open document's
        outline = _snapshot_outline(snapshot)
    marker = "..." if language == "python" else f"{comment} ..."

    def label_cost(p: str) -> int:
        return count(label_line(comment, p)) + SEPARATOR_TOKENS

    def row_cost(r: int) -> int:
        # With the model's tokenizer an indented row costs one token less than alone: it takes
        # the newline before the row and its indentation as one token (summed row by row,
        # 40-row blocks of httpx / hypothesis / click count 9 % more than whole). The finished
        # prompt is counted again. The estimate keeps the full count: its errors need the room.
        text = lines[r]
        return count(text) - (1 if exact and text[:1] in (" ", "\t") and text.strip() else 0)

    costs = Costs(count, row_cost, label_cost, lambda name: name_cost(name, count, exact))

    def names_of(piece: Piece) -> frozenset[str]:
        if piece.rows:  # the words of comments and docstrings are no names
            prose = work.prose.rows if work is not None else frozenset()
            return frozenset().union(*(names_in(lines[r]) for r in piece.rows
                                       if r not in prose))
        return names_in(piece.text)

    cursor = locate(snapshot, row, index, outline is not None)
    key: tuple[object, ...] = ()
    selection = None
    outgrown = False  # the kept choice no longer fits: leave room for what is typed next
    if engine is not None:
        generation = (engine.generation, engine.packages.generation)  # what was ready

        def key_with(outline: FileOutline | None) -> tuple[object, ...]:
            # Not the outline's version: a statement typed in the definition changes it, and
            # what the choice shows is checked row by row (`sticky.carried_rows`).
            return (snapshot.uri, outline is not None,
                    tuple((s.start_row, s.kind) for s in cursor.scopes), budget, id(count),
                    exact, generation)

        key = key_with(outline)
        kept = engine.kept(snapshot.uri)
        if kept is not None and kept.key == key:
            selection = reuse(kept, lines, row, used, available, row_cost)
            outgrown = selection is None
        if selection is None and outline is not None:  # choosing anew: with the outline now
            outline = engine.outline(snapshot) or outline
            key = key_with(outline)
    work: Plan | None = None
    limit = available - (int(budget * GROWTH_RESERVE) if outgrown else 0)
    for _ in range(3):
        if selection is None:
            if work is None:
                work = make_plan(snapshot, row, cursor, outline, engine, available, row_cost)
            selection = pack(work.first, limit, costs, Selection(used=used))
            covered = set(names_in(head + tail + label))
            for r in selection.rows:
                covered |= names_in(lines[r])
            pack_by_gain(work.rest, limit, costs, names_of, work.weight, covered, selection)
            if engine is not None:
                engine.keep(snapshot.uri, keep(key, selection, lines, row, used,
                                               sum(row_cost(r) for r in selection.rows)))
        prefix, suffix = _render(snapshot, row, head, tail, selection, marker)
        snippets = tuple(Snippet(p, text) for p, text in render_snippets(selection))
        total = selection.used + (budget - available)
        if exact:  # the model's own tokenizer: count the prompt as it will be sent
            header = "".join(label_line(comment, s.path) + s.text + "\n\n" for s in snippets)
            total = (count(header + label_line(comment, label) + prefix + suffix)
                     + TEMPLATE_RESERVE + SEPARATOR_TOKENS * len(snippets))
        if total <= budget:
            break
        limit -= total - budget + 4
        selection = None
    return PromptContext(
        path=label,
        language=language,
        comment=comment,
        prefix=prefix,
        suffix=suffix,
        snippets=snippets,
        prompt_tokens=min(total, budget) if total <= budget else total,
    )

