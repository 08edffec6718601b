"""What one request reads of the context engine, frozen when the request starts: the settings,
the ignore rules, the workspace index and its generation then, the package outlines ready then,
the other open documents' outlines and the token counter of the request's model.

Nothing here reads a file: what the index or a package outline does not hold yet is not
offered (and asked for, for a later request). The request's own document outline is the
engine's live one at the snapshot's version (checked: `ContextEngine.outline`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar, cast

from spark_lsp.context.memo import Memo
from spark_lsp.context.sticky import Kept
from spark_lsp.context.tokens import TokenCounter
from spark_lsp.documents.store import DocumentSnapshot
from spark_lsp.settings import ContextSettings
from spark_lsp.syntax.file_outline import FileOutline
from spark_lsp.syntax.symbols import Import, Symbol
from spark_lsp.workspace.ignore import IgnoreRules
from spark_lsp.workspace.index import WorkspaceIndex
from spark_lsp.workspace.packages import ReadyPackages

if TYPE_CHECKING:
    from spark_lsp.context.engine import ContextEngine

T = TypeVar("T")


@dataclass(frozen=True)
class ContextView:
    """The engine's state for one request (see the module docstring)."""

    uri: str
    settings: ContextSettings
    rules: IgnoreRules
    index: WorkspaceIndex | None
    generation: int  # the index's when the request started (-1: no index)
    packages: ReadyPackages
    open_files: Mapping[str, FileOutline]  # other open documents' outlines, by absolute path
    count: TokenCounter
    exact: bool  # `count` is the model's own tokenizer
    engine: ContextEngine = field(repr=False, compare=False)

    @property
    def memo(self) -> Memo:
        return self.engine.memo

    def counter(self) -> tuple[TokenCounter, bool]:
        return self.count, self.exact

    def is_excluded(self, path: str | None) -> bool:
        return path is not None and self.rules.is_excluded(path)

    def label(self, path: str) -> str:
        return self.engine.label(path)

    def labelled(self, label: str) -> FileOutline | None:
        """The outline the index (or an open document) holds for the file a prompt label
        names; None for a file it does not hold (a package's, or a label made elsewhere)."""
        path = self.engine.path_of(label)
        return self.file(path) if path is not None else None

    def outline(self, snapshot: DocumentSnapshot, typing_row: int | None = None
                ) -> FileOutline | None:
        return self.engine.outline(snapshot, typing_row)

    def kept(self, uri: str) -> Kept | None:
        return self.engine.kept(uri)

    def keep(self, uri: str, kept: Kept) -> None:
        self.engine.keep(uri, kept)

    # -- the workspace (`context.related.Workspace`) -------------------------------------------

    def file(self, path: str) -> FileOutline | None:
        absolute = os.path.abspath(path)
        if self.is_excluded(absolute):
            return None
        found = self.open_files.get(absolute)
        if found is not None:
            return found
        return self.index.file(absolute) if self.index is not None else None

    def resolve(self, imp: Import, from_path: str, language: str, name: str = ""
                ) -> list[FileOutline]:
        index = self.index
        if index is None:
            return []
        return self._lookup(("resolve", imp, from_path, language, name), lambda: [
            o for o in index.resolve(imp, from_path, language, name)
            if not self.is_excluded(o.path)])

    def definitions(self, name: str, limit: int = 8) -> list[tuple[FileOutline, Symbol]]:
        index = self.index
        if index is None:
            return []
        return self._lookup(("definitions", name, limit), lambda: [
            (o, s) for o, s in index.definitions(name, limit) if not self.is_excluded(o.path)])

    def _lookup(self, key: Hashable, make: Callable[[], T]) -> T:
        lookups = self.engine.lookups(self.generation, self.uri)
        if key not in lookups:
            lookups[key] = make()
        return cast(T, lookups[key])
