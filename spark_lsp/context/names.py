"""Name lists: one comment line per source of names the completion may need — the enclosing
class's members (own and inherited), the classes of values near the cursor (annotated,
constructed, or duck-typed), what the file defines at module level, what an imported module
offers (`# st (hypothesis.strategies): integers, sampled_from, …`).

One piece per name, so the packer adds names one by one by value per token (a name costs a few
tokens where its signature costs twenty): a small model gets the spelling of what exists. Names
that share words with the names near the cursor (`content_type` → `_guess_content_type`) rank
and score higher.
"""

from __future__ import annotations

import functools
import heapq
import math
import re
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass

from spark_lsp.context.hints import base_classes
from spark_lsp.context.imported import LISTED_KINDS, ImportedModule, is_listable
from spark_lsp.context.memo import Memo
from spark_lsp.context.packing import Piece
from spark_lsp.context.ranking import Ranking
from spark_lsp.context.related import Workspace, resolve_name
from spark_lsp.syntax.file_outline import FileOutline
from spark_lsp.syntax.symbols import CONTAINER_KINDS, Import, Symbol

# A listed name's value is its score / 1000 plus its weight (`weights.name_weights`), per token
# it costs; the scores are `ranking.Names`.
MAX_NAMES = 30  # per list: the likeliest (see `ranked`)
MAX_IMPORTED = 80
MAX_CANDIDATES = 300  # module-level names ranked per request (the most used of the file)
MAX_MODULES = 12  # imported modules listed: those used nearest the cursor, most in the file
MAX_BASE_DEPTH = 2  # bases of bases followed for inherited members
# Lines of the current file's snippet: the uses of nearby values from -200 (`usage`), imported
# modules' names from -100 (a module names itself in the line's head: no path label needed),
# imported names -1, class members 0, module-level names 1, the classes of nearby values 2 + row.
FIRST_MODULE_LIST = -100


@dataclass(frozen=True)
class NameList:
    """A line to grow: `head` then names, under the snippet of `path` at position `order`;
    each name with its score."""

    head: str
    path: str
    order: int
    names: tuple[tuple[str, float], ...]


_PARTS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")
_VAGUE_PARTS = frozenset({"get", "set", "the", "self", "new", "not", "has", "for", "and"})


@functools.lru_cache(maxsize=16384)
def parts(name: str) -> frozenset[str]:
    """The words a name is made of (`_guess_content_type` → guess, content, type)."""
    return frozenset(p.lower() for p in _PARTS.findall(name)
                     if len(p) >= 3 and p.lower() not in _VAGUE_PARTS)


class Kinship:
    """How much a name shares words with the names used near the cursor: `content_type`
    nearby makes `_guess_content_type` likelier, `builder.add_init()` makes `add_attrs_init`."""

    def __init__(self, near: Mapping[str, float], *, ranking: Ranking) -> None:
        self.most = ranking.names.max_kinship
        self.words: dict[str, float] = {}
        self._memo: dict[str, float] = {}
        for name, weight in near.items():
            for part in parts(name):
                self.words[part] = max(self.words.get(part, 0.0), min(weight, 1.0))

    def __call__(self, name: str) -> float:
        if not self.words:
            return 0.0
        value = self._memo.get(name)
        if value is None:
            value = self._memo[name] = min(sum(self.words.get(p, 0.0) for p in parts(name)),
                                           self.most)
        return value


def ranked(names: Iterable[str], counts: Mapping[str, int], skip: Container[str],
           popularity: Mapping[str, int] | None = None,
           kinship: Callable[[str], float] = lambda name: 0.0, limit: int = MAX_NAMES,
           first: Container[str] = (), *, ranking: Ranking) -> list[str]:
    """Distinct listable names not in `skip`, the likeliest first: those in `first`, those
    sharing words with the nearby names, used most in the file or by the workspace's other
    files (stable; `ranking.names` says how much each counts)."""
    unique = [n for n in dict.fromkeys(names) if is_listable(n) and n not in skip]
    popular = popularity if popularity is not None else {}
    by_file, by_workspace = ranking.names.order_file_uses, ranking.names.order_workspace_uses
    unique.sort(key=lambda n: (n not in first, -(
        kinship(n) + math.log2(1 + counts.get(n, 0)) / by_file
        + math.log2(1 + popular.get(n, 0)) / by_workspace)))
    return unique[:limit]


def not_yet_used(names: Iterable[str], counts: Mapping[str, int]) -> dict[str, None]:
    """The names the file has only once — where it defines or imports them: likely made for
    the code being written; no names when `counts` is empty (not known)."""
    return dict.fromkeys(n for n in names if counts and counts.get(n, 0) <= 1)


def pieces(name_list: NameList) -> list[Piece]:
    return [Piece(score - rank / 100, path=name_list.path, order=(-1, name_list.order),
                  text=name, kind="names", group=name_list.head)
            for rank, (name, score) in enumerate(name_list.names)]


def member_names(outline: FileOutline, owner: Symbol) -> list[str]:
    """The names of a class's members (methods, class variables, attributes set on self)."""
    return [m.name for m in outline.members(owner.qualname, positioned=False)
            if m.kind in LISTED_KINDS]


def inherited_names(outline: FileOutline, owner: Symbol,
                    bases_of: Callable[[FileOutline, Symbol], Sequence[tuple[FileOutline, Symbol]]],
                    depth: int = MAX_BASE_DEPTH) -> list[str]:
    """Members of a class's bases (and their bases, `depth` levels), nearest base first."""
    names: list[str] = []
    seen = {(outline.path, owner.qualname)}
    frontier = [(outline, owner)]
    for _ in range(depth):
        following = []
        for file, symbol in frontier:
            for base_file, base in bases_of(file, symbol):
                if (base_file.path, base.qualname) in seen or base.kind not in CONTAINER_KINDS:
                    continue
                seen.add((base_file.path, base.qualname))
                names += member_names(base_file, base)
                following.append((base_file, base))
        frontier = following
    return names


def module_names(outline: FileOutline, skip: Container[str]) -> list[str]:
    """What a file defines at module level (not what it imports)."""
    return [s.name for s in outline.members("", positioned=False)
            if s.kind in LISTED_KINDS and s.name not in skip]


def _bases_of(language: str, workspace: Workspace | None
              ) -> Callable[[FileOutline, Symbol], list[tuple[FileOutline, Symbol]]]:
    def bases_of(file: FileOutline, symbol: Symbol) -> list[tuple[FileOutline, Symbol]]:
        out: list[tuple[FileOutline, Symbol]] = []
        for base in base_classes(symbol.signature):
            here = [s for s in file.lookup(base) if s.kind in CONTAINER_KINDS]
            if here:
                out.append((file, here[0]))
            elif workspace is not None:
                out += [(f.outline, f.symbol) for f in resolve_name(
                    base, file.imports(), file.path, language, workspace)]
        return out

    return bases_of


@dataclass(frozen=True)
class Skip:
    """Names in either of two containers."""

    first: Container[str]
    second: Container[str]

    def __contains__(self, name: object) -> bool:
        return name in self.first or name in self.second


def inherited_member_names(outline: FileOutline, owner: Symbol | None, language: str,
                           workspace: Workspace | None) -> dict[str, None]:
    """The members the class `owner` inherits and does not define (nearest base first)."""
    if owner is None:
        return {}
    own = set(member_names(outline, owner))
    return {n: None for n in inherited_names(outline, owner, _bases_of(language, workspace))
            if n not in own}


def _module_candidates(outline: FileOutline) -> list[str]:
    """A file's module-level names, the most used first (at most MAX_CANDIDATES): a
    30,000-line file has thousands (remembered until a definition changes: `name_list_pieces`)."""
    counts = outline.name_counts
    found = [n for n in dict.fromkeys(module_names(outline, ())) if is_listable(n)]
    if len(found) > MAX_CANDIDATES:
        found = heapq.nlargest(MAX_CANDIDATES, found, key=lambda n: counts.get(n, 0))
    return found


def name_list_pieces(outline: FileOutline, owner: Symbol | None, inherited: Iterable[str],
                     modules: Sequence[ImportedModule], near: Mapping[str, float],
                     enclosing: Container[str], comment: str, label: str,
                     unassigned: Sequence[str] = (),
                     member_popularity: Mapping[str, int] | None = None,
                     memo: Memo | None = None, *, ranking: Ranking) -> list[Piece]:
    """The name lists for a cursor — the enclosing class's members (own, then `inherited`,
    first the `unassigned` attributes it reads but never sets), the file's module-level
    names, the names of imported `modules` the workspace uses — less the names used near the
    cursor (they are in the prompt already). Members the workspace's files use most
    (`member_popularity`) rank higher."""
    kin = Kinship(near, ranking=ranking)
    found: list[Piece] = []
    if owner is not None:
        found += _member_list(outline, owner, inherited, near, comment, label, unassigned,
                              member_popularity, kin, ranking)
    found += _module_level_list(outline, Skip(near, enclosing), comment, label, kin, ranking,
                                memo)
    found += _module_lists(outline, modules, near, comment, label, kin, ranking)
    return found


def _member_list(outline: FileOutline, owner: Symbol, inherited: Iterable[str],
                 near: Mapping[str, float], comment: str, label: str,
                 unassigned: Sequence[str], member_popularity: Mapping[str, int] | None,
                 kin: Kinship, ranking: Ranking) -> list[Piece]:
    """`# class C members: …`: the `unassigned` attributes first, then by `ranked`."""
    scores = ranking.names
    member_score = _popularity(member_popularity, ranking)
    more = set(inherited)
    expected = set(unassigned)
    names = ranked(list(unassigned) + member_names(outline, owner) + list(inherited),
                   outline.name_counts, near, member_popularity, kinship=kin, first=expected,
                   ranking=ranking)
    return pieces(NameList(f"{comment} class {owner.name} members: ", label, 0, tuple(
        (n, (scores.inherited_name if n in more else scores.class_name) + scores.kin * kin(n)
         + (scores.unassigned_name if n in expected else 0.0) + member_score(n))
        for n in names)))


def _module_level_list(outline: FileOutline, skip: Container[str], comment: str, label: str,
                       kin: Kinship, ranking: Ranking, memo: Memo | None) -> list[Piece]:
    """`# module-level names: …`: those the file does not use yet first."""
    scores = ranking.names
    counts = outline.name_counts
    candidates = _module_candidates(outline) if memo is None else memo.get(
        ("module candidates", outline, outline.symbols_version),
        lambda: _module_candidates(outline))
    pending = not_yet_used(candidates, counts)
    names = ranked(candidates, counts, skip, kinship=kin, first=pending, ranking=ranking)
    return pieces(NameList(f"{comment} module-level names: ", label, 1, tuple(
        (n, scores.module_name + scores.kin * kin(n)
         + (scores.not_yet_used if n in pending else 0.0))
        for n in names)))


def _module_lists(outline: FileOutline, modules: Sequence[ImportedModule],
                  near: Mapping[str, float], comment: str, label: str, kin: Kinship,
                  ranking: Ranking) -> list[Piece]:
    """`# alias (module): …` for the imported modules used nearest the cursor (at most
    MAX_MODULES): the names the workspace uses most, and those this file uses."""
    scores = ranking.names
    counts = outline.name_counts
    found: list[Piece] = []
    chosen = sorted(modules, key=lambda m: (-near.get(m.local, 0.0), -counts.get(m.local, 0)))
    for rank, module in enumerate(chosen[:MAX_MODULES]):
        popular = dict(module.popular)
        own = _used_here(module, counts)
        if not popular and not own:
            continue
        names = ranked([*popular, *own], {**own, **popular}, near, kinship=kin,
                       first=own, ranking=ranking)
        head = f"{comment} {module.local}: " if module.local == module.dotted else \
            f"{comment} {module.local} ({module.dotted}): "
        score = scores.name + scores.alias_near * min(near.get(module.local, 0.0), 1.0)
        top = max(popular.values(), default=1)
        found += pieces(NameList(head, label, FIRST_MODULE_LIST + rank, tuple(
            (n, score + scores.popular * popular.get(n, 0) / top
             + (scores.used_here if n in own else 0.0) + scores.kin * kin(n))
            for n in names)))
    return found


def _popularity(files: Mapping[str, int] | None, ranking: Ranking) -> Callable[[str], float]:
    """A member's score for being used by many workspace files (log-scaled, at most
    `ranking.names.popular_member` for 2**10 files)."""
    if files is None:
        return lambda name: 0.0
    most = ranking.names.popular_member
    return lambda name: most * min(math.log2(1 + files.get(name, 0)) / 10, 1.0)


def _used_here(module: ImportedModule, counts: Mapping[str, int]) -> dict[str, int]:
    """The module's names this file uses too (as `module.name` or otherwise: a name a module
    offers is seldom used for anything else), the most used first, at most MAX_NAMES."""
    if len(module.names) < len(counts):  # (a set: sorted, so that ties do not go by hash)
        used = {n: counts[n] for n in sorted(module.names) if n in counts}
    else:
        used = {n: c for n, c in counts.items() if n in module.names}
    return dict(heapq.nlargest(MAX_NAMES, used.items(), key=lambda item: item[1]))


def imported_name_pieces(imports: Sequence[Import], counts: Mapping[str, int],
                         near: Mapping[str, float], comment: str, label: str,
                         kin: Kinship | None = None, shown: Sequence[Import] = (), *,
                         ranking: Ranking) -> list[Piece]:
    """The names that import statements bind, as a list (`# imported: Path, cast, …`) in
    place of the statements, less those `near` the cursor: first those the file does not use
    yet (imported for the code being written; from the `shown` statements too, whose rows
    compete as code), then those sharing words with the names near the cursor (`kin`, by
    default of `near`), then the names used most in the file (`counts`: empty when not
    known), at most MAX_IMPORTED."""
    scores = ranking.names
    pending = not_yet_used((b.local for imp in (*imports, *shown) for b in imp.bindings), counts)
    bound = [b.local for imp in imports for b in imp.bindings] + list(pending)
    kin = kin if kin is not None else Kinship(near, ranking=ranking)
    names = ranked(bound, counts, near, kinship=kin, limit=MAX_IMPORTED, first=pending,
                   ranking=ranking)
    return pieces(NameList(f"{comment} imported: ", label, -1, tuple(
        (n, scores.imported_name + scores.kin * kin(n)
         + (scores.not_yet_used if n in pending else 0.0))
        for n in names)))


def typed_name_pieces(classes: Mapping[str, Sequence[str]], current: FileOutline,
                      imports: Sequence[Import], path: str, language: str, comment: str,
                      label: str, workspace: Workspace | None, near: Mapping[str, float],
                      is_excluded: Callable[[str], bool],
                      member_popularity: Mapping[str, int] | None = None, *,
                      ranking: Ranking) -> list[Piece]:
    """A name list per class that values near the cursor hold (`{class: [receivers]}`): its
    members, own then inherited (`# formatter (HelpFormatter): width, write, …`)."""
    scores = ranking.names
    found: list[Piece] = []
    bases_of = _bases_of(language, workspace)
    kin = Kinship(near, ranking=ranking)
    member_score = _popularity(member_popularity, ranking)
    for class_name, receivers in classes.items():
        here = [s for s in current.lookup(class_name) if s.kind in CONTAINER_KINDS]
        targets = [(current, here[0])] if here else [] if workspace is None else [
            (f.outline, f.symbol) for f in resolve_name(class_name, imports, path, language,
                                                        workspace)
            if f.symbol.kind in CONTAINER_KINDS and not is_excluded(f.outline.path)]
        for file, symbol in targets[:1]:
            own = member_names(file, symbol)
            more = [n for n in inherited_names(file, symbol, bases_of) if n not in own]
            names = ranked(own + more, current.name_counts, near, member_popularity,
                           kinship=kin, ranking=ranking)
            who = ", ".join(r for r in receivers[:2] if r not in ("self", "this"))
            head = f"{comment} {who} ({class_name}): " if who else f"{comment} {class_name}: "
            where = label if file is current else workspace.label(file.path) \
                if workspace is not None else file.path
            inherited = set(more)
            found += pieces(NameList(head, where, 2 + symbol.row, tuple(
                (n, (scores.inherited_name if n in inherited else scores.typed_name)
                 + scores.kin * kin(n) + member_score(n))
                for n in names)))
    return found
