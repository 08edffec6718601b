"""How the values used near the cursor are used elsewhere in the file: the attributes read or
called on each (`# self._converter: structure, unstructure`), a hint of what the code at the
cursor may call on them too."""

from __future__ import annotations

import re
from collections.abc import Container, Mapping, Sequence

from spark_lsp.context.imported import is_listable
from spark_lsp.context.names import NameList, pieces
from spark_lsp.context.packing import Piece
from spark_lsp.context.ranking import Ranking
from spark_lsp.context.weights import IDENTIFIER

MAX_REGION_ROWS = 1000  # rows around the cursor read for uses
MAX_RECEIVERS = 6
MAX_NAMES = 12
FIRST_ORDER = -200  # the lines' positions in the file's snippet (see `names.FIRST_MODULE_LIST`)

_USE = re.compile(r"(?<![\w.])((?:self\.|this\.)?[A-Za-z_$][\w$]*)\s*\.\s*([A-Za-z_$][\w$]*)")


def receivers_near(lines: Sequence[str], first: int, last: int) -> list[str]:
    """Values rows first..last use attributes of (`x.`, `self.x.`), nearest the end first."""
    found: dict[str, None] = {}
    for r in range(last, first - 1, -1):
        for receiver, _ in _USE.findall(lines[r]):
            found.setdefault(receiver, None)
    return list(found)


def attribute_uses(lines: Sequence[str], first: int, last: int, receivers: Sequence[str]
                   ) -> dict[str, dict[str, int]]:
    """{receiver: {attribute: uses}} over rows first..last, for the given receivers (found
    with `str.find`: a regular expression over the rows costs ten times as much)."""
    uses: dict[str, dict[str, int]] = {}
    text = "".join(lines[first : last + 1])
    for receiver in receivers:
        names: dict[str, int] = {}
        needle = receiver + "."
        at = text.find(needle)
        while at >= 0:
            before = text[at - 1] if at else " "
            match = IDENTIFIER.match(text, at + len(needle))
            if match and not (before.isalnum() or before in "_.$"):
                names[match.group()] = names.get(match.group(), 0) + 1
            at = text.find(needle, at + len(needle))
        if names:
            uses[receiver] = names
    return uses


def usage_pieces(lines: Sequence[str], row: int, near_rows: tuple[int, int],
                 near: Mapping[str, float], skip: Container[str], comment: str, label: str,
                 *, ranking: Ranking) -> list[Piece]:
    """A name list per value the rows `near_rows` use attributes of (not those in `skip`:
    module aliases, values whose class is listed): the attributes the rows around the cursor
    (MAX_REGION_ROWS) use on the same value, the most used first, less those used near it
    (each scored `ranking.names.receiver_name`)."""
    first, last = near_rows
    receivers = [r for r in receivers_near(lines, first, last)
                 if r not in skip and r not in ("self", "this")][:MAX_RECEIVERS]
    if not receivers:
        return []
    start = max(0, row - MAX_REGION_ROWS // 2)
    end = min(len(lines) - 1, start + MAX_REGION_ROWS)
    uses = attribute_uses(lines, start, end, receivers)
    found: list[Piece] = []
    for number, receiver in enumerate(receivers):
        counts = uses.get(receiver, {})
        names = sorted((n for n in counts if is_listable(n) and n not in near),
                       key=lambda n: -counts[n])[:MAX_NAMES]
        if names:
            found += pieces(NameList(f"{comment} {receiver}: ", label, FIRST_ORDER + number,
                                     tuple((n, ranking.names.receiver_name) for n in names)))
    return found
