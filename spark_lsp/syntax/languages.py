"""Languages the server parses: LSP language ids and file extensions mapped to tree-sitter grammars.

Grammars come from the official per-language wheels and are loaded once, on first use. An unknown
language is not an error: callers get `None` and fall back to plain-text windows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

from tree_sitter import Language


@dataclass(frozen=True)
class LanguageInfo:
    """A language the server knows: its canonical name, comment prefix and grammar loader."""

    name: str
    line_comment: str
    load: Callable[[], object]


def _python() -> object:
    import tree_sitter_python

    return tree_sitter_python.language()


def _javascript() -> object:
    import tree_sitter_javascript

    return tree_sitter_javascript.language()


def _typescript() -> object:
    import tree_sitter_typescript

    return tree_sitter_typescript.language_typescript()


def _tsx() -> object:
    import tree_sitter_typescript

    return tree_sitter_typescript.language_tsx()


def _go() -> object:
    import tree_sitter_go

    return tree_sitter_go.language()


def _rust() -> object:
    import tree_sitter_rust

    return tree_sitter_rust.language()


def _java() -> object:
    import tree_sitter_java

    return tree_sitter_java.language()


def _c() -> object:
    import tree_sitter_c

    return tree_sitter_c.language()


def _cpp() -> object:
    import tree_sitter_cpp

    return tree_sitter_cpp.language()


LANGUAGES: dict[str, LanguageInfo] = {
    "python": LanguageInfo("python", "#", _python),
    "javascript": LanguageInfo("javascript", "//", _javascript),
    "typescript": LanguageInfo("typescript", "//", _typescript),
    "tsx": LanguageInfo("tsx", "//", _tsx),
    "go": LanguageInfo("go", "//", _go),
    "rust": LanguageInfo("rust", "//", _rust),
    "java": LanguageInfo("java", "//", _java),
    "c": LanguageInfo("c", "//", _c),
    "cpp": LanguageInfo("cpp", "//", _cpp),
}

# LSP language identifiers (as editors send them) that differ from our canonical names.
_LANGUAGE_ID_ALIASES = {
    "javascriptreact": "javascript",
    "jsx": "javascript",
    "typescriptreact": "tsx",
    "c++": "cpp",
    "cuda-cpp": "cpp",
    "golang": "go",
    "py": "python",
}

_EXTENSIONS = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".hxx": "cpp",
}

# Comment prefixes for languages we do not parse but can still label context for.
_PLAIN_COMMENTS = {
    "ruby": "#",
    "shellscript": "#",
    "sh": "#",
    "bash": "#",
    "yaml": "#",
    "toml": "#",
    "perl": "#",
    "r": "#",
    "lua": "--",
    "sql": "--",
    "haskell": "--",
    "kotlin": "//",
    "swift": "//",
    "csharp": "//",
    "scala": "//",
    "php": "//",
    "dart": "//",
    "zig": "//",
}


def language_for(language_id: str | None, path: str | None = None) -> str | None:
    """The canonical name of a parseable language, from the LSP language id or the file name."""
    if language_id:
        key = language_id.lower()
        key = _LANGUAGE_ID_ALIASES.get(key, key)
        if key in LANGUAGES:
            return key
    if path:
        return _EXTENSIONS.get(PurePath(path).suffix.lower())
    return None


def comment_prefix(language: str | None, language_id: str | None = None) -> str:
    """The line-comment prefix to label snippets with, `#` or `//` style; `//` when unknown."""
    if language in LANGUAGES:
        return LANGUAGES[language].line_comment
    return _PLAIN_COMMENTS.get((language_id or "").lower(), "#" if language_id is None else "//")


@functools.cache
def grammar(language: str) -> Language:
    """The tree-sitter Language for a canonical name (loaded once per process)."""
    return Language(LANGUAGES[language].load())
