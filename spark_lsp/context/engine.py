"""What the context builder draws on beyond the snapshot: the open documents' outlines (kept
incrementally), the workspace index, the package outlines, the ignore rules and the token
counter of the request's model.

The session owns one engine; a request reads it through a `ContextView` taken when it starts
(`view`), passed explicitly to the builder. The index (parsing in a child process) and the
package outlines are prepared in worker threads; a request uses what is ready.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Hashable, Sequence
from pathlib import Path

from spark_lsp.context.memo import Memo
from spark_lsp.context.sticky import Kept
from spark_lsp.context.tokens import TokenCounter, cached_estimate, counter_for
from spark_lsp.context.view import ContextView
from spark_lsp.documents.store import DocumentSnapshot, DocumentStore
from spark_lsp.settings import ContextSettings
from spark_lsp.syntax.file_outline import FileOutline
from spark_lsp.syntax.outline_cache import DocumentOutline
from spark_lsp.workspace.ignore import IgnoreRules
from spark_lsp.workspace.index import IndexStats, WorkspaceIndex
from spark_lsp.workspace.modules import STDLIB
from spark_lsp.workspace.outliner import Outliner
from spark_lsp.workspace.packages import PackageOutlines, import_candidates

log = logging.getLogger(__name__)


class ContextEngine:
    """Open documents' outlines + workspace index + package outlines + ignore rules + token
    counters."""

    def __init__(self, documents: DocumentStore | None = None,
                 settings: ContextSettings | None = None) -> None:
        self.documents = documents
        self.settings = settings or ContextSettings()
        self.roots: list[Path] = []
        self.rules = IgnoreRules([], self.settings.exclude)
        self.index: WorkspaceIndex | None = None
        self.outliner: Outliner | None = None  # the index's child process (`start_outliner`)
        self.packages = PackageOutlines([], self._is_excluded_now)
        self.memo = Memo()  # what the builder derives once (see `context.memo`)
        self._outlines: dict[str, DocumentOutline] = {}
        self._open_paths: dict[str, str] = {}  # path → uri
        self._lookups: dict[Hashable, object] = {}  # resolve/definitions, memoised
        self._lookups_key: tuple[int, str | None] = (-1, None)
        self._build: asyncio.Future[IndexStats | None] | None = None
        self._kept: dict[str, Kept] = {}
        self._counter: tuple[object, TokenCounter, bool] | None = None
        self._labels: dict[str, str] = {}  # path → label (for these roots)
        self._paths: dict[str, str] = {}  # label → path (the other way)

    # -- workspace -----------------------------------------------------------------------------

    def set_roots(self, roots: Sequence[Path | str]) -> None:
        self.roots = [Path(os.path.abspath(r)) for r in roots]
        self._labels = {}
        self._paths = {}
        self.rules = IgnoreRules(self.roots, self.settings.exclude)
        self.index = WorkspaceIndex(self.roots, self.settings, self.rules) if self.roots else None
        if self.index is not None:
            self.index.outliner = self.outliner
        self.packages = PackageOutlines(self.roots, self._is_excluded_now)
        self.memo.clear()

    def update_settings(self, settings: ContextSettings) -> None:
        if settings == self.settings:
            return
        if settings.exclude != self.settings.exclude:
            self.rules = IgnoreRules(self.roots, settings.exclude)
            # Prepared again as asked for: the new rules' verdicts are decided there.
            self.packages = PackageOutlines(self.roots, self._is_excluded_now)
        self.settings = settings
        if self.index is not None:
            self.index.update_settings(settings, self.rules)

    def _is_excluded_now(self, path: str) -> bool:
        return self.rules.is_excluded(path)

    async def build_index(self) -> IndexStats | None:
        """Index the workspace folders, then outline the packages their files import, in a
        worker thread (call once, after `initialized`)."""
        if self.index is None:
            return None
        if self.index.outliner is None:
            self.start_outliner()
        self._build = asyncio.ensure_future(asyncio.to_thread(self.build_index_now))
        try:
            return await asyncio.shield(self._build)
        except Exception:
            log.exception("workspace index failed")
            return None

    def start_outliner(self, outliner: Outliner | None = None) -> None:
        """Let the index parse and outline files in a child process (the server's: the GIL
        stays free for requests), `outliner`'s or a new one, started now."""
        if outliner is not None:
            self.outliner = outliner
        elif self.outliner is None:
            self.outliner = Outliner()
        self.outliner.start()
        if self.index is not None:
            self.index.outliner = self.outliner

    def build_index_now(self) -> IndexStats | None:
        """`build_index` in this thread (blocking: a worker, a benchmark, a test)."""
        if self.index is None:
            return None
        stats = self.index.build()
        self.packages.prepare(self._imported_elsewhere(self.index))
        return stats

    @staticmethod
    def _imported_elsewhere(index: WorkspaceIndex) -> list[str]:
        """The modules the workspace's Python files import that are not workspace files (or
        are the standard library's): what the builder will ask the package outlines for."""
        wanted: dict[str, None] = {}
        for path in index.paths():
            outline = index.file(path)
            if outline is None or outline.language != "python":
                continue
            for imp in outline.imports():
                if imp.level == 0 and imp.module and (
                        imp.module.split(".")[0] in STDLIB
                        or not index.resolve(imp, path, "python")):
                    wanted.update(dict.fromkeys(import_candidates([imp])))
        return list(wanted)

    async def prepare_packages_for(self, snapshot: DocumentSnapshot) -> None:
        """Outline the packages an open document imports, in a worker thread, and wait (the
        command line's one request; tests)."""
        outline = self.outline(snapshot)
        if outline is not None:
            await asyncio.to_thread(self.packages.prepare, import_candidates(outline.imports()))

    async def file_saved(self, path: str | None, text: str | None) -> None:
        if path is not None and self.index is not None:
            await asyncio.to_thread(self.index.update_file, path, text)

    async def files_changed(self, changes: Sequence[tuple[str, bool]]) -> None:
        """Watched-file events: (path, deleted)."""
        if self.index is None:
            return
        index = self.index
        if any(os.path.basename(p) == ".gitignore" for p, _ in changes):
            self.rules.forget_gitignores()
            self.packages = PackageOutlines(self.roots, self._is_excluded_now)  # (verdicts)
            await asyncio.to_thread(index.prune_excluded)

        def apply() -> None:
            for path, deleted in changes:
                if deleted:
                    index.remove_file(path)
                else:
                    index.update_file(path)

        await asyncio.to_thread(apply)

    def close(self) -> None:
        if self.index is not None:
            self.index.cancelled.set()
        if self.outliner is not None:
            self.outliner.close()

    # -- documents -----------------------------------------------------------------------------

    def outline(self, snapshot: DocumentSnapshot, typing_row: int | None = None
                ) -> FileOutline | None:
        """The open document's outline at the snapshot's version (None when it moved on).

        With `typing_row`, an outline that is behind only by edits within that row is returned
        as it is (its `symbols_version` unchanged): the builder then reuses its last choice,
        and calls again without `typing_row` when it has to choose anew."""
        if self.documents is None or snapshot.language is None:
            return None
        document = self.documents.get(snapshot.uri)
        if document is None or document.syntax is None or document.version != snapshot.version:
            return None
        lines = document.buffer.lines
        if len(lines) != len(snapshot.lines) or any(
                snapshot.lines[i] is not lines[i] for i in (0, len(lines) // 2, len(lines) - 1)):
            return None  # a snapshot of other text (an action's edited copy)
        live = self._outlines.get(snapshot.uri)
        if live is None or live.language != snapshot.language:
            live = self._outlines[snapshot.uri] = DocumentOutline(snapshot.path or snapshot.uri,
                                                                  snapshot.language)
        if snapshot.path is not None:
            self._open_paths[os.path.abspath(snapshot.path)] = snapshot.uri
        if typing_row is not None and live.behind_only_on_row(document.syntax, typing_row):
            return live.outline
        return live.refresh(document.syntax, document.buffer.lines)

    def kept(self, uri: str) -> Kept | None:
        """What the builder chose for this document last (see `context.sticky`)."""
        return self._kept.get(uri)

    def keep(self, uri: str, kept: Kept) -> None:
        self._kept[uri] = kept

    def document_closed(self, uri: str) -> None:
        self._kept.pop(uri, None)
        live = self._outlines.pop(uri, None)
        if live is not None:
            self._open_paths.pop(os.path.abspath(live.path), None)

    # -- one request's view ---------------------------------------------------------------------

    def view(self, snapshot: DocumentSnapshot, backend: object | None = None) -> ContextView:
        """What a request on `snapshot` reads (see `context.view`), with the token counter of
        `backend` (the request's model) when it has a tokenizer, else the estimate."""
        count, exact = self._counter_for(backend)
        open_files = {path: self._outlines[uri].outline for path, uri in self._open_paths.items()
                      if uri != snapshot.uri and uri in self._outlines}
        return ContextView(
            uri=snapshot.uri, settings=self.settings, rules=self.rules, index=self.index,
            generation=self.index.published if self.index is not None else -1,
            packages=self.packages.snapshot(), open_files=open_files, count=count, exact=exact,
            engine=self)

    def _counter_for(self, backend: object | None) -> tuple[TokenCounter, bool]:
        """One counter per backend, so its cache of line counts lasts across requests."""
        if backend is None:
            return cached_estimate, False
        if self._counter is None or self._counter[0] is not backend:
            self._counter = (backend, *counter_for(backend))
        return self._counter[1], self._counter[2]

    def is_excluded(self, path: str | None) -> bool:
        return path is not None and self.rules.is_excluded(path)

    def label(self, path: str) -> str:
        """A path as the prompt names it: relative to its workspace folder."""
        label = self._labels.get(path)
        if label is None:
            absolute = Path(os.path.abspath(path))
            root = self.rules.root_of(absolute)
            label = str(absolute) if root is None \
                else str(absolute.relative_to(root)) or absolute.name
            if len(self._labels) >= 10_000:
                self._labels.clear()
                self._paths.clear()
            self._labels[path] = label
            self._paths[label] = path
        return label

    def path_of(self, label: str) -> str | None:
        """The path a label was made of (`label`), if it was made here."""
        return self._paths.get(label)

    def lookups(self, generation: int, uri: str) -> dict[Hashable, object]:
        """The memo of index look-ups (resolve/definitions): valid while the index is
        unchanged and requests keep coming from the same document."""
        key = (generation, uri)
        if key != self._lookups_key or len(self._lookups) > 4096:
            self._lookups.clear()
            self._lookups_key = key
        return self._lookups
