"""Refusing answers that break the parse."""

from __future__ import annotations

from spark_lsp.actions.validate import check, parse


def test_clean_file_must_stay_clean() -> None:
    before = parse("python", "def f():\n    pass\n")
    assert check("python", before, "def f():\n    return 1\n") is None
    problem = check("python", before, "def f():\n    return (1\n")
    assert problem is not None and "does not parse as python" in problem


def test_broken_file_must_not_get_worse() -> None:
    broken = "def f(:\n    pass\n\ndef g():\n    pass\n"
    before = parse("python", broken)
    assert before.root_node.has_error
    assert check("python", before, broken.replace("    pass\n\ndef g", "    return 1\n\ndef g")) \
        is None
    assert check("python", before, broken + "def h(:\n  x = (\n") is not None


def test_unknown_language_is_not_checked() -> None:
    assert check(None, None, "anything {{{") is None
