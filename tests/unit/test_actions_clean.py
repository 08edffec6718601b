"""Cleaning model answers: code out of markdown fences, prose dropped, indentation re-based."""

from __future__ import annotations

import pytest

from spark_lsp.actions.clean import (
    extract_code,
    fenced_blocks,
    is_prose,
    reindent,
    unclosed_fence,
)
from spark_lsp.actions.stronger import comment_lines


def test_fenced_block_with_prose_around() -> None:
    raw = "Here is the code:\n\n```python\ndef f():\n    return 1\n```\n\nThis returns one."
    assert extract_code(raw, "python") == "def f():\n    return 1"


def test_the_block_tagged_with_the_language_wins_over_a_longer_one() -> None:
    raw = ("```bash\npip install something-long-enough-to-be-longer\n```\n"
           "```go\nreturn x\n```")
    assert extract_code(raw, "go") == "return x"
    assert extract_code(raw, "python").startswith("pip install")  # no tag matches: longest


def test_unclosed_fence_runs_to_the_end() -> None:
    assert fenced_blocks("```ts\nconst x = 1;\nconst y = 2;") == [
        ("ts", "const x = 1;\nconst y = 2;")]
    assert extract_code("Sure:\n~~~\nx = 1\n~~~", None) == "x = 1"


def test_prose_without_fences_is_dropped_at_the_edges_only() -> None:
    raw = ("Sure! Here is the implementation of the function:\n"
           "    total = sum(values)\n"
           "    # Return the average of the values.\n"
           "    return total / len(values)\n"
           "\n"
           "This divides the sum by the count of values.")
    assert extract_code(raw, "python") == (
        "    total = sum(values)\n    # Return the average of the values.\n"
        "    return total / len(values)")


@pytest.mark.parametrize("line", [
    "Here is the implementation:", "This function returns the sum of the values.",
    "- It uses a set for the lookups.", "Note: the input must be sorted.", "Explanation:",
])
def test_prose_lines(line: str) -> None:
    assert is_prose(line)


@pytest.mark.parametrize("line", [
    "return a + b", "# Compute the total of all the values here", "x = compute(a, b)",
    "Println(\"hello world again\")", "}", "if err != nil {", "Some(value)",
    "// The loop below walks every item in the list.", "raise ValueError(\"bad input\")",
])
def test_code_lines_are_not_prose(line: str) -> None:
    assert not is_prose(line)


def test_reindent_spaces_to_tabs() -> None:
    code = "for _, x := range xs {\n    total += x\n}\nreturn total"
    assert reindent(code, "\t", "\t") == [
        "\tfor _, x := range xs {", "\t\ttotal += x", "\t}", "\treturn total"]


def test_reindent_two_to_four_spaces_and_blank_lines_stay_empty() -> None:
    code = "  if x:\n    y = 1\n\n  return y"
    assert reindent(code, "        ", "    ") == [
        "        if x:", "            y = 1", "", "        return y"]


def test_reindent_first_line_that_lost_its_indentation() -> None:
    code = "total = 0\n    for x in xs:\n        total += x\n    return total"
    assert reindent(code, "    ", "    ") == [
        "    total = 0", "    for x in xs:", "        total += x", "    return total"]


def test_reindent_keeps_a_first_line_that_opens_a_block() -> None:
    code = "def f():\n    return 1"
    assert reindent(code, "", "    ") == ["def f():", "    return 1"]


def test_reindent_tabs_to_spaces() -> None:
    assert reindent("if x {\n\ty()\n}", "  ", "  ") == ["  if x {", "    y()", "  }"]


def test_explanation_becomes_line_comments() -> None:
    assert comment_lines("This sorts the jobs.\nThen it assigns them.", "#") == [
        "# This sorts the jobs.", "# Then it assigns them."]
    assert comment_lines("```\n/**\n * Sorts jobs.\n */\n```", "//") == ["// Sorts jobs."]
    assert comment_lines("// Already a comment.\n\n// Two.", "//") == [
        "// Already a comment.", "//", "// Two."]


def test_unclosed_fence_means_cut_off() -> None:
    assert unclosed_fence("Here:\n```python\ndef f():\n    return")
    assert not unclosed_fence("```python\ndef f():\n    return 1\n```\nDone.")
    assert not unclosed_fence("return 1")
    assert unclosed_fence("```go\nx\n```\n\n```go\ny")
