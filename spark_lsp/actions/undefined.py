"""Is a called name defined anywhere the call can see? A text-level check (fast: one regex pass over
the file, plus the package's other files for Go) that errs towards "defined" when unsure.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Iterator
from pathlib import Path


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


_JS_GLOBALS = _names("""
Array ArrayBuffer BigInt Boolean DataView Date Error EvalError Function Intl JSON Map Math Number
Object Promise Proxy RangeError ReferenceError Reflect RegExp Set String Symbol SyntaxError
TypeError URIError URL URLSearchParams WeakMap WeakSet WeakRef AbortController TextEncoder
TextDecoder Uint8Array Int8Array Uint16Array Int16Array Uint32Array Int32Array Float32Array
Float64Array Buffer alert atob btoa clearInterval clearTimeout console decodeURI
decodeURIComponent encodeURI encodeURIComponent eval fetch isFinite isNaN parseFloat parseInt
queueMicrotask require requestAnimationFrame setImmediate setInterval setTimeout structuredClone
super import describe it test expect beforeEach afterEach beforeAll afterAll
""")

_GO_BUILTINS = _names("""
append cap clear close complex copy delete imag len make max min new panic print println real
recover bool byte complex64 complex128 error float32 float64 int int8 int16 int32 int64 rune
string uint uint8 uint16 uint32 uint64 uintptr any
""")

_RUST_PRELUDE = _names("""
Some Ok Err Box Vec String drop Option Result Default Into From
""")

BUILTINS: dict[str, frozenset[str]] = {
    "python": frozenset(dir(builtins)) | {"__import__", "super"},
    "javascript": _JS_GLOBALS,
    "typescript": _JS_GLOBALS,
    "tsx": _JS_GLOBALS,
    "go": _GO_BUILTINS,
    "rust": _RUST_PRELUDE,
}
# Languages where a plain call to an unknown name means the function is missing. (C/C++/Java
# names come from headers, superclasses and static imports we cannot see.)
SUPPORTED = frozenset(BUILTINS)

_DEF_KEYWORD = re.compile(
    r"(?:\bdef|\bfn|\bfunc|\bfunction\*?|\bclass|\bstruct|\benum|\btrait|\btype|\binterface|"
    r"\blet|\bconst|\bvar|\bstatic|macro_rules!)\s+(?:mut\s+)?$"
)
_MAX_GO_FILES = 200
_MAX_FILE_BYTES = 1_000_000


def _closing_paren(text: str, open_index: int, limit: int = 4000) -> int:
    depth = 0
    for i in range(open_index, min(len(text), open_index + limit)):
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _occurrence_defines(text: str, start: int, end: int, language: str) -> bool:
    """Does this occurrence of the name define it (or refer to it other than by calling)?"""
    before = text[max(0, start - 40) : start]
    if before.endswith(".") or before.endswith("::") or before.endswith("->"):
        return False  # a member of something else: says nothing about the plain name
    if _DEF_KEYWORD.search(before):
        return True
    after = text[end : end + 200]
    stripped = after.lstrip(" \t")
    if language == "rust" and stripped.startswith("!"):
        return False  # a macro of the same name
    if not stripped.startswith("("):
        return True  # imported, assigned, passed as a value, a parameter, ...
    if language in ("javascript", "typescript", "tsx"):
        close = _closing_paren(text, end + (len(after) - len(stripped)))
        following = text[close + 1 : close + 40].lstrip() if close >= 0 else ""
        if following.startswith(("{", ":")):
            return True  # a method definition `name(args) {` or signature `name(args): T`
    return False


def word_occurrences(text: str, name: str) -> Iterator[int]:
    """Start indices of `name` as a whole identifier (str.find: fast on big files)."""
    at = text.find(name)
    while at >= 0:
        end = at + len(name)
        before = text[at - 1] if at else " "
        after = text[end] if end < len(text) else " "
        if not (before.isalnum() or before in "_$") and not (after.isalnum() or after in "_$"):
            yield at
        at = text.find(name, end)


def defined_in_text(name: str, text: str, language: str) -> bool:
    if language == "python" and re.search(r"^\s*from\s+\S+\s+import\s+\*", text, re.M):
        return True  # anything may come from a star import
    for start in word_occurrences(text, name):
        if _occurrence_defines(text, start, start + len(name), language):
            return True
    return False


def _defined_in_go_package(name: str, path: str) -> bool:
    here = Path(path)
    pattern = re.compile(
        rf"^(?:func\s+{re.escape(name)}\b|\s*(?:var|const)?\s*{re.escape(name)}\s*(?:=|:=|\s\w))",
        re.M,
    )
    try:
        siblings = sorted(here.parent.glob("*.go"))[:_MAX_GO_FILES]
    except OSError:
        return False
    for sibling in siblings:
        if sibling.name == here.name:
            continue
        try:
            if sibling.stat().st_size > _MAX_FILE_BYTES:
                continue
            if pattern.search(sibling.read_text(encoding="utf-8", errors="replace")):
                return True
        except OSError:
            continue
    return False


def is_undefined(name: str, text: str, language: str | None, path: str | None) -> bool:
    """True when a plain call to `name` can only mean a function that is not written yet."""
    if language not in SUPPORTED or name in BUILTINS[language]:
        return False
    if defined_in_text(name, text, language):
        return False
    return not (language == "go" and path and _defined_in_go_package(name, path))
