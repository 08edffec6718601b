"""Python modules outside the workspace — installed packages, the standard library — found on the
interpreter's search path (and the workspace's own virtualenvs): what `import x` refers to when
no workspace file is `x`, and the public names it offers.

Names are read from the text's top level (its literal `__all__` when it has one), not from a
syntax tree: typing.py takes ~1 ms so, ~40 ms to parse and outline. Read once per file (again
only when its mtime changes), bounded in file size and entries; excluded files are never read.
The standard library's compiled modules (`math`, `itertools`, `sys`) have no text: their names
come from the module itself (`COMPILED_STDLIB`).

`PackageOutlines` keeps the outlines a workspace's requests read: prepared in a worker thread,
never on the event loop; a request reads those ready when it started (`ReadyPackages`) and asks
for the others, which a later request gets.
"""

from __future__ import annotations

import asyncio
import functools
import glob
import importlib
import logging
import os
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from spark_lsp.syntax.symbols import Import
from spark_lsp.workspace.loop import on_event_loop
from spark_lsp.workspace.outliner import read_source

log = logging.getLogger(__name__)

MAX_BYTES = 400_000  # typing.py is 130 KB; the biggest of the standard library ~250 KB
MAX_ENTRIES = 128
# Standard-library modules compiled into the interpreter or shipped as extension modules (no
# source to read): their names come from the module itself. Only these, imported by name — an
# import could run code, and an extension writing to stdout would corrupt the LSP stream.
COMPILED_STDLIB = frozenset({
    "array", "atexit", "binascii", "cmath", "errno", "faulthandler", "fcntl", "gc", "grp",
    "itertools", "marshal", "math", "mmap", "posix", "pwd", "resource", "select", "sys", "time",
    "unicodedata", "zlib",
})
VENV_DIRS = (".venv", "venv", "env")
_ALL = re.compile(r"^__all__\s*(?::[^=\n]*)?(\+?=)\s*[\[(]", re.M)
_STRING = re.compile(r"""["']([A-Za-z_]\w*)["']""")
_DEFINED = re.compile(r"^(?:(?:async[ \t]+)?def|class)[ \t]+([A-Za-z_]\w*)"
                      r"|^([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?=(?!=)", re.M)
_FROM_IMPORT = re.compile(r"^from[ \t]+\S+[ \t]+import[ \t]+(\([^)]*\)|[^\n#]+)", re.M)
_MODULE = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$")


@dataclass(frozen=True)
class ExternalModule:
    """One module: where it is, and the names `module.name` may use."""

    name: str
    path: str
    label: str  # the path relative to its search-path entry (`hypothesis/strategies/__init__.py`)
    names: tuple[str, ...]


def _literal_body(text: str, start: int) -> str:
    """The text of a bracketed literal opening at `start`, up to its closing bracket (comments
    and strings may hold brackets)."""
    depth, index, end = 0, start, min(len(text), start + 100_000)
    while index < end:
        char = text[index]
        if char == "#":
            index = text.find("\n", index)
            if index < 0:
                break
        elif char in "'\"":
            close = text.find(char, index + 1)
            index = close if close >= 0 else end
        elif char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
            if depth == 0:
                return text[start + 1 : index]
        index += 1
    return text[start + 1 : index]


def exported_names(text: str) -> tuple[str, ...] | None:
    """The names of a literal `__all__ = [...]` (plus any `__all__ += [...]`), else None."""
    names: list[str] = []
    found = False
    for match in _ALL.finditer(text):
        if match.group(1) == "=":
            names = []
        found = True
        body = re.sub(r"#[^\n]*", "", _literal_body(text, match.end() - 1))
        names += _STRING.findall(body)
    return tuple(dict.fromkeys(names)) if found and names else None


def top_level_names(text: str, is_package: bool) -> tuple[str, ...]:
    """The public names a module's text defines at its top level (functions, classes,
    assignments) — and, for a package's `__init__`, imports — or its literal `__all__`."""
    exported = exported_names(text)
    if exported is not None:
        return exported
    names = [m.group(1) or m.group(2) for m in _DEFINED.finditer(text)]
    if is_package:
        for imported in _FROM_IMPORT.findall(text):
            for part in imported.strip("()").split(","):
                words = part.split()
                if words and words[-1].isidentifier():
                    names.append(words[-1])  # `a as b` binds b
    return tuple(n for n in dict.fromkeys(names) if not n.startswith("_"))


def search_path(roots: Sequence[str | Path] = ()) -> tuple[str, ...]:
    """Where modules are looked for: the workspace folders' virtualenvs, then this
    interpreter's `sys.path` (directories only; not the current directory)."""
    entries: list[str] = []
    for root in roots:
        for name in VENV_DIRS:
            entries += sorted(glob.glob(os.path.join(str(root), name, "lib", "python3*",
                                                     "site-packages")))
    entries += [p for p in sys.path if p and os.path.isdir(p)]
    return tuple(dict.fromkeys(os.path.abspath(p) for p in entries))


class PackageModules:
    """Finds and outlines modules by dotted name on a search path (thread-safe, LRU-bounded)."""

    def __init__(self, entries: Sequence[str], max_bytes: int = MAX_BYTES,
                 max_entries: int = MAX_ENTRIES) -> None:
        self.entries = tuple(entries)
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self._found: dict[str, tuple[str, str] | None] = {}
        self._modules: OrderedDict[str, tuple[float, ExternalModule | None]] = OrderedDict()
        self._lock = threading.Lock()

    def find(self, dotted: str) -> tuple[str, str] | None:
        """(file, search-path entry) of a module: `a/b.py` or `a/b/__init__.py`, first entry
        that has it; None for extension modules, namespace packages and unknown names."""
        if not _MODULE.match(dotted):
            return None
        with self._lock:
            if dotted in self._found:
                return self._found[dotted]
        found = None
        relative = dotted.replace(".", os.sep)
        for entry in self.entries:
            for candidate in (relative + ".py", os.path.join(relative, "__init__.py")):
                path = os.path.join(entry, candidate)
                if os.path.isfile(path):
                    found = (path, entry)
                    break
            if found is not None or os.path.isdir(os.path.join(entry, dotted.split(".")[0])):
                break  # the first entry holding the top-level package decides, as imports do
        with self._lock:
            if len(self._found) > 4 * self.max_entries:
                self._found.clear()
            self._found[dotted] = found
        return found

    def module(self, dotted: str, is_excluded: Callable[[str], bool] = lambda p: False
               ) -> ExternalModule | None:
        """The outline of module `dotted`, read (and parsed) on first use only."""
        where = self.find(dotted)
        if where is None:
            return _compiled(dotted)
        path, entry = where
        if is_excluded(path):
            return None
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            return None
        with self._lock:
            cached = self._modules.get(path)
            if cached is not None and cached[0] == mtime:
                self._modules.move_to_end(path)
                return cached[1]
        text = read_source(path, self.max_bytes)
        module = None
        if text is not None:
            label = os.path.relpath(path, entry).replace(os.sep, "/")
            module = ExternalModule(dotted, path, label, top_level_names(
                text, os.path.basename(path) == "__init__.py"))
        with self._lock:
            self._modules[path] = (mtime, module)
            while len(self._modules) > self.max_entries:
                self._modules.popitem(last=False)
        return module


@functools.cache
def _compiled(dotted: str) -> ExternalModule | None:
    """A compiled standard-library module (`math`, `itertools`, `sys`) with its public names
    (kept for the process: the interpreter's own modules do not change; called off the event
    loop only, by `PackageModules.module`)."""
    if dotted not in COMPILED_STDLIB:
        return None
    try:
        module = importlib.import_module(dotted)
    except ImportError:  # not on this platform (`fcntl` on Windows)
        return None
    names = tuple(n for n in dir(module) if not n.startswith("_"))
    return ExternalModule(dotted, "", dotted, names)


def import_candidates(imports: Iterable[Import]) -> list[str]:
    """The dotted names Python imports may want outlines of: each absolute import's module,
    its top-level package (`import a.b` binds `a`) and, for `from a import b`, `a.b` (when `b`
    is a module). A superset of what the context builder asks for."""
    found: dict[str, None] = {}
    for imp in imports:
        if imp.level or not imp.module or not _MODULE.match(imp.module):
            continue
        found[imp.module] = None
        found[imp.module.split(".")[0]] = None
        for binding in imp.bindings:
            if binding.name and not imp.wildcard:
                found[f"{imp.module}.{binding.name}"] = None
    return list(found)


@dataclass(frozen=True)
class ReadyPackages:
    """The package outlines ready when a request started. A module not among them is asked
    for (`ask`): not offered now, offered to a later request once prepared."""

    ready: Mapping[str, ExternalModule | None]
    generation: int  # bumped whenever more outlines are ready
    ask: Callable[[str], ExternalModule | None]

    def module(self, dotted: str, is_excluded: Callable[[str], bool] = lambda p: False
               ) -> ExternalModule | None:
        found = self.ready[dotted] if dotted in self.ready else self.ask(dotted)
        if found is None or (found.path and is_excluded(found.path)):
            return None
        return found


class PackageOutlines:
    """The outlines of modules outside the workspace that a workspace's requests read, prepared
    off the event loop (see the module docstring). Owned by the context engine, one per set of
    workspace folders; `is_excluded` is decided where a module is prepared (its verdict is then
    known to requests without any file I/O)."""

    MAX_READY = 4096

    def __init__(self, roots: Sequence[str | os.PathLike[str]],
                 is_excluded: Callable[[str], bool] = lambda p: False) -> None:
        self.roots = tuple(os.path.abspath(os.fspath(r)) for r in roots)
        self.is_excluded = is_excluded
        self.generation = 0
        self._finder: PackageModules | None = None  # its search path is globbed by a worker
        self._ready: dict[str, ExternalModule | None] = {}  # replaced, never changed in place
        self._wanted: dict[str, None] = {}
        self._running = False
        self._lock = threading.Lock()
        self._job: asyncio.Future[int] | None = None

    def snapshot(self) -> ReadyPackages:
        """What is ready now, for one request."""
        return ReadyPackages(self._ready, self.generation, self._ask)

    def _ask(self, dotted: str) -> ExternalModule | None:
        """On the event loop: want it and start a worker (None for now). Elsewhere (a
        benchmark, the command line, a worker thread) prepare it at once."""
        if not on_event_loop():
            self.prepare([dotted], missed=False)
            return self._ready.get(dotted)
        with self._lock:
            if dotted in self._ready or dotted in self._wanted:
                return None
            self._wanted[dotted] = None
            if self._running:
                return None
            self._running = True
        self._job = asyncio.get_running_loop().run_in_executor(None, self._prepare_wanted)
        self._job.add_done_callback(_log_failure)
        return None

    def prepare(self, names: Iterable[str] = (), missed: bool = True) -> int:
        """Outline `names` and every module asked for meanwhile (blocking: a worker thread);
        how many were new. `missed`: a request may have gone without them (then `generation`
        moves on, and a choice the builder kept is made anew)."""
        with self._lock:
            for name in names:
                if name not in self._ready:
                    self._wanted[name] = None
            self._running = True
        return self._prepare_wanted(missed)

    def _prepare_wanted(self, missed: bool = True) -> int:
        done = 0
        while True:
            with self._lock:
                todo = list(self._wanted)
                self._wanted.clear()
                if not todo:
                    self._running = False
                    return done
            if self._finder is None:
                self._finder = PackageModules(search_path(self.roots))
            found = {name: self._finder.module(name, self.is_excluded) for name in todo}
            with self._lock:
                dropped = len(self._ready) + len(found) > self.MAX_READY  # all, to start anew
                self._ready = {**({} if dropped else self._ready), **found}
                self.generation += int(missed or dropped)
            done += len(found)

    async def wait(self) -> None:
        """Until the modules asked for so far are ready (tests)."""
        while self._job is not None and not self._job.done():
            await asyncio.wait({self._job})


def _log_failure(job: asyncio.Future[int]) -> None:
    if not job.cancelled() and job.exception() is not None:
        log.error("preparing package outlines failed", exc_info=job.exception())
