"""Which files may never reach a prompt or the index: git-ignored files, `.env*`, keys and
certificates, and the user's `context.exclude` globs. One `IgnoreRules.is_excluded(path)` is used
everywhere (the index, the context builder, the open document itself).
"""

from __future__ import annotations

import fnmatch
import logging
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

import pathspec

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
        lines: list[str] = []
        sources = [directory / ".gitignore"]
        if is_root:
            sources.append(directory / ".git" / "info" / "exclude")
        for source in sources:
            try:
                lines.extend(source.read_text(encoding="utf-8", errors="replace").splitlines())
            except OSError:
                continue
        spec = pathspec.GitIgnoreSpec.from_lines(lines) if lines else None
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
                rest = "/".join(parts[depth:]) + ("/" if is_dir else "")
                verdict = spec.check_file(rest).include
                if verdict is not None:
                    ignored = verdict
            directory = directory / parts[depth]
        return bool(ignored)

    def is_excluded(self, path: str | os.PathLike[str], is_dir: bool = False) -> bool:
        """Whether `path` must stay out of prompts and the index."""
        key = (os.fspath(path), is_dir)
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = self._is_excluded(path, is_dir)
            if len(self._verdicts) > 100_000:
                self._verdicts.clear()
            self._verdicts[key] = verdict
        return verdict

    def _is_excluded(self, path: str | os.PathLike[str], is_dir: bool) -> bool:
        absolute = Path(os.path.abspath(path))
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
