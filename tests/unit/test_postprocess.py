"""Post-processing alone: suffix overlap, following lines, indentation, dropping, the range."""

from __future__ import annotations

import pytest

from spark_lsp.completion.postprocess import (
    fit_line_suffix,
    fix_indentation,
    postprocess,
    trim_following_overlap,
)
from spark_lsp.completion.types import menu_item
from tests.unit.test_completion_cases import job_for


@pytest.mark.parametrize(
    ("text", "suffix", "expected"),
    [
        ("a, b)", ")", ("a, b", 0)),  # the editor's closing bracket
        ("a, b))", "))", ("a, b", 0)),
        ("foo(b)", "))", ("foo(b", 0)),  # part of the closers
        ("1, 2)", ", 2)", ("1", 0)),  # the whole rest of the line
        ("a) + 1", ")", ("a) + 1", 1)),  # types through the closer and goes on: replace it
        ("a]) + 1", "]);", ("a]) + 1", 2)),  # the `;` stays
        ("name", " = value", ("name", 0)),  # unrelated rest: insert before it
        ("x", "", ("x", 0)),
        (")", ")", ("", 0)),  # nothing but the rest itself
    ],
)
def test_fit_line_suffix(text: str, suffix: str, expected: tuple[str, int]) -> None:
    assert fit_line_suffix(text, suffix) == expected


@pytest.mark.parametrize(
    ("text", "following", "expected"),
    [
        ("x = 1\n    return x", ["return x"], "x = 1"),
        ("\n  return a;\n}", ["}"], "\n  return a;"),  # closes more than it opens
        ("if (a) {\n  b();\n}", ["}"], "if (a) {\n  b();\n}"),  # its own brace stays
        ("a()\nb()\nc()", ["b()", "c()", "d()"], "a()"),
        ("a()", ["b()"], "a()"),
    ],
)
def test_trim_following_overlap(text: str, following: list[str], expected: str) -> None:
    assert trim_following_overlap(text, following, "javascript") == expected


@pytest.mark.parametrize(
    ("source", "raw", "expected"),
    [
        # the cursor stands at the indentation: the model's own indentation goes
        ("def f():\n    x = 1\n    █\n", "    if x:\n        y = 2", "if x:\n        y = 2"),
        ("def f():\n    x = 1\n    █\n", "  if x:\n      y = 2", "if x:\n        y = 2"),
        # model wrote continuation lines as if the first line were at column 0
        ("def f():\n    x = 1\n    █\n", "if x:\n    y = 2", "if x:\n        y = 2"),
        # already right
        ("def f():\n    x = 1\n    █\n", "if x:\n        y = 2", "if x:\n        y = 2"),
        # cursor at column 0 of an empty line in a block: the model's indentation is kept
        ("def f():\n    x = 1\n█\n    return x\n", "    y = 2", "    y = 2"),
        # blank lines before the code are dropped
        ("def f():\n    x = 1\n    █\n", "\n\ny = 2", "y = 2"),
        # an empty block and a cursor left of its body: indent to the body
        ("def f():\n█\n", "return 1", "    return 1"),
    ],
)
def test_fix_indentation(source: str, raw: str, expected: str) -> None:
    assert fix_indentation(raw, job_for(source)) == expected


def test_postprocess_drops_what_repeats_the_line_above() -> None:
    assert postprocess("x = compute()", job_for("x = compute()\n█\n")) is None


def test_postprocess_keeps_a_repeated_closing_brace() -> None:
    job = job_for("function f() {\n  if (a) {\n    b();\n  }\n  █\n", "javascript")
    suggestion = postprocess("}", job)
    assert suggestion is not None and suggestion.text == "}"


@pytest.mark.parametrize("raw", ["", "   ", "\n\n", " \t\n "])
def test_postprocess_drops_empty_suggestions(raw: str) -> None:
    assert postprocess(raw, job_for("def f():\n    █\n")) is None
    assert postprocess(raw, job_for("x = █\n")) is None


def test_at_the_end_of_a_finished_line_the_suggestion_is_the_next_line() -> None:
    job = job_for("def f(a):\n    x = compute(a)█\n")
    assert job.scope.at_line_end
    suggestion = postprocess("\n    y = x + 1", job)
    assert suggestion is not None and suggestion.text == "\n    y = x + 1"
    unindented = postprocess("\ny = x + 1", job)  # the model left the indentation out
    assert unindented is not None and unindented.text == "\n    y = x + 1"
    # what the document has next already, or the line itself again: nothing
    assert postprocess("\n    return x", job_for("def f(a):\n    x = 1█\n    return x\n")) \
        is None
    assert postprocess("\n    x = compute(a)", job) is None
    # not at a line's end (text after the cursor): the line ends with the cursor's line
    assert postprocess("\n    y = 2", job_for("def f(a):\n    x = █a\n")) is None


def test_range_counts_utf16_units() -> None:
    job = job_for("s = f('😀█')\n")
    suggestion = postprocess("x') + 1", job)
    assert suggestion is not None
    assert (suggestion.character, suggestion.replace_end_character) == (9, 11)


def test_menu_item_replaces_the_word_before_the_cursor() -> None:
    suggestion = postprocess("urn total + compute_the_rest_of_it(with_many, arguments)",
                             job_for("def f():\n    ret█\n"))
    assert suggestion is not None and suggestion.word_prefix == "ret"
    entry = menu_item(suggestion)
    assert entry.new_text == "return total + compute_the_rest_of_it(with_many, arguments)"
    assert (entry.line, entry.start_character, entry.end_character) == (1, 4, 7)
    assert entry.filter_text.startswith("return total")
    assert len(entry.label) <= 40 and entry.label.endswith("…")


def test_menu_item_label_is_the_first_line_of_a_block() -> None:
    suggestion = postprocess("\n    return a + b", job_for("def add(a, b):█\n"))
    assert suggestion is not None
    assert menu_item(suggestion).label == "return a + b"


@pytest.mark.parametrize(
    ("source", "raw", "expected"),
    [
        ("def f(xs):\n    ret█\n", "return [x for x in xs]", "urn [x for x in xs]"),
        ("def f():\n    x = fo█\n", "x = foo()", "o()"),  # the whole typed statement
        ("def f():\n    ret█\n", "urn x", "urn x"),  # a FIM answer: nothing repeated
        ("def f():\n    x = a█\n", "a + b", "a + b"),  # one letter: could be `aa + b`
        ("def f():\n    r█\n", "return x", "eturn x"),  # one letter, the same word goes on
    ],
)
def test_postprocess_drops_what_repeats_the_typed_text(source: str, raw: str,
                                                        expected: str) -> None:
    suggestion = postprocess(raw, job_for(source))
    assert suggestion is not None and suggestion.text == expected
