"""Plain data that detection hands to the prompt and apply steps: what to generate, fill or rewrite,
and where the answer goes. Locations are (row, python index into the line).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Loc = tuple[int, int]


@dataclass(frozen=True)
class Placement:
    """Where the answer's lines go and how they are joined into the document.

    The edit replaces `start`-`end` with `lead` + the lines (each already carrying `indent`;
    blank lines stay empty) + `trail`. With `inline_first` the first line goes where `start` is,
    after indentation that is already in the document. `kept` are lines of the original (a
    docstring, describing comments) that stay in front of the answer unless it carries them.
    """

    start: Loc
    end: Loc
    indent: str
    lead: str = ""
    trail: str = ""
    kept: tuple[str, ...] = ()
    inline_first: bool = False


@dataclass(frozen=True)
class GenerateTarget:
    """A function to write: the body of a stub (`task="body"`), or a new function for a call to
    one that does not exist yet (`task="create"`)."""

    task: Literal["body", "create"]
    name: str
    language: str
    signature: str  # the stub's text up to its body; "" for a new function
    docstring: str  # docstring or the comments describing the function
    function_text: str  # the whole stub (or the caller, for a new function)
    call_sites: tuple[str, ...]
    placement: Placement
    anchor: Loc  # where the context is built around
    braces: bool
    indent_unit: str
    rows: tuple[int, int] = (-1, -1)  # the stub's rows in the document ((-1, -1): a new one)


@dataclass(frozen=True)
class Hole:
    """One hole of a skeleton: a TODO/FIXME comment, a stub statement, a `${placeholder}`."""

    row: int
    start: int
    end: int
    text: str
    kind: Literal["todo", "stub", "placeholder", "empty"]


@dataclass(frozen=True)
class Region:
    """Whole lines of the document that an action rewrites: rows `first`..`last` inclusive."""

    first: int
    last: int
    text: str
    indent: str
    label: str  # what the region is, for titles and prompts ("function `f`", "selection")


@dataclass(frozen=True)
class FillTarget:
    language: str
    region: Region
    holes: tuple[Hole, ...]
    indent_unit: str


@dataclass(frozen=True)
class StrongerTarget:
    language: str
    region: Region
    task: Literal["improve", "fix", "explain"]
    score: float
    indent_unit: str
    comment: str
