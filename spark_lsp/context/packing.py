"""Pack prompt pieces into a token budget, highest score first, and render what was chosen.

A piece is either rows of the current document (rendered in place, in file order, with an
elision line where rows are skipped), a line of another file's snippet (labelled with its path),
or one name of a name list (a snippet line `# head: name, name, …` that grows name by name).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from spark_lsp.context.ranking import Ranking
from spark_lsp.context.tokens import TokenCounter
from spark_lsp.documents.text import line_body

GAP_TOKENS = 3  # an elision line costs about this much


@dataclass(frozen=True)
class Piece:
    """One candidate: `rows` of the current document, or `text` for another file's snippet (at
    position `order` within it). Higher `score` is packed first."""

    score: float
    rows: tuple[int, ...] = ()
    path: str = ""
    order: tuple[int, ...] = ()
    text: str = ""
    after: int | None = None  # a row that must be in first (the window grows without holes)
    kind: str = ""  # where it comes from (window, scope, import, definition, member, sibling…)
    group: str = ""  # a name list's head: `text` is one name of the line `order` starts with it


NAME_SEPARATOR = ", "


@dataclass(frozen=True)
class Costs:
    """What things cost in tokens: some text, a row of the document (rendered in place), the
    label line of another file's snippet, a name in a list (with its separator, `name_cost`)."""

    text: TokenCounter
    row: Callable[[int], int]
    label: Callable[[str], int]
    name: Callable[[str], int]


@dataclass
class Selection:
    rows: set[int] = field(default_factory=set)
    snippets: dict[str, dict[tuple[int, ...], str]] = field(default_factory=dict)
    snippet_scores: dict[str, float] = field(default_factory=dict)
    used: int = 0
    listed: set[tuple[str, tuple[int, ...], str]] = field(default_factory=set)  # name lists'


def _cost(piece: Piece, chosen: Selection, costs: Costs) -> int | None:
    """What adding the piece costs now (None: it adds nothing)."""
    if piece.rows:
        new = [r for r in piece.rows if r not in chosen.rows]
        if not new:
            return None
        cost = sum(costs.row(r) for r in new)
        if not any(r - 1 in chosen.rows or r + 1 in chosen.rows for r in new):
            cost += GAP_TOKENS
        return cost
    lines = chosen.snippets.get(piece.path)
    if piece.group:
        return _name_cost(piece, lines, chosen, costs.name(piece.text), costs)
    if lines is not None and piece.order in lines:
        return None
    return costs.text(piece.text) + 1 + (costs.label(piece.path) if lines is None else 0)


def name_cost(name: str, count: TokenCounter, exact: bool = False) -> int:
    """A listed name with its separator. Identifiers split into more tokens than prose of the
    same length (rare words: `wnomask`, `_byweekno`), so the count is raised by a third: over
    8,000 names of 12 installed packages, counted with the estimate, +17 % against SmolLM2's
    count of `, name`, and 99 % of 10-name lists at or above it (raised by a fifth: +5 %, and
    1 % of lists 12 % or more below; a list under-counted had prompts run over the budget).
    With the model's own tokenizer (`exact`): its count of `, name`."""
    if exact:
        return count(NAME_SEPARATOR + name)
    tokens = count(name)
    return tokens + 1 + tokens // 3


def _name_cost(piece: Piece, lines: dict[tuple[int, ...], str] | None, chosen: Selection,
               cost: int, costs: Costs) -> int | None:
    """A name list's item: the name and its separator, plus the head (and label) if first."""
    if (piece.path, piece.order, piece.text) in chosen.listed:
        return None
    if lines is None:
        return cost + costs.text(piece.group) + costs.label(piece.path)
    return cost if piece.order in lines else cost + costs.text(piece.group)


def _take(piece: Piece, cost: int, chosen: Selection) -> None:
    if piece.rows:
        chosen.rows.update(piece.rows)
    else:
        lines = chosen.snippets.get(piece.path)
        if lines is None:
            lines = chosen.snippets[piece.path] = {}
            chosen.snippet_scores[piece.path] = piece.score
        if piece.group:
            line = lines.get(piece.order)
            lines[piece.order] = piece.group + piece.text if line is None \
                else line + NAME_SEPARATOR + piece.text
            chosen.listed.add((piece.path, piece.order, piece.text))
        else:
            lines[piece.order] = piece.text
    chosen.used += cost


def pack(pieces: Sequence[Piece], budget: int, costs: Costs,
         selection: Selection | None = None) -> Selection:
    """Greedy by score: take each piece (best first) that still fits; skip the ones that do
    not."""
    chosen = selection if selection is not None else Selection()
    for piece in sorted(pieces, key=lambda p: -p.score):
        if chosen.used >= budget:
            break
        cost = _cost(piece, chosen, costs)
        if cost is not None and chosen.used + cost <= budget:
            _take(piece, cost, chosen)
    return chosen


class _ByGain:
    """One `pack_by_gain`: the pieces with their names and lone costs, the heap of their
    priorities, and the pieces waiting for a row."""

    def __init__(self, pieces: Sequence[Piece], costs: Costs,
                 names_of: Callable[[Piece], Iterable[str]], weights: Callable[[str], float],
                 covered: set[str], chosen: Selection, ranking: Ranking) -> None:
        self.pieces = pieces
        self.costs = costs
        self.weights = weights
        self.covered = covered
        self.chosen = chosen
        self.score_scale = ranking.packing.score_scale
        self.list_share = ranking.packing.list_share
        self.names = [tuple(sorted(set(names_of(piece)))) for piece in pieces]  # (not hash order)
        # Costs as if nothing else were chosen (rows + an elision line, or text + a separator).
        self.alone = [sum(costs.row(r) for r in p.rows) + GAP_TOKENS if p.rows else
                      costs.name(p.text) if p.group else costs.text(p.text) + 1 for p in pieces]
        self.heap: list[tuple[float, int]] = []
        self.waiting: dict[int, list[int]] = {}  # row → pieces that need it first

    def value(self, number: int) -> float:
        gain = 0.0
        for name in self.names[number]:
            if name not in self.covered:
                gain += self.weights(name)
        return self.pieces[number].score / self.score_scale + gain

    def cost_now(self, number: int) -> int | None:
        piece, chosen, alone = self.pieces[number], self.chosen, self.alone[number]
        rows = piece.rows
        if rows:
            if any(r in chosen.rows or r - 1 in chosen.rows or r + 1 in chosen.rows
                   for r in rows):
                return _cost(piece, chosen, self.costs)
            return alone
        lines = chosen.snippets.get(piece.path)
        if piece.group:
            return _name_cost(piece, lines, chosen, alone, self.costs)
        if lines is None:
            return alone + self.costs.label(piece.path)
        return None if piece.order in lines else alone

    def ranking_cost(self, number: int, cost: int) -> float:
        """The cost to rank by: a name list's first name shares its head (and label) with the
        next few names, which follow at their own small cost."""
        alone = self.alone[number]
        if self.pieces[number].group and cost > alone:
            return alone + (cost - alone) / self.list_share
        return max(cost, 1)

    def offer(self, number: int) -> None:
        """Onto the heap (not ordered yet), or to wait for the row it must follow."""
        after = self.pieces[number].after
        if after is not None and after not in self.chosen.rows:
            self.waiting.setdefault(after, []).append(number)
            return
        cost = self.cost_now(number)
        if cost is not None:
            self.heap.append((-self.value(number) / self.ranking_cost(number, cost), number))

    def take(self, number: int, cost: int) -> None:
        """Into the selection; the pieces waiting for its rows onto the heap."""
        piece = self.pieces[number]
        _take(piece, cost, self.chosen)
        self.covered.update(self.names[number])
        for row in piece.rows:
            for ready in self.waiting.pop(row, ()):
                after_cost = self.cost_now(ready)
                if after_cost is not None:
                    heapq.heappush(self.heap, (
                        -self.value(ready) / self.ranking_cost(ready, after_cost), ready))


def pack_by_gain(pieces: Sequence[Piece], budget: int, costs: Costs,
                 names_of: Callable[[Piece], Iterable[str]], weights: Callable[[str], float],
                 covered: set[str], selection: Selection, *, ranking: Ranking) -> Selection:
    """Greedy by value per token, where a piece's value is its score (/ the ranking's
    `packing.score_scale`) plus the weight of each name it brings that the prompt does not
    hold yet. Values only fall as the prompt fills, so a piece is re-valued when it comes up
    (lazy greedy)."""
    chosen = selection
    packer = _ByGain(pieces, costs, names_of, weights, covered, chosen, ranking)
    for number in range(len(pieces)):
        packer.offer(number)
    heap = packer.heap
    heapq.heapify(heap)
    while heap and chosen.used < budget:
        _, number = heapq.heappop(heap)
        cost = packer.cost_now(number)
        if cost is None or chosen.used + cost > budget:
            continue
        priority = packer.value(number) / packer.ranking_cost(number, cost)
        if heap and priority < -heap[0][0] - 1e-9:
            heapq.heappush(heap, (-priority, number))
            continue
        packer.take(number, cost)
    return chosen


def _indent_of(text: str) -> str:
    return text[: len(text) - len(text.lstrip(" \t"))]


def elision(lines: Sequence[str], first: int, last: int, marker: str) -> str:
    """The line standing for rows first..last: the marker at the indentation of the first
    non-blank skipped row."""
    for row in range(first, min(last + 1, first + 50)):
        body = line_body(lines[row])
        if body.strip():
            return f"{_indent_of(body)}{marker}\n"
    return f"{marker}\n"


def render_rows(lines: Sequence[str], rows: Sequence[int], marker: str, start: int,
                end: int) -> str:
    """Rows (sorted) of the document between `start` and `end` (exclusive), eliding the gaps
    between them; a gap before the first row is elided too unless it starts at `start`=0."""
    parts: list[str] = []
    previous = start - 1
    for row in rows:
        if row < start or row >= end:
            continue
        if row > previous + 1 and (previous >= 0 or start > 0):
            parts.append(elision(lines, previous + 1, row - 1, marker))
        text = lines[row]
        parts.append(text if text.endswith(("\n", "\r")) else text + "\n")
        previous = row
    return "".join(parts)


def render_snippets(selection: Selection) -> list[tuple[str, str]]:
    """(path, text) per other file, highest score first; lines in file order."""
    out = []
    for path in sorted(selection.snippets, key=lambda p: -selection.snippet_scores[p]):
        lines = selection.snippets[path]
        out.append((path, "\n".join(lines[key] for key in sorted(lines))))
    return out
