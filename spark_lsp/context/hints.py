"""Which classes the names near the cursor hold — from annotations, constructor calls, the
attributes of the enclosing class and its bases — so that their members can go in the prompt.

Text-level and deliberately shallow (no inference): `x: Client`, `x = Client(...)`,
`self.x = Client(...)`, `self.x = x` where `__init__` says `x: Client`, `@property def x(self) ->
Client`, `class C(Base)`; and, for a value nothing types, the one class of the file that has every
attribute the nearby code uses on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from spark_lsp.syntax.file_outline import FileOutline
from spark_lsp.syntax.symbols import Symbol

_ANNOTATION = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\s*:\s*(?=([A-Za-z_'\"]))")
_CONSTRUCTED = re.compile(
    r"(?<![\w.])(self\.)?([A-Za-z_]\w*)\s*(?::[^=]*)?=\s*(?:await\s+)?((?:[a-z_]\w*\.)*_*[A-Z]\w*)\s*\(")
_COPIED = re.compile(r"self\.([A-Za-z_]\w*)\s*=\s*([A-Za-z_]\w*)\s*$")
_RETURNS = re.compile(r"->\s*([A-Za-z_][\w.\[\], |'\"]*)")
_WORD = re.compile(r"[A-Za-z_]\w*")
_BASES = re.compile(r"^\s*class\s+\w+\s*(?:\[[^\]]*\])?\s*\((.*)\)\s*:", re.S)

# Words of type expressions that name no class of the workspace.
_GENERIC = frozenset({
    "Optional", "Union", "List", "Dict", "Set", "FrozenSet", "Tuple", "Type", "Any", "Callable",
    "Iterable", "Iterator", "Sequence", "Mapping", "MutableMapping", "Awaitable", "Coroutine",
    "AsyncIterator", "AsyncIterable", "Generator", "AsyncGenerator", "Literal", "Final",
    "ClassVar", "Annotated", "TypeVar", "Generic", "Protocol", "None", "NoneType", "Self",
    "typing", "t", "str", "int", "float", "bool", "bytes", "dict", "list", "set", "tuple",
    "object", "type", "Enum", "ABC", "Exception", "NamedTuple", "TypedDict", "metaclass",
})


_CONSTANTS = frozenset({"None", "True", "False"})


def type_names(expression: str) -> list[str]:
    """Class names in a type expression: `Optional[httpx.Client] | None` → ["Client"]."""
    names = []
    for word in _WORD.findall(expression.replace("'", " ").replace('"', " ")):
        if word.lstrip("_")[:1].isupper() and word not in _GENERIC and word not in names \
                and word not in _CONSTANTS:
            names.append(word)
    return names


def _type_expression(text: str, start: int) -> str:
    """The annotation starting at `start`: up to a `,`, `)`, `=` or line end outside brackets
    (`a: dict[str, int], b: B` → `dict[str, int]`)."""
    depth = 0
    for end in range(start, min(len(text), start + 300)):
        char = text[end]
        if char in "[(":
            depth += 1
        elif char in "])":
            if depth == 0:
                return text[start:end]
            depth -= 1
        elif depth == 0 and char in ",=\n:":
            return text[start:end]
    return text[start : start + 300]


def variable_types(texts: Iterable[str]) -> dict[str, list[str]]:
    """`name → class names` from annotations and constructor calls in some code."""
    found: dict[str, list[str]] = {}
    for text in texts:
        for match in _ANNOTATION.finditer(text):
            annotation = _type_expression(text, match.start(2))
            for word in type_names(annotation):
                found.setdefault(match.group(1), []).append(word)
        for _, name, constructor in _CONSTRUCTED.findall(text):
            found.setdefault(name, []).append(constructor.split(".")[-1])
    return {name: list(dict.fromkeys(types)) for name, types in found.items()
            if name not in _CONSTANTS}


def attribute_types(members: Sequence[Symbol]) -> dict[str, list[str]]:
    """`attribute → class names` for a class, from its members' signatures."""
    init = next((m for m in members if m.name in ("__init__", "constructor")), None)
    params = variable_types([init.signature]) if init is not None else {}
    found: dict[str, list[str]] = {}
    for member in members:
        text = member.signature
        if member.kind == "attribute":
            copied = _COPIED.search(text)
            if copied and copied.group(2) in params:
                found.setdefault(member.name, []).extend(params[copied.group(2)])
            for name, types in variable_types([text.replace("self.", "", 1)]).items():
                if name == member.name:
                    found.setdefault(name, []).extend(types)
        elif member.kind == "variable":
            for name, types in variable_types([text]).items():
                if name == member.name:
                    found.setdefault(name, []).extend(types)
        elif member.kind == "function" and "@property" in text:
            returns = _RETURNS.search(text)
            if returns:
                found.setdefault(member.name, []).extend(type_names(returns.group(1)))
    return {name: list(dict.fromkeys(types)) for name, types in found.items() if types}


def base_classes(header: str) -> list[str]:
    """The bases named in a class header (`class C(Base, Mixin[T], metaclass=M):`)."""
    match = _BASES.match(header)
    if not match:
        return []
    bases = []
    for part in match.group(1).split(","):
        if "=" in part:
            continue
        words = _WORD.findall(part.split("[")[0])
        if words and words[-1] not in _GENERIC:
            bases.append(words[-1])
    return bases


def classes_having(outline: FileOutline, attributes: set[str], limit: int = 2) -> list[str]:
    """The classes of a file that define every one of `attributes` (a receiver's uses near the
    cursor, `p.text(…); p.group(…)`): duck typing for a value nothing annotates."""
    if len(attributes) < 2:
        return []
    rarest = min(attributes, key=lambda a: len(outline.lookup(a)))
    owners = {s.parent for s in outline.lookup(rarest) if s.parent}
    found = [owner for owner in owners
             if all(outline.has_member(owner, a) for a in attributes)]
    return [owner.rsplit(".", 1)[-1] for owner in sorted(found)][:limit]
