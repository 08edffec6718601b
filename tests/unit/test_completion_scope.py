"""Single line or more, from the cursor's place in the syntax tree; and the indentation step."""

from __future__ import annotations

import pytest

from spark_lsp.completion.scope import analyse, opens_block
from tests.unit.test_completion_cases import snapshot_at


@pytest.mark.parametrize(
    ("source", "language", "multiline", "mode", "opens", "indent"),
    [
        ("x = foo(█)\n", "python", "auto", "line", False, ""),
        ("    return a█\n", "python", "auto", "line", False, "    "),
        ("def f(a):█\n", "python", "auto", "block", True, ""),
        ("class A:\n    def f(self):█\n", "python", "auto", "block", True, "    "),
        ("x = {1:█\n", "python", "auto", "line", False, ""),  # a dict, not a block
        ("f = lambda x:█\n", "python", "auto", "line", False, ""),
        ("def f(a):\n    █\n", "python", "auto", "block", False, ""),  # empty body
        ("def f(a):\n    █\n    return a\n", "python", "auto", "statement", False, "    "),
        ("def f(a):\n    b = 1\n    █\n", "python", "auto", "statement", False, "    "),
        ("if x:\n    pass\n█\n", "python", "auto", "statement", False, ""),
        ('def f():\n    """Doc.\n\n    █\n    """\n', "python", "auto", "line", False, "    "),
        ("# a comment {█\n", "python", "auto", "line", False, ""),
        ("def f(a):\n    █\n", "python", "never", "line", False, "    "),
        ("    x = foo(█\n", "python", "always", "statement", False, "    "),
        ("function f() {█\n}\n", "javascript", "auto", "block", True, ""),
        ("function f() {\n  █\n}\n", "javascript", "auto", "block", False, ""),
        ("function f() {\n  a();\n  █\n}\n", "javascript", "auto", "statement", False, "  "),
        ("// note {█\n", "javascript", "auto", "line", False, ""),
        ("const s = `{█`;\n", "javascript", "auto", "line", False, ""),
        ("func f() {\n\t█\n}\n", "go", "auto", "block", False, ""),
    ],
)
def test_mode(source: str, language: str, multiline: str, mode: str, opens: bool,
              indent: str) -> None:
    snapshot, line, character = snapshot_at(source, language)
    scope = analyse(snapshot, line, character, multiline)
    assert (scope.mode, scope.opens_at_cursor, scope.indent) == (mode, opens, indent)
    assert scope.indent_based == (language == "python")


@pytest.mark.parametrize(
    ("source", "language", "unit"),
    [
        ("def f():\n  x = 1\n  █\n", "python", "  "),
        ("def f():\n    x = 1\n    █\n", "python", "    "),
        ("function f() {\n\tx();\n\t█\n}\n", "javascript", "\t"),
        ("x = 1\n█\n", "python", "    "),  # nothing to go by: four spaces
        ("package main\n█\n", "go", "\t"),  # ... or what the language uses
    ],
)
def test_indent_unit(source: str, language: str, unit: str) -> None:
    snapshot, line, character = snapshot_at(source, language)
    assert analyse(snapshot, line, character).indent_unit == unit


@pytest.mark.parametrize(
    ("code", "language", "expected"),
    [
        ("    elif x > 1:", "python", True),
        ("async def f():", "python", True),
        ("try:", "python", True),
        ("x = y[1:", "python", False),
        ("if (x) {", "c", True),
        ("x = 1", "rust", False),
        ("begin:", "plaintext", False),
    ],
)
def test_opens_block(code: str, language: str, expected: bool) -> None:
    assert opens_block(code, language) is expected
