"""Rows that follow, elsewhere in the file, the same code the cursor follows: code repeats
itself (sibling methods, the sync and async twins of a client, generated code), and what came
after the same row last time is the likeliest thing to come next.
"""

from __future__ import annotations

from collections.abc import Container, Sequence

from spark_lsp.context.weights import IDENTIFIER
from spark_lsp.syntax.prose import indent_column

MIN_KEY_CHARS = 12  # a row shorter than this (`else:`, `return x`) says too little to match on
MAX_MATCHES = 200  # rows equal to the key looked at (the nearest first)
MAX_CONTINUATIONS = 3
MAX_GAP_ROWS = 3  # blank or prose rows between a matched row and its continuation


def _code_row(lines: Sequence[str], start: int, step: int, stop: int,
              prose: Container[int]) -> int | None:
    """The first row from `start` (going by `step`, not reaching `stop`) that holds code."""
    r = start
    for _ in range(MAX_GAP_ROWS + 1):
        if r == stop or not 0 <= r < len(lines):
            return None
        if lines[r].strip() and r not in prose:
            return r
        r += step
    return None


def _names(text: str) -> frozenset[str]:
    return frozenset(IDENTIFIER.findall(text))


def _likeness(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard similarity of two rows' names (1.0 for two rows without names)."""
    return len(a & b) / len(a | b) if a or b else 1.0


def continuation_rows(lines: Sequence[str], row: int, skip: tuple[int, int],
                      prose: Container[int] = ()) -> list[tuple[int, float]]:
    """(row, likeness) for up to MAX_CONTINUATIONS rows outside `skip` that follow a row equal
    (stripped) to the code row above the cursor, at the same indentation relative to it as the
    cursor's row; `likeness` (0…1): how much the code row before that one shares its names with
    the one before the cursor's. The likest first, then the nearest. Rows in `prose` are
    skipped like blank ones; it need only hold the rows around the cursor (a syntax-tree look
    per match costs 1-2 ms in generated code with 200 equal rows): the caller drops a returned
    row that is prose."""
    above = _code_row(lines, row - 1, -1, -1, prose)
    if above is None:
        return []
    key = lines[above].strip()
    if len(key) < MIN_KEY_CHARS:
        return []
    before = _code_row(lines, above - 1, -1, -1, prose)
    second = _names(lines[before]) if before is not None else None
    indent = indent_column(lines[row])
    shift = None if indent == 0 and not lines[row].strip() \
        else indent - indent_column(lines[above])  # (an empty row: any indentation)
    matches = sorted((r for r in range(len(lines)) if not skip[0] <= r <= skip[1]
                      and r != above and key in lines[r] and lines[r].strip() == key),
                     key=lambda r: abs(r - row))[:MAX_MATCHES]
    found: list[tuple[int, float]] = []
    for r in matches:
        following = _code_row(lines, r + 1, 1, len(lines), prose)
        if following is None or skip[0] <= following <= skip[1]:
            continue
        if shift is not None and indent_column(lines[following]) - indent_column(lines[r]) \
                != shift:
            continue
        previous = _code_row(lines, r - 1, -1, -1, prose)
        likeness = _likeness(second, _names(lines[previous])) \
            if second is not None and previous is not None else 0.0
        found.append((following, likeness))
    found.sort(key=lambda item: -round(item[1], 1))  # stable: the nearest first within each
    return found[:MAX_CONTINUATIONS]
