"""The workspace index: an outline of every source file of the workspace folders, built in the
background and kept fresh from saves, watched-file events and the open documents.

Bounded by `context.max_index_files` and `context.max_file_bytes`; git-ignored, secret and
excluded files are never read. With an `Outliner` (the server's), files are parsed and outlined
in a child process: the worker thread that builds the index holds the GIL only to walk the
folders and take the results in, so a background build leaves the event loop responsive.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from spark_lsp.settings import ContextSettings
from spark_lsp.syntax.file_outline import FileOutline
from spark_lsp.syntax.languages import language_for
from spark_lsp.syntax.symbols import Import, Symbol
from spark_lsp.workspace.ignore import SKIPPED_DIRS, IgnoreRules
from spark_lsp.workspace.modules import (
    STDLIB,
    has_init,
    import_keys,
    imports_as,
    module_keys,
    python_module_name,
)
from spark_lsp.workspace.outliner import (
    IndexedFile,
    Job,
    Outliner,
    attribute_names,
    index_file,
    outline_source,
    read_source,
)

__all__ = ["AttributeFiles", "IndexStats", "WorkspaceIndex", "attribute_names",
           "outline_source", "read_source"]

log = logging.getLogger(__name__)

PUBLISH_SECONDS = 0.5

class AttributeFiles(Mapping[str, int]):
    """name → how many files use `.name`, less one when `own` (the edited document's saved
    text) uses it. A view: it follows the index."""

    def __init__(self, counts: Mapping[str, int], own: frozenset[str]) -> None:
        self.counts = counts
        self.own = own

    def __getitem__(self, name: str) -> int:
        found = self.counts.get(name, 0) - (name in self.own)
        if found <= 0:
            raise KeyError(name)
        return found

    def __iter__(self) -> Iterator[str]:
        return (name for name in list(self.counts) if name in self)

    def __len__(self) -> int:  # walks every name: not for a truth test
        return sum(1 for _ in self)


@dataclass(frozen=True)
class IndexStats:
    files: int
    truncated: bool
    seconds: float


class WorkspaceIndex:
    """Outlines of workspace files by path, and which files define a name or match a module."""

    def __init__(self, roots: Sequence[Path | str], settings: ContextSettings,
                 rules: IgnoreRules | None = None) -> None:
        self.roots = [Path(os.path.abspath(root)) for root in roots]
        self.settings = settings
        self.rules = rules if rules is not None else IgnoreRules(self.roots, settings.exclude)
        self._files: dict[str, FileOutline] = {}
        self._by_name: dict[str, dict[str, None]] = {}
        self._by_key: dict[str, dict[str, None]] = {}
        self._uses_of: dict[str, dict[str, dict[str, int]]] = {}  # path → its `module_uses`
        self._uses: dict[str, dict[str, int]] = {}  # module → name → uses, over all files
        self._attributes_of: dict[str, tuple[str, ...]] = {}  # path → `.name`s it uses
        self._attributes: dict[str, int] = {}  # `.name` → files using it
        self._dotted: dict[str, str] = {}  # path → the dotted name Python imports it by
        self._packages: dict[str, bool] = {}  # directory → has an `__init__.py`
        self._lock = threading.RLock()
        self.ready = threading.Event()
        self.cancelled = threading.Event()
        self.stats = IndexStats(0, False, 0.0)
        self.generation = 0  # bumped by every change to the index
        # The generation requests go by (their kept choices and look-ups are keyed by it):
        # during a build it moves on every PUBLISH_SECONDS only, not with every file.
        self.published = 0
        self.outliner: Outliner | None = None  # None: parse and outline in this process

    # -- settings and rules --------------------------------------------------------------------

    def update_settings(self, settings: ContextSettings, rules: IgnoreRules | None = None) -> None:
        """New limits/excludes; files that are now excluded leave the index."""
        if rules is not None:
            self.rules = rules
        elif settings.exclude != self.settings.exclude:
            self.rules = IgnoreRules(self.roots, settings.exclude)
        self.settings = settings
        self.prune_excluded()

    def is_excluded(self, path: str | None) -> bool:
        return path is not None and self.rules.is_excluded(path)

    def prune_excluded(self) -> None:
        with self._lock:
            paths = list(self._files)
        for path in paths:
            # Not yet decidable (on the event loop): kept; readers filter with `is_excluded`.
            if self.rules.verdict(path) is True:
                self.remove_file(path)

    # -- building ------------------------------------------------------------------------------

    def candidates(self) -> Iterator[str]:
        """Source files of the workspace folders that the rules allow, in walk order."""
        for root in self.roots:
            for directory, dirs, files in os.walk(root):
                if self.cancelled.is_set():
                    return
                here = Path(directory)
                dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS
                                 and not self.rules.is_excluded(here / d, is_dir=True))
                for name in sorted(files):
                    path = here / name
                    if language_for(None, name) is None or self.rules.is_excluded(path):
                        continue
                    yield str(path)

    def build(self, on_progress: Callable[[int], None] | None = None) -> IndexStats:
        """Index every candidate file (blocking: run it in a worker thread)."""
        started = time.perf_counter()
        count, truncated = 0, False
        jobs = (job for job in map(self._job, self.candidates()) if job is not None)
        results = self._index(jobs)
        published = started
        try:
            for job, indexed in results:
                if self.cancelled.is_set():
                    break
                if count >= self.settings.max_index_files:
                    truncated = True
                    break
                time.sleep(0)  # let the event loop's thread run between files
                if self._add(job, indexed):
                    count += 1
                    if on_progress is not None and count % 200 == 0:
                        on_progress(count)
                if time.perf_counter() - published >= PUBLISH_SECONDS:
                    self.publish()
                    published = time.perf_counter()
        finally:
            self.publish()
            close = getattr(results, "close", None)
            if close is not None:
                close()  # (the outliner's: the child's replies still owed are read)
            self.stats = IndexStats(count, truncated, time.perf_counter() - started)
            self.ready.set()
        log.info("indexed %d files in %.1f s%s", count, self.stats.seconds,
                 " (limit reached)" if truncated else "")
        return self.stats

    def _index(self, jobs: Iterable[Job]) -> Iterator[tuple[Job, IndexedFile | None]]:
        if self.outliner is not None:
            return self.outliner.index(jobs)
        return ((job, index_file(job)) for job in jobs)

    def _job(self, path: str, text: str | None = None) -> Job | None:
        """What indexing `path` takes, when it is indexable."""
        language = language_for(None, path)
        if language is None or self.rules.is_excluded(path) or self.root_of(path) is None:
            return None
        return Job(path, language, text, self.settings.max_file_bytes)

    def update_file(self, path: str, text: str | None = None) -> bool:
        """(Re-)index one file from `text` or from disk; False when it is not indexable."""
        job = self._job(os.path.abspath(path), text)
        if job is None:
            self.remove_file(path)
            return False
        (result,) = list(self._index([job]))
        added = self._add(*result)
        self.publish()
        return added

    def _add(self, job: Job, indexed: IndexedFile | None) -> bool:
        path = job.path
        if indexed is None:
            self.remove_file(path)
            return False
        outline, uses, attributes = indexed.outline, indexed.uses, indexed.attributes
        if os.path.basename(path) == "__init__.py":
            self._packages[os.path.dirname(path)] = True
        dotted = python_module_name(path, self._is_package)
        with self._lock:
            if path not in self._files and len(self._files) >= self.settings.max_index_files:
                return False
            self._remove(path)
            self.generation += 1
            self._files[path] = outline
            for name in outline.names():
                self._by_name.setdefault(name, {})[path] = None
            for key in module_keys(path, job.language):
                self._by_key.setdefault(key, {})[path] = None
            if uses:
                self._uses_of[path] = uses
                self._add_uses(uses, 1)
            self._attributes_of[path] = attributes
            for name in attributes:
                self._attributes[name] = self._attributes.get(name, 0) + 1
            self._dotted[path] = dotted
        return True

    def _is_package(self, directory: str) -> bool:
        """Whether a directory holds an `__init__.py` (read when indexing, in a worker)."""
        found = self._packages.get(directory)
        if found is None:
            found = self._packages[directory] = has_init(directory)
        return found

    def remove_file(self, path: str) -> None:
        with self._lock:
            self._remove(os.path.abspath(path))
        self.publish()

    def publish(self) -> None:
        """Let requests see the index as it is now (see `published`)."""
        self.published = self.generation

    def _remove(self, path: str) -> None:
        outline = self._files.pop(path, None)
        if outline is None:
            return
        self.generation += 1
        self._dotted.pop(path, None)
        if os.path.basename(path) == "__init__.py":
            self._packages.pop(os.path.dirname(path), None)
        uses = self._uses_of.pop(path, None)
        if uses:
            self._add_uses(uses, -1)
        for name in self._attributes_of.pop(path, ()):
            left = self._attributes[name] - 1
            if left > 0:
                self._attributes[name] = left
            else:
                del self._attributes[name]
        for table, keys in ((self._by_name, outline.names()),
                            (self._by_key, module_keys(path, outline.language))):
            for key in list(keys):
                entry = table.get(key)
                if entry is not None:
                    entry.pop(path, None)
                    if not entry:
                        del table[key]

    def _add_uses(self, uses: dict[str, dict[str, int]], sign: int) -> None:
        for module, names in uses.items():
            total = self._uses.setdefault(module, {})
            for name in names:  # files using the name, not uses: one file should not decide
                left = total.get(name, 0) + sign
                if left > 0:
                    total[name] = left
                else:
                    total.pop(name, None)
            if not total:
                del self._uses[module]

    def root_of(self, path: str) -> Path | None:
        return self.rules.root_of(Path(path))

    # -- reading -------------------------------------------------------------------------------

    def file(self, path: str) -> FileOutline | None:
        return self._files.get(os.path.abspath(path))

    def __len__(self) -> int:
        return len(self._files)

    def paths(self) -> list[str]:
        with self._lock:
            return list(self._files)

    def definitions(self, name: str, limit: int = 8) -> list[tuple[FileOutline, Symbol]]:
        """Definitions of `name` anywhere in the workspace (at most `limit` files)."""
        with self._lock:
            paths = list(self._by_name.get(name, ()))[:limit]
        found: list[tuple[FileOutline, Symbol]] = []
        for path in paths:
            outline = self.file(path)
            if outline is not None:
                found.extend((outline, symbol) for symbol in outline.lookup(name))
        return found

    def module_uses(self, module: str, without: str | None = None) -> dict[str, int]:
        """How many of the workspace's files use each name of a module (dotted, as imported
        absolutely): `alias.name` or `from module import name`; `without` one file (the
        document being edited: its saved text is not what the user has now)."""
        with self._lock:
            uses = dict(self._uses.get(module, {}))
            own = self._uses_of.get(os.path.abspath(without), {}) if without else {}
        for name in own.get(module, ()):
            left = uses.get(name, 0) - 1
            if left > 0:
                uses[name] = left
            else:
                uses.pop(name, None)
        return uses

    def attribute_files(self, without: str | None = None) -> AttributeFiles:
        """How many of the workspace's files use each `.name` (a member's popularity), less
        the file `without` (see `module_uses`)."""
        own = self._attributes_of.get(os.path.abspath(without), ()) if without else ()
        return AttributeFiles(self._attributes, frozenset(own))

    def resolve(self, imp: Import, from_path: str, language: str, name: str = ""
                ) -> list[FileOutline]:
        """The workspace files an import names, nearest to `from_path` first."""
        here = os.path.abspath(from_path)
        absolute_python = language == "python" and not imp.level
        with self._lock:
            for key in import_keys(imp, here, language, name):
                paths = [p for p in self._by_key.get(key, ()) if p != here]
                if absolute_python and paths:
                    exact = [p for p in paths if imports_as(self._dotted.get(p, ""), imp, name)]
                    # A namespace package (no `__init__.py`) has no dotted name to check: its
                    # files still match by path, except under a standard-library module's name.
                    paths = exact or ([] if imp.module.split(".")[0] in STDLIB else paths)
                if paths:
                    break
            else:
                return []
        paths.sort(key=lambda p: -len(os.path.commonpath([p, here])))
        return [o for o in (self.file(p) for p in paths[:4]) if o is not None]
