"""Which files may never reach a prompt or the index: git-ignored files, `.env*`, keys and
certificates, and the user's `context.exclude` globs. One `IgnoreRules.is_excluded(path)` is used
everywhere (the index, the context builder, the open document itself).

A symbolic link is judged by its own path and by what it points to (a link out of the workspace
folders is excluded). Ignore files are read (regular files only) and compiled off the event
loop, once per content: on the loop, a path whose ignore files are not read yet counts as
excluded while a worker thread reads them (`prepare` waits for that).
"""

from __future__ import annotations

import asyncio
import fnmatch
import functools
import logging
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

import pathspec

from spark_lsp.workspace.files import read_regular
from spark_lsp.workspace.loop import on_event_loop

log = logging.getLogger(__name__)

# Files that hold secrets whatever the settings say (matched against the file name).
SECRET_NAMES = (
    ".env", ".env.*", "*.env", ".envrc", "*.pem", "*.key", "*.crt", "*.cer", "*.der", "*.p12",
    "*.pfx", "*.jks", "*.keystore", "*.kdbx", "*.gpg", "*.asc", "id_rsa", "id_dsa", "id_ecdsa",
    "id_ed25519", "*.ppk", ".netrc", ".pypirc", ".npmrc", ".git-credentials", "credentials.json",
    "secrets.json", "secrets.toml", "secrets.yaml", "secrets.yml", "service-account*.json",
)

# Directories the index never walks into (tool caches, dependencies, VCS data).
SKIPPED_DIRS = frozenset({
    ".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".nox",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".idea", ".vscode", "target", "dist", "build",
    ".next", ".cache", "bower_components", ".gradle", ".eggs",
})


MAX_IGNORE_FILE_BYTES = 8_000_000
LOOP_PATTERNS = 1_000  # an ignore file with more rules is not matched on the event loop


class _NotLoaded(Exception):
    """An ignore file is needed that is not read yet, and this is the event loop's thread."""


_COMPILING = threading.Lock()


@functools.lru_cache(maxsize=64)
def _compile(content: bytes) -> pathspec.GitIgnoreSpec | None:
    """An ignore file's rules, compiled once per content (a 15k-line file takes seconds)."""
    lines = content.decode("utf-8", errors="replace").splitlines()
    return pathspec.GitIgnoreSpec.from_lines(lines) if any(x.strip() for x in lines) else None


def is_secret_name(name: str) -> bool:
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern) for pattern in SECRET_NAMES)


class IgnoreRules:
    """Git-ignore (every `.gitignore` from the root down, plus `.git/info/exclude`), secret file
    names and `exclude` globs (gitignore syntax, relative to a workspace root)."""

    def __init__(self, roots: Sequence[Path | str], exclude: Iterable[str] = ()) -> None:
        self.roots = [Path(os.path.abspath(root)) for root in roots]
        self._exclude = pathspec.GitIgnoreSpec.from_lines(list(exclude))
        self._specs: dict[Path, pathspec.GitIgnoreSpec | None] = {}
        self._verdicts: dict[tuple[str, bool], bool] = {}
        self._lock = threading.Lock()
        self._real_roots = [(Path(os.path.realpath(root)), root) for root in self.roots]
        self._pending: set[tuple[str, bool]] = set()

    def forget_gitignores(self) -> None:
        """Re-read `.gitignore` files on next use (one of them changed)."""
        with self._lock:
            self._specs.clear()
            self._verdicts.clear()

    def root_of(self, path: Path) -> Path | None:
        for root in self.roots:
            if path == root or root in path.parents:
                return root
        return None

    def _spec(self, directory: Path, is_root: bool) -> pathspec.GitIgnoreSpec | None:
        with self._lock:
            if directory in self._specs:
                return self._specs[directory]
        if on_event_loop():
            raise _NotLoaded(directory)
        sources = [directory / ".gitignore"]
        if is_root:
            sources.append(directory / ".git" / "info" / "exclude")
        content = b"\n".join(data for data in (read_regular(source, MAX_IGNORE_FILE_BYTES)
                                                for source in sources) if data)
        with _COMPILING:  # a second thread wanting the same file waits for the first's work
            spec = _compile(content) if content else None
        with self._lock:
            self._specs[directory] = spec
        return spec

    def is_git_ignored(self, path: Path, root: Path, is_dir: bool = False) -> bool:
        relative = path.relative_to(root)
        parts = relative.parts
        ignored: bool | None = None
        directory = root
        for depth in range(len(parts)):
            spec = self._spec(directory, depth == 0)
            if spec is not None:
                if len(spec.patterns) > LOOP_PATTERNS and on_event_loop():
                    raise _NotLoaded(directory)  # ~1 µs a pattern: matched in a worker too
                rest = "/".join(parts[depth:]) + ("/" if is_dir else "")
                verdict = spec.check_file(rest).include
                if verdict is not None:
                    ignored = verdict
            directory = directory / parts[depth]
        return bool(ignored)

    def is_excluded(self, path: str | os.PathLike[str], is_dir: bool = False) -> bool:
        """Whether `path` must stay out of prompts and the index (on the event loop, True
        while its ignore files are still being read)."""
        verdict = self.verdict(path, is_dir)
        return True if verdict is None else verdict

    def verdict(self, path: str | os.PathLike[str], is_dir: bool = False) -> bool | None:
        """`is_excluded`, or None on the event loop while its ignore files are being read."""
        key = (os.fspath(path), is_dir)
        verdict = self._verdicts.get(key)
        if verdict is None:
            try:
                verdict = self._is_excluded(path, is_dir)
            except _NotLoaded:
                self._load_later(key)
                return None
            if len(self._verdicts) > 100_000:
                self._verdicts.clear()
            self._verdicts[key] = verdict
        return verdict

    def known(self, path: str | os.PathLike[str], is_dir: bool = False) -> bool:
        """Whether `is_excluded(path)` is already decided (answers without any file I/O)."""
        return (os.fspath(path), is_dir) in self._verdicts

    async def prepare(self, path: str | os.PathLike[str] | None) -> None:
        """Decide `is_excluded(path)` in a worker thread, reading its ignore files there."""
        if path is not None and not self.known(path):
            await asyncio.to_thread(self.is_excluded, path)

    def _load_later(self, key: tuple[str, bool]) -> None:
        with self._lock:
            if key in self._pending:
                return
            self._pending.add(key)

        def load() -> None:
            try:
                self.is_excluded(*key)
            finally:
                with self._lock:
                    self._pending.discard(key)

        try:
            asyncio.get_running_loop().run_in_executor(None, load)
        except RuntimeError:  # the loop is closing
            with self._lock:
                self._pending.discard(key)

    def _is_excluded(self, path: str | os.PathLike[str], is_dir: bool) -> bool:
        absolute = Path(os.path.abspath(path))
        if self._by_rules(absolute, is_dir):
            return True
        try:
            real = Path(os.path.realpath(absolute))
        except (OSError, ValueError):
            return True
        if real == absolute:
            return False
        # A link, or under a linked directory: what it points to must pass the rules too.
        target = self._in_workspace(real)
        if target is None:  # out of the workspace folders
            return self.root_of(absolute) is not None or is_secret_name(real.name)
        return target != absolute and self._by_rules(target, is_dir)

    def _in_workspace(self, real: Path) -> Path | None:
        """A resolved path as the workspace folder that holds it names it, else None."""
        for real_root, root in self._real_roots:
            if real == real_root or real_root in real.parents:
                return root / real.relative_to(real_root)
        return None

    def _by_rules(self, absolute: Path, is_dir: bool) -> bool:
        if is_secret_name(absolute.name) or ".git" in absolute.parts:
            return True
        root = self.root_of(absolute)
        relative = (PurePosixPath(*absolute.relative_to(root).parts) if root is not None
                    else PurePosixPath(*absolute.parts[1:]))
        text = str(relative) + ("/" if is_dir else "")
        if text not in (".", "./") and self._exclude.match_file(text):
            return True
        if root is None or absolute == root:
            return False
        try:
            return self.is_git_ignored(absolute, root, is_dir)
        except (OSError, ValueError):
            log.debug("gitignore check failed for %s", absolute, exc_info=True)
            return False
