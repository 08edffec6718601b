"""The outline of one file: its units in order, found by name or by enclosing class, up to date.

A live document replaces the units an edit touched; the ones after it do not move: like a gap
buffer, units after the last edit keep their distance from the end of the file, units before it
their distance from the start. Typing touches only the units it changes, and moving to another
place converts only the units in between.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from spark_lsp.syntax.outline import Unit
from spark_lsp.syntax.symbols import CONTAINER_KINDS, Import, Symbol


class FileOutline:
    """Units sorted by position (disjoint), with indexes by symbol name and by parent."""

    def __init__(self, path: str, language: str, units: Iterable[Unit] = ()) -> None:
        self.path = path
        self.language = language
        self.units: list[Unit] = []
        self._unit_counts: dict[str, int] = {}
        self.name_counts: dict[str, int] = {}  # identifier → uses (open documents only)
        self._by_word: dict[str, dict[Unit, None]] = {}  # identifier → units using it
        self._by_name: dict[str, dict[Unit, None]] = {}
        self._by_parent: dict[str, dict[Unit, None]] = {}
        self._with_imports: dict[Unit, None] = {}
        self._members: dict[tuple[str, frozenset[str] | None, bool], list[Symbol]] = {}
        self._imports: list[Import] | None = None
        self._imports_end = -1  # the last byte of an import unit when `_imports` was made
        self.version = 0  # bumped by every change
        self.symbols_version = 0  # bumped only when a definition or import changed
        # units[:_gap] hold absolute positions, units[_gap:] their distance back from
        # (_end_byte, _end_row) — any origin will do, as long as edits move it (see `_at`).
        self._gap = 0
        self._end_byte = 0
        self._end_row = 0
        for unit in units:
            self._index(unit)
            self.units.append(unit)
        self._gap = len(self.units)

    # -- positions -----------------------------------------------------------------------------

    def _at(self, unit: Unit) -> tuple[int, int, int, int]:
        """(start byte, end byte, start row, end row) of a unit, now."""
        if unit.tail:
            end, rows = self._end_byte, self._end_row
            return (end - unit.start_byte, end - unit.end_byte, rows - unit.start_row,
                    rows - unit.end_row)
        return unit.start_byte, unit.end_byte, unit.start_row, unit.end_row

    def _row(self, unit: Unit) -> int:
        return self._end_row - unit.start_row if unit.tail else unit.start_row

    def _move_gap(self, to: int) -> None:
        end, rows = self._end_byte, self._end_row
        for unit in self.units[to : self._gap]:  # into the tail
            unit.start_byte, unit.end_byte = end - unit.start_byte, end - unit.end_byte
            unit.start_row, unit.end_row = rows - unit.start_row, rows - unit.end_row
            unit.tail = True
        for unit in self.units[self._gap : to]:  # into the head
            unit.start_byte, unit.end_byte = end - unit.start_byte, end - unit.end_byte
            unit.start_row, unit.end_row = rows - unit.start_row, rows - unit.end_row
            unit.tail = False
        self._gap = to

    def _first_ending_at_or_after(self, byte: int) -> int:
        lo, hi = 0, len(self.units)
        while lo < hi:
            mid = (lo + hi) // 2
            if self._at(self.units[mid])[1] < byte:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def _first_starting_after_row(self, row: int) -> int:
        lo, hi = 0, len(self.units)
        while lo < hi:
            mid = (lo + hi) // 2
            if self._row(self.units[mid]) <= row:
                lo = mid + 1
            else:
                hi = mid
        return lo

    # -- editing -------------------------------------------------------------------------------

    def _index(self, unit: Unit) -> None:
        self._unit_counts[unit.container] = self._unit_counts.get(unit.container, 0) + 1
        for symbol in unit.symbols:
            self._by_name.setdefault(symbol.name, {})[unit] = None
            self._by_parent.setdefault(symbol.parent, {})[unit] = None
        if unit.imports:
            self._with_imports[unit] = None
            self._imports = None
        if unit.names:
            counts, by_word = self.name_counts, self._by_word
            for name, n in unit.names.items():
                counts[name] = counts.get(name, 0) + n
                by_word.setdefault(name, {})[unit] = None

    def _unindex(self, unit: Unit) -> None:
        self._unit_counts[unit.container] -= 1
        for symbol in unit.symbols:
            for table, key in ((self._by_name, symbol.name), (self._by_parent, symbol.parent)):
                entry = table.get(key)
                if entry is not None:
                    entry.pop(unit, None)
                    if not entry:
                        del table[key]
        if self._with_imports.pop(unit, 0) is None:
            self._imports = None
        if unit.names:
            counts, by_word = self.name_counts, self._by_word
            for name, n in unit.names.items():
                left = counts.get(name, 0) - n
                if left > 0:
                    counts[name] = left
                else:
                    counts.pop(name, None)
                users = by_word.get(name)
                if users is not None:
                    users.pop(unit, None)
                    if not users:
                        del by_word[name]

    def replace_region(self, start: int, old_end: int, old_end_row: int, moved_bytes: int,
                       moved_rows: int, new_units: list[Unit], covered: int = 0) -> int:
        """Drop the units touching bytes [start, old_end] (inclusive, old coordinates) or starting
        on row `old_end_row` or before byte `covered` (what the new units span past the edit),
        shift the later ones, and put `new_units` (new coordinates, in order) in their place.
        Returns how many units were dropped."""
        self._members.clear()
        self.version += 1
        lo = self._first_ending_at_or_after(start)
        hi = lo
        while hi < len(self.units):
            unit_start, _, unit_row, _ = self._at(self.units[hi])
            if unit_start > old_end and unit_row > old_end_row and unit_start >= covered:
                break
            hi += 1
        self._move_gap(hi)  # everything after the edit keeps its distance from the end
        removed = self.units[lo:hi]
        for unit in removed:
            self._unindex(unit)
        del self.units[lo:hi]
        if [(u.symbols, u.imports, u.container) for u in removed] != \
                [(u.symbols, u.imports, u.container) for u in new_units]:
            self.symbols_version += 1
        if moved_bytes or moved_rows:
            self._end_byte += moved_bytes
            self._end_row += moved_rows
            if self._imports_end >= start:  # some imports moved
                self._imports = None
        new_units = [u for u in new_units if not self._overlaps_kept(u, lo)]
        for unit in new_units:
            self._index(unit)
        self.units[lo:lo] = new_units
        self._gap = lo + len(new_units)
        return hi - lo

    def _overlaps_kept(self, unit: Unit, at: int) -> bool:
        """A derived unit that a kept neighbour already covers (guards against duplicates)."""
        before = self.units[at - 1] if at > 0 else None
        after = self.units[at] if at < len(self.units) else None
        if before is not None and self._at(before)[1] > unit.start_byte:
            return True
        return after is not None and self._at(after)[0] < unit.end_byte

    # -- reading -------------------------------------------------------------------------------

    def spans_using(self, name: str, limit: int) -> list[tuple[int, int]]:
        """Row spans (first, last) of the units that use the identifier `name` (open documents;
        at most `limit`, empty when more units use it)."""
        users = self._by_word.get(name)
        if not users or len(users) > limit:
            return []
        return [(at[2], at[3]) for at in (self._at(u) for u in users)]

    def has_unit(self, start_byte: int, end_byte: int, container: str) -> bool:
        """Whether a unit of `container` spans exactly these bytes."""
        index = self._first_ending_at_or_after(end_byte)
        if index >= len(self.units):
            return False
        unit = self.units[index]
        at = self._at(unit)
        return at[0] == start_byte and at[1] == end_byte and unit.container == container

    def is_unique_container(self, qualname: str) -> bool:
        """False when two containers share the name (their members' counts add up)."""
        if not qualname:
            return True
        name = qualname.rsplit(".", 1)[-1]
        return sum(1 for s in self.lookup(name) if s.qualname == qualname
                   and s.kind in CONTAINER_KINDS) <= 1

    def unit_count(self, container: str) -> int:
        """How many units are members of `container` ("" for the top level)."""
        return self._unit_counts.get(container, 0)

    def _symbols(self, units: Iterable[Unit]) -> Iterator[Symbol]:
        for unit in units:
            base = self._row(unit)
            for symbol in unit.symbols:
                yield symbol.shifted(base)

    def lookup(self, name: str) -> list[Symbol]:
        """Definitions named `name`, in file order."""
        units = self._by_name.get(name)
        if not units:
            return []
        found = [s for s in self._symbols(units) if s.name == name]
        return sorted(found, key=lambda s: s.row)

    def lookup_at(self, row: int) -> list[Symbol]:
        """Definitions starting on `row`."""
        index = self._first_starting_after_row(row) - 1
        found: list[Symbol] = []
        while index >= 0:
            unit = self.units[index]
            _, _, first, last = self._at(unit)
            found.extend(s.shifted(first) for s in unit.symbols if s.row + first == row)
            if found or last < row:
                break
            index -= 1
        return found

    def members(self, qualname: str, kinds: frozenset[str] | None = None,
                positioned: bool = True) -> list[Symbol]:
        """Definitions whose parent is `qualname` ("" for the top level), in file order; only
        those of `kinds` when given; with rows relative to their unit unless `positioned`.
        (Remembered until the outline changes.)"""
        key = (qualname, kinds, positioned)
        cached = self._members.get(key)
        if cached is not None:
            return cached
        found = []
        for unit in self._by_parent.get(qualname, ()):
            base = self._row(unit) if positioned else 0
            for symbol in unit.symbols:
                if symbol.parent == qualname and (kinds is None or symbol.kind in kinds):
                    found.append(symbol.shifted(base))
        if positioned:
            found.sort(key=lambda s: s.row)
        if len(self._members) > 256:
            self._members.clear()
        self._members[key] = found
        return found

    def has_member(self, qualname: str, name: str) -> bool:
        """Whether `qualname` has a member called `name`."""
        return any(s.name == name and s.parent == qualname
                   for unit in self._by_name.get(name, ()) for s in unit.symbols)

    def is_top_level(self, name: str) -> bool:
        """Whether `name` is defined at the top level of the file."""
        units = self._by_name.get(name)
        return units is not None and any(s.name == name and s.depth == 0
                                         for unit in units for s in unit.symbols)

    def has_parent(self, qualname: str) -> bool:
        return qualname in self._by_parent

    def imports(self) -> list[Import]:
        """The import statements, in file order (remembered while no edit moves them)."""
        if self._imports is None:
            found = [i.shifted(self._row(u)) for u in self._with_imports for i in u.imports]
            self._imports = sorted(found, key=lambda i: i.row)
            self._imports_end = max((self._at(u)[1] for u in self._with_imports), default=-1)
        return self._imports

    def names(self) -> Iterable[str]:
        return self._by_name.keys()

    def symbols(self) -> list[Symbol]:
        """Every definition, in file order."""
        return list(self._symbols(self.units))

    def around(self, row: int) -> tuple[Iterator[tuple[Symbol, int]],
                                        Iterator[tuple[Symbol, int]]]:
        """Definitions starting above `row` (nearest first) and below it (nearest first), each
        as (symbol with rows relative to its unit, the unit's first row): shift the ones used."""
        split = self._first_starting_after_row(row)

        def above() -> Iterator[tuple[Symbol, int]]:
            for index in range(split - 1, -1, -1):
                unit = self.units[index]
                base = self._row(unit)
                for symbol in reversed(unit.symbols):
                    yield symbol, base

        def below() -> Iterator[tuple[Symbol, int]]:
            for index in range(split, len(self.units)):
                unit = self.units[index]
                base = self._row(unit)
                for symbol in unit.symbols:
                    yield symbol, base

        return above(), below()
