"""The holes of a skeleton (TODO/FIXME comments, stub statements, empty bodies, `${placeholders}`)
and the region a fill works on: the selection, else the innermost definition with holes."""

from __future__ import annotations

import pytest

from spark_lsp.actions.regions import fill_target, selection_region
from spark_lsp.actions.syntax import Source
from spark_lsp.actions.targets import FillTarget
from tests.unit.test_actions_detect import snapshot


def target(text: str, language: str, end: tuple[int, int] | None = None) -> FillTarget | None:
    snap, loc = snapshot(text, language)
    assert snap.tree is not None
    return fill_target(snap.tree, Source(snap), loc, end or loc)


@pytest.mark.parametrize(("language", "text", "kinds"), [
    ("python", "def f(x):\n    # TODO: validate█ x\n    y = ...\n    return ${result}\n",
     ["todo", "stub", "placeholder"]),
    ("python", "class K:\n    def a(self):\n        pass█\n    def b(self):\n        return 1\n",
     ["stub"]),
    ("typescript",
     "function f(x: number) {\n  /* FIXME█ */\n  throw new Error('not implemented');\n}\n",
     ["todo", "stub"]),
    ("go", "package p\n\nfunc F() {\n\t// TODO█\n\tpanic(\"TODO\")\n}\n", ["todo", "stub"]),
    ("rust", "fn f() -> i32 {\n    let a = todo!();█\n    a + unimplemented!()\n}\n",
     ["stub", "stub"]),
])
def test_holes_per_language(language: str, text: str, kinds: list[str]) -> None:
    found = target(text, language)
    assert found is not None
    assert [h.kind for h in found.holes] == kinds


def test_placeholders_inside_strings_and_template_literals_are_code() -> None:
    text = "function f(name: string) {\n  // TODO█\n  return `hi ${name}` + '${x}';\n}\n"
    found = target(text, "typescript")
    assert found is not None and [h.kind for h in found.holes] == ["todo"]


def test_no_holes_no_fill() -> None:
    assert target("def f(x):\n    return x█\n", "python") is None


def test_pass_in_an_except_clause_is_not_a_hole() -> None:
    text = "def f(x):\n    try:\n        x()\n    except ValueError:\n        pass█\n"
    assert target(text, "python") is None


def test_type_hint_ellipsis_is_not_a_hole() -> None:
    assert target("def f(x: tuple[int, ...]) -> int:\n    return x█[0]\n", "python") is None


def test_region_is_the_innermost_definition_with_holes() -> None:
    text = ("class K:\n    def a(self):\n        return 1\n\n    def b(self):\n"
            "        # TODO█: b\n        return 2\n")
    found = target(text, "python")
    assert found is not None
    assert (found.region.first, found.region.last, found.region.label) == (4, 6, "function `b`")
    assert found.region.indent == "    "


def test_selection_region_takes_whole_lines() -> None:
    text = "a = 1\nb = ${value}█\nc = 3\n"
    snap, loc = snapshot(text, "python")
    src = Source(snap)
    region = selection_region(src, (0, 2), (2, 0))
    assert region is not None and (region.first, region.last) == (0, 1)
    assert region.label == "lines 1-2"
    assert selection_region(src, loc, loc) is None
    assert snap.tree is not None
    found = fill_target(snap.tree, src, (0, 2), (2, 0))
    assert found is not None and [h.text for h in found.holes] == ["${value}"]
