"""The context chosen once per definition and kept while the user types in it, so the prompt's
beginning stays the same from one keystroke to the next and every model server's prompt cache
(llama.cpp's `cache_prompt`, the embedded model's prefix reuse, hosted prompt caching) serves
all but the newest tokens.

A choice is kept while the cursor stays in the same definition (the same enclosing scopes), the
file's definitions and imports are unchanged, every row it shows still has its text and every
other file it shows is unchanged in the index; the
rows typed since it was made are added to it (the code just written is the most relevant of
all), so the prompt only grows at its end. A first choice in a definition leaves
`FIRST_RESERVE_TOKENS` free for the line being typed; when the rows typed since no
longer fit, the context is chosen anew, leaving `GROWTH_RESERVE` for the rows typed next.

More of the workspace index or of the package outlines becoming ready does not renew a choice:
it did every half second while an index was built, and once or twice more on the first line
typed after opening a file (a package outline read for the first request came for the second),
each time a whole prompt evaluated anew (about 370 tokens: 1.8 s on llama-server at one thread,
issue 17). The next definition the cursor enters gets the fuller choice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
    shown: tuple[tuple[str, object], ...] = ()  # each other file shown and its outline then


def keep(key: tuple[object, ...], selection: Selection, lines: Sequence[str], row: int,
         cursor_cost: int, rows_cost: int, outline_of: Callable[[str], object] | None = None,
         own_label: str = "") -> Kept:
    """The choice to keep; `outline_of(label)` is what the index holds for another file it
    shows (compared by identity when the choice is reused: see `others_unchanged`). The
    file's own snippet (`own_label`: its name lists) is checked with its rows."""
    shown = tuple((p, outline_of(p)) for p in sorted(selection.snippets) if p != own_label) \
        if outline_of is not None else ()
    return Kept(key, selection, row, len(lines),
                tuple((r, lines[r]) for r in sorted(selection.rows)), cursor_cost, rows_cost,
                shown)


def others_unchanged(kept: Kept, outline_of: Callable[[str], object]) -> bool:
    """Whether every other file the kept choice shows is the same in the index (the same
    outline object: the index makes a new one when a file changes)."""
    return all(outline_of(path) is then for path, then in kept.shown)


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
