"""What each name is worth to a prompt: a rough chance that the completion needs it.

Names the file uses often, imports, members of the enclosing class and module-level definitions
are worth more; keywords and builtins nothing (a model knows them without context). The weights
are `ranking.Weights`.
"""

from __future__ import annotations

import builtins
import keyword
import math
import re
from collections.abc import Callable, Container, Iterable
from functools import lru_cache

from spark_lsp.context.ranking import Ranking

IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*")  # a name in Python, JS, Go, … (`$` for JS)

COMMON_WORDS = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(
    dir(builtins)) | {
    "self", "cls", "this", "super", "true", "false", "null", "nil", "undefined", "var", "let",
    "const", "function", "func", "fn", "return", "if", "else", "for", "while", "do", "switch",
    "case", "default", "break", "continue", "new", "delete", "typeof", "instanceof", "void",
    "int", "long", "short", "char", "float", "double", "bool", "boolean", "string", "byte",
    "public", "private", "protected", "static", "final", "abstract", "class", "interface",
    "struct", "enum", "impl", "trait", "mod", "use", "pub", "mut", "ref", "match", "where",
    "package", "import", "export", "from", "extends", "implements", "throws", "throw", "try",
    "catch", "finally", "async", "await", "yield", "go", "defer", "chan", "select", "map",
    "range", "type", "any", "unsigned", "signed", "auto", "include", "define", "namespace",
    "template", "typename", "virtual", "override", "std", "i32", "i64", "u8", "u32", "u64",
    "usize", "f32", "f64", "str", "Self", "error",
}


@lru_cache(maxsize=4096)
def names_in(text: str) -> frozenset[str]:
    """The identifier-like words of a text, less keywords and builtins."""
    return frozenset(IDENTIFIER.findall(text)) - COMMON_WORDS


def name_weights(counts: dict[str, int], imported: Iterable[str],
                 is_member: Callable[[str], bool], is_module_level: Callable[[str], bool],
                 near: dict[str, float], cooccurring: dict[str, float] | None = None,
                 expected: Container[str] = (), *, ranking: Ranking) -> Callable[[str], float]:
    """weight(name) for one request (memoised), by `ranking.weights`."""
    table = ranking.weights
    imported = set(imported)
    memo: dict[str, float] = {}

    def weight(name: str) -> float:
        value = memo.get(name)
        if value is None:
            value = table.base + table.frequency * math.log2(1 + counts.get(name, 0))
            if name in imported:
                value += table.imported
            if is_member(name):
                value += table.member
            if is_module_level(name):
                value += table.module
            if name in near:
                value += table.near * min(near[name], 1.0)
            if cooccurring and name in cooccurring:
                value += table.cooccurring * min(cooccurring[name], table.max_cooccurrence)
            if name in expected:
                value += table.expected
            value = memo[name] = min(value, table.cap)
        return value

    return weight
