"""The context chosen once per definition and kept while the user types in it, so the prompt's
beginning stays the same from one keystroke to the next and every model server's prompt cache
(llama.cpp's `cache_prompt`, the embedded model's prefix reuse, hosted prompt caching) serves
all but the newest tokens.

A choice is kept while the cursor stays in the same definition (the same enclosing scopes), the
file's definitions and imports are unchanged, and every row it shows still has its text; the
rows typed since it was made are added to it (the code just written is the most relevant of
all), so the prompt only grows at its end. A first choice in a definition leaves
`FIRST_RESERVE_TOKENS` free for the line being typed; when the rows typed since no
longer fit, the context is chosen anew, leaving `GROWTH_RESERVE` for the rows typed next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from spark_lsp.context.packing import Selection

# The share of the budget left free when a kept choice is chosen anew because typing outgrew it:
# about 8 rows of typed code at 512 tokens, so the prompt's beginning changes every few lines
# rather than on every new line (at 0 it changed on each Enter).
GROWTH_RESERVE = 0.15
# Tokens left free by the first choice in a definition: the first words of the line being typed
# (about 25 characters). At 0 (the whole budget for the first suggestion's recall) the choice
# was outgrown 5-12 keys later, inside the first word: one more prompt evaluated in full, 1.7-2.3
# s on llama-server at one thread, right at the first pause of every typed line (issue 17).
# Untuned far recall (`context_recall.py --budgets 256,512 --humaneval 0 --only untuned`, seed
# 0) 0.438 / 0.571 -> 0.435 / 0.562, with --exact 0.450 / 0.591 -> 0.444 / 0.588; at 16 tokens
# 0.415 / 0.562 (exact 0.426 / 0.579).
FIRST_RESERVE_TOKENS = 8
# Rows at most between the row a choice was made on and the cursor: typing that far down is a
# new place (and the rows in between cost more than a fresh choice is worth).
MAX_CARRIED_ROWS = 40


@dataclass(frozen=True)
class Kept:
    """One choice, with what it was made for."""

    key: tuple[object, ...]  # the definition and what the choice depends on
    selection: Selection
    row: int  # the cursor's row when it was made
    line_count: int
    texts: tuple[tuple[int, str], ...]  # each chosen row and its text then
    cursor_cost: int  # tokens of the cursor's line then
    rows_cost: int  # tokens of the chosen rows then


def keep(key: tuple[object, ...], selection: Selection, lines: Sequence[str], row: int,
         cursor_cost: int, rows_cost: int) -> Kept:
    return Kept(key, selection, row, len(lines),
                tuple((r, lines[r]) for r in sorted(selection.rows)), cursor_cost, rows_cost)


def carried_rows(kept: Kept, lines: Sequence[str], row: int) -> set[int] | None:
    """The kept choice's rows in the text now, with the rows typed since (from the row it was
    made on down to the cursor's); None when the text has moved on elsewhere."""
    moved = len(lines) - kept.line_count
    if row < kept.row or row - kept.row > MAX_CARRIED_ROWS or moved < 0 \
            or row - kept.row > moved:
        return None
    rows = set(range(kept.row, row))  # typed since (the cursor's row then among them)
    for old, text in kept.texts:
        if old == kept.row:
            continue  # the cursor's row then: typed on since, or rendered from the text now
        new = old if old < kept.row else old + moved
        if new >= len(lines) or lines[new] != text:
            return None
        rows.add(new)
    rows.discard(row)
    return rows
