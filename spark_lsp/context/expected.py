"""Names the code at the cursor is expected to bind: locals that the rest of the enclosing
function uses before anything binds them, and attributes the enclosing class reads on `self`
but assigns nowhere. A missing line usually defines exactly these, often as a row elsewhere
binds the same name (`binding_rows`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Iterable, Sequence

from spark_lsp.context.weights import COMMON_WORDS

MAX_ROWS_BELOW = 200  # rows of the enclosing function read below the cursor
MAX_CLASS_ROWS = 1000  # rows of the enclosing class read for `self.x`
MAX_EXPECTED = 8
MAX_BINDINGS = 2  # rows elsewhere binding an expected name

_WORD = re.compile(r"(?<![\w$.])[A-Za-z_$][\w$]*")
_SELF_ATTRIBUTE = re.compile(r"\b(?:self|this)\.([A-Za-z_$][\w$]*)")
_COMPARISON = re.compile(r"[=!<>]=|=>")
_COMMENT = re.compile(r"#|//")
_STRING = re.compile(r"(?<![\w$])[rbfuRBFU]{0,2}(?:\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*')")
_KEYWORD_ROW = re.compile(r"\s*([A-Za-z_$][\w$]*)\s*=(?!=)(.*),\s*$")


def _code(line: str) -> str:
    """A row less its strings, its comment and the key of a keyword argument on a row of its
    own (`    key=value,`: the rest of a call opened above, neither a use nor a binding)."""
    code = _COMMENT.split(_STRING.sub('""', line), 1)[0]
    keyword = _KEYWORD_ROW.match(code)
    if keyword and keyword.group(2).count("(") <= keyword.group(2).count(")"):
        return keyword.group(2)
    return code


def _binds(line: str, name: str) -> bool:
    """Whether a line binds `name` (a rough, language-neutral check): it stands left of an
    assignment, is a loop/`as`/`let` target, or a walrus/`:=` target."""
    word = rf"(?<![\w$.]){re.escape(name)}(?![\w$])"
    code = _COMPARISON.sub("  ", line)
    if "=" in code:
        left = code[: code.index("=")]
        inside = left.count("(") + left.count("[") > left.count(")") + left.count("]")
        if re.search(word, left) and not inside and not re.search(r"\b(?:if|return)\b", left):
            return True
    return bool(re.search(rf"\bfor\b[^:]*{word}[^:]*\b(?:in|of)\b|\bas\s+{re.escape(name)}\b"
                          rf"|\b(?:let|const|var|mut|auto)\s+{re.escape(name)}\b"
                          rf"|{word}\s*:=|^\s*(?:from\s+\S+\s+)?import\b.*{word}", line))


def unbound_below(lines: Sequence[str], row: int, first: int, last: int,
                  is_known: Callable[[str], bool], is_prose: Container[int] = ()
                  ) -> dict[str, int]:
    """{name: the first row below `row` using it} for names that rows row+1..last use before
    any row binds them, that rows first..row-1 (the function above the cursor, its header
    included) do not mention, and that `is_known` does not know (module-level names, imports).
    Rows in `is_prose` and what follows `#` or `//` on a row are not read."""
    above: set[str] = set()
    for r in range(first, row):
        above.update(_WORD.findall(lines[r]))
    found: dict[str, int] = {}
    bound: set[str] = set()
    for r in range(row + 1, min(last, row + MAX_ROWS_BELOW) + 1):
        if r in is_prose:
            continue
        line = _code(lines[r])
        for name in dict.fromkeys(_WORD.findall(line)):
            if name in above or name in bound or name in found or name in COMMON_WORDS \
                    or is_known(name):
                continue
            if _binds(line, name):
                bound.add(name)
            else:
                found[name] = r
        if len(found) >= MAX_EXPECTED:
            break
    return found


def binding_rows(lines: Sequence[str], names: Iterable[str],
                 spans: Callable[[str], Sequence[tuple[int, int]]], skip: tuple[int, int],
                 is_prose: Callable[[int], bool] = lambda r: False) -> dict[str, list[int]]:
    """{name: code rows outside `skip` that bind it} for each name (`spans`: the row spans of
    the units using a name; `is_prose`: rows of comments and docstrings): code repeats itself,
    and a name the rest of the function expects is often bound elsewhere by the very statement
    the cursor is missing."""
    found: dict[str, list[int]] = {}
    end = len(lines) - 1
    for name in names:
        rows = [r for first, last in spans(name) for r in range(first, min(last, end) + 1)
                if not skip[0] <= r <= skip[1] and name in lines[r]
                and _binds(_code(lines[r]), name) and not is_prose(r)]
        if rows:
            found[name] = sorted(set(rows))[:MAX_BINDINGS]
    return found


def unassigned_attributes(lines: Sequence[str], first: int, last: int,
                          members: Container[str]) -> list[str]:
    """Attributes rows first..last (a class) read on `self`/`this` that are no member of it
    (`members`: its own and inherited methods, class variables and assigned attributes), most
    read first."""
    counts: dict[str, int] = {}
    for r in range(first, min(last, first + MAX_CLASS_ROWS) + 1):
        line = lines[r]
        if "self." not in line and "this." not in line:
            continue
        for name in _SELF_ATTRIBUTE.findall(line):
            if name not in members:
                counts[name] = counts.get(name, 0) + 1
    return sorted(counts, key=lambda n: -counts[n])[:MAX_EXPECTED]
