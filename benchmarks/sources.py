"""Real Python files of a chosen length for the benchmarks: installed library sources
concatenated, cut at a top-level statement so the file parses without errors."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path

import tree_sitter_python
from tree_sitter import Language, Parser


def real_python(lines: int, modules: Sequence[str]) -> str:
    """`lines` lines of real Python from `modules`' sources, padded with blank lines."""
    parser = Parser(Language(tree_sitter_python.language()))
    pool: list[str] = []
    while len(pool) < lines + 1:
        for name in modules:
            path = importlib.import_module(name).__file__
            assert path is not None
            pool += Path(path).read_text(encoding="utf-8").splitlines(keepends=True)
    cut = lines
    while cut > 0:
        if pool[cut].startswith(("def ", "class ", "@")) and not pool[cut - 1].strip():
            text = "".join(pool[:cut])
            if not parser.parse(text.encode()).root_node.has_error:
                break
        cut -= 1
    return "".join(pool[:cut]) + "\n" * (lines - cut)
