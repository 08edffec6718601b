"""What each name is worth to a prompt: a rough chance that the completion needs it.

Names the file uses often, imports, members of the enclosing class and module-level definitions
are worth more; keywords and builtins nothing (a model knows them without context).
"""

from __future__ import annotations

import builtins
import keyword
import math
import re
from collections.abc import Callable, Container, Iterable
from functools import lru_cache

BASE = 0.08
FREQUENCY = 0.08  # * log2(1 + uses in the file)
IMPORTED = 0.45
MEMBER = 0.45
MODULE = 0.35
NEAR = 0.5
COOCCURRING = 0.5  # * how strongly a name co-occurs with the nearby names elsewhere (0…1+)
EXPECTED = 1.0  # a name the rest of the function uses before anything binds it
CAP = 1.5

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
                 expected: Container[str] = ()) -> Callable[[str], float]:
    """weight(name) for one request (memoised)."""
    imported = set(imported)
    memo: dict[str, float] = {}

    def weight(name: str) -> float:
        value = memo.get(name)
        if value is None:
            value = BASE + FREQUENCY * math.log2(1 + counts.get(name, 0))
            if name in imported:
                value += IMPORTED
            if is_member(name):
                value += MEMBER
            if is_module_level(name):
                value += MODULE
            if name in near:
                value += NEAR * min(near[name], 1.0)
            if cooccurring and name in cooccurring:
                value += COOCCURRING * min(cooccurring[name], 2.0)
            if name in expected:
                value += EXPECTED
            value = memo[name] = min(value, CAP)
        return value

    return weight
