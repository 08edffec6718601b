"""What the candidate sources of a prompt read (`Scene`): the request's document and cursor,
the ranking, and what is derived from them once, when a source first asks."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from spark_lsp.context import expected, hints, local, names, repeats
from spark_lsp.context.packing import Piece
from spark_lsp.context.ranking import Ranking
from spark_lsp.context.related import class_pieces, resolve_name
from spark_lsp.context.view import ContextView
from spark_lsp.context.weights import names_in
from spark_lsp.documents.store import DocumentSnapshot
from spark_lsp.syntax.file_outline import FileOutline
from spark_lsp.syntax.languages import comment_prefix
from spark_lsp.syntax.prose import Prose, starts_in_prose
from spark_lsp.syntax.scopes import Scope
from spark_lsp.syntax.symbols import Import, Symbol

MAX_BINDING_UNITS = 20  # units using a name the rows below expect, read for its bindings
MAX_HINT_ROWS = 200  # rows of the enclosing function read for annotations and constructors


@dataclass(frozen=True)
class Typed:
    """The classes the code near the cursor holds instances of (`hints`): the enclosing
    class's bases and the classes of nearby values, each with the attributes used on it, and
    the receivers of each (`x`, `self.x`)."""

    bases: dict[str, set[str]]
    classes: dict[str, set[str]]
    receivers: dict[str, list[str]]


@dataclass(frozen=True)
class Scene:
    """What every source reads: the document, the cursor (its scopes and the names used near
    it), the file's outline, the engine, the ranking, the window rows and their prose; and what
    is derived from them once (the cached properties, computed when a source first asks)."""

    snapshot: DocumentSnapshot
    row: int
    scopes: tuple[Scope, ...]
    near: local.Near
    outline: FileOutline
    language: str
    engine: ContextView | None
    ranking: Ranking
    window: list[Piece]
    prose: Prose

    @property
    def lines(self) -> Sequence[str]:
        return self.snapshot.lines

    @property
    def path(self) -> str:
        return self.snapshot.path or self.snapshot.uri

    @property
    def workspace(self) -> ContextView | None:
        """The engine, for a document with a path (other files are looked up from it)."""
        return self.engine if self.snapshot.path is not None else None

    def is_excluded(self, path: str) -> bool:
        return self.engine is not None and self.engine.is_excluded(path)

    @functools.cached_property
    def imports(self) -> list[Import]:
        return self.outline.imports()

    @functools.cached_property
    def bound(self) -> set[str]:
        """The names the imports bind."""
        return {b.local for imp in self.imports for b in imp.bindings}

    @functools.cached_property
    def split_imports(self) -> tuple[list[Import], list[Import]]:
        """The imports the code near the cursor uses, and the others."""
        return local.used_imports(self.imports, self.near)

    @functools.cached_property
    def comment(self) -> str:
        return comment_prefix(self.language, self.snapshot.language_id)

    @functools.cached_property
    def label(self) -> str:
        snapshot = self.snapshot
        if self.engine is not None and snapshot.path is not None:
            return self.engine.label(snapshot.path)
        return snapshot.path or snapshot.uri

    @functools.cached_property
    def owner(self) -> Symbol | None:
        """The enclosing class."""
        return local.enclosing_class(self.outline, self.scopes)

    @functools.cached_property
    def popularity(self) -> Mapping[str, int] | None:
        """How many workspace files use each `.name` (not counting the edited document)."""
        engine, path = self.engine, self.snapshot.path
        if engine is None or engine.index is None or path is None:
            return None
        return engine.index.attribute_files(without=path)

    @functools.cached_property
    def window_rows(self) -> tuple[int, int]:
        """The rows "near the cursor" (`ranking.nearness`)."""
        nearness = self.ranking.nearness
        return max(0, self.row - nearness.rows_above), self.row + nearness.rows_below

    def is_prose(self, row: int) -> bool:
        """Whether a row anywhere in the file holds no code."""
        return starts_in_prose(self.snapshot.tree, self.lines, row)

    @functools.cached_property
    def unbound(self) -> dict[str, int]:
        """The names the rest of the enclosing function uses before anything binds them (see
        `expected.unbound_below`), with the first row using each."""
        function = next((s for s in self.scopes if s.kind == "function"), None)
        if function is None:
            return {}
        bound, outline = self.bound, self.outline
        return expected.unbound_below(self.lines, self.row, function.start_row,
                                      function.end_row,
                                      lambda n: n in bound or outline.is_top_level(n),
                                      self.prose)

    @functools.cached_property
    def inherited(self) -> dict[str, None]:
        """The members the enclosing class inherits and does not define."""
        return names.inherited_member_names(self.outline, self.owner, self.language,
                                            self.workspace)

    @functools.cached_property
    def definitions(self) -> tuple[list[Piece], set[str]]:
        """Same-file definitions of the names used near the cursor, and the names the file
        defines at module level (`local.definition_pieces`)."""
        return local.definition_pieces(self.outline, self.near, self.row, self.scopes,
                                       ranking=self.ranking)

    @functools.cached_property
    def continuations(self) -> list[tuple[int, float]]:
        """(row, likeness) of the rows following the same code elsewhere (`repeats`)."""
        return repeats.continuation_rows(self.lines, self.row, self.window_rows, self.prose)

    @functools.cached_property
    def bindings(self) -> dict[str, list[int]]:
        """The rows elsewhere binding each name the rows below expect (`expected`)."""
        outline = self.outline
        return expected.binding_rows(
            self.lines, self.unbound, lambda n: outline.spans_using(n, MAX_BINDING_UNITS),
            self.window_rows, self.is_prose)

    @functools.cached_property
    def typed(self) -> Typed:
        return _typed(self)

    @functools.cached_property
    def base_classes(self) -> tuple[list[Piece], set[str]]:
        """The enclosing class's bases as pieces, and the names of their members."""
        return self._class_pieces(self.typed.bases, self.ranking.classes.base_class)

    @functools.cached_property
    def held_classes(self) -> tuple[list[Piece], set[str]]:
        """The classes of values near the cursor as pieces, and the names of their members."""
        return self._class_pieces(self.typed.classes, self.ranking.classes.typed)

    def _class_pieces(self, classes: dict[str, set[str]], score: float
                      ) -> tuple[list[Piece], set[str]]:
        return class_pieces(classes, score, self.outline, self.imports, self.path,
                            self.language, self.comment, self.workspace, self.is_excluded,
                            local.header_rows, ranking=self.ranking)

    @functools.cached_property
    def similar(self) -> tuple[list[Piece], dict[str, float]]:
        """Rows elsewhere like the code near the cursor, and how strongly each other name
        co-occurs with it there (`local.similar_pieces`)."""
        return local.similar_pieces(self.outline, self.lines, self.near, self.row,
                                    self.window_rows, names_in, self.snapshot.tree,
                                    ranking=self.ranking)


def _typed(scene: Scene) -> Typed:
    """Which classes the names near the cursor hold: typed parameters and locals, values the
    file's one class with all their attributes fits (duck typing), and `self.x` whose type
    the class or its bases declare."""
    near = scene.near
    function = next((s for s in scene.scopes if s.kind == "function"), None)
    texts = ["".join(scene.lines[max(function.start_row, scene.row - MAX_HINT_ROWS)
                                 : scene.row])] if function is not None else []
    variables = hints.variable_types(texts)
    bases: dict[str, set[str]] = {}
    if scene.owner is not None:
        used = near.attributes.get("self", set()) | near.attributes.get("this", set())
        bases = {b: used for b in hints.base_classes(scene.owner.signature)}
    classes: dict[str, set[str]] = {}
    receivers: dict[str, list[str]] = {}

    def hold(class_name: str, used: Iterable[str], receiver: str) -> None:
        classes.setdefault(class_name, set()).update(used)
        receivers.setdefault(class_name, []).append(receiver)

    for name, class_names in variables.items():  # every typed parameter and local
        for class_name in class_names:
            hold(class_name, near.attributes.get(name, ()), name)
    known = set(variables) | scene.bound
    for name, used in near.attributes.items():  # duck typing: `p.text(); p.group()`
        if name not in known and name not in ("self", "this"):
            duck = hints.classes_having(scene.outline, used)
            if len(duck) == 1:
                hold(duck[0], used, name)
    attributes = _attribute_types(scene, bases)
    for receiver in ("self", "this"):
        for name in near.attributes.get(receiver, ()):
            for class_name in attributes.get(name, ()):
                hold(class_name, near.attributes.get(name, ()), f"{receiver}.{name}")
    return Typed(bases, classes, receivers)


def _attribute_types(scene: Scene, bases: Iterable[str]) -> dict[str, list[str]]:
    """The classes the enclosing class's attributes hold, as it declares them or else its
    `bases` (found in the workspace) do."""
    owner, workspace = scene.owner, scene.workspace
    members = scene.outline.members(owner.qualname, positioned=False) \
        if owner is not None else []
    attributes = hints.attribute_types(members)
    if workspace is None:
        return attributes
    for base in bases:
        for found in resolve_name(base, scene.imports, scene.path, scene.language, workspace):
            inherited = found.outline.members(found.symbol.qualname, positioned=False)
            for name, types in hints.attribute_types(inherited).items():
                attributes.setdefault(name, types)
    return attributes
