"""When streamed text completes the cursor's unit: bracket counting, the tree check, the rule."""

from __future__ import annotations

import time

import pytest

from spark_lsp.completion.brackets import BracketCounter, depth_of, lexis_for
from spark_lsp.completion.syntax_check import SyntaxCheck
from spark_lsp.completion.unit import UnitRule
from tests.unit.test_completion_cases import job_for, snapshot_at


@pytest.mark.parametrize(
    ("text", "language", "depth"),
    [
        ("foo(a, [b, {c", "python", 3),
        ("foo(')')", "python", 0),
        ('x = "(" + y(', "python", 1),
        ("f(  # (\n", "python", 1),
        ('"""\n(\n"""(', "python", 1),
        ("f(/* ( */ a, `(${b}` // (\n", "javascript", 1),
        ("fn f<'a>(x: &'a str) {", "rust", 1),
        ("a)\n}", "c", -2),
        ('s = "unterminated (\n(', "python", 1),
    ],
)
def test_bracket_depth_skips_strings_and_comments(text: str, language: str, depth: int) -> None:
    assert depth_of(text, language) == depth


def test_bracket_counter_takes_text_in_pieces() -> None:
    counter = BracketCounter(lexis_for("python"))
    for piece in ['x = f("', "(", '", ', "[1", "])"]:
        counter.feed(piece)
    assert counter.depth == 0 and counter.min_depth == 0 and not counter.in_string
    counter.feed(")")
    assert counter.min_depth == -1


SOURCE = "class A:\n    def f(self, a):\n        b = a\n        █\n        return b\n"


@pytest.mark.parametrize(
    ("text", "complete", "ends_with_block"),
    [
        ("c = b + 1\n", True, False),
        ("c = compute(\n", False, False),
        ("c = compute(\n            a)\n", True, False),
        ("c = \n", False, False),
        ("if b:\n            c = 1\n", True, True),
        ("@decorator\n", False, False),
        ("return b if b else\n", False, False),
    ],
)
def test_tree_check(text: str, complete: bool, ends_with_block: bool) -> None:
    snapshot, line, character = snapshot_at(SOURCE)
    check = SyntaxCheck(snapshot, line, character)
    assert check.usable
    verdict = check.verdict(text, character)
    assert (verdict.complete, verdict.ends_with_block if complete else False) == (
        complete, ends_with_block)


def test_tree_check_is_unusable_next_to_an_existing_error() -> None:
    snapshot, line, character = snapshot_at("def f(:\n    █ (\n")
    assert not SyntaxCheck(snapshot, line, character).usable


def test_tree_check_cost_follows_the_function_not_the_file() -> None:
    body = "".join(f"def f{i}(a):\n    x = a + {i}\n    return x\n\n" for i in range(6000))
    small_snapshot, line, character = snapshot_at("def g(a):\n    b = a\n    █\n    return b\n")
    big_snapshot, big_line, big_character = snapshot_at(
        body + "def g(a):\n    b = a\n    █\n    return b\n" + body)

    def cost(snapshot: object, line: int, character: int) -> float:
        check = SyntaxCheck(snapshot, line, character)  # type: ignore[arg-type]
        started = time.perf_counter()
        for _ in range(20):
            assert check.verdict("c = b * 2\n", character).complete
        return time.perf_counter() - started

    cost(small_snapshot, line, character)  # warm up
    small = cost(small_snapshot, line, character)
    assert cost(big_snapshot, big_line, big_character) < 5 * small + 0.01


def feed(rule: UnitRule, text: str) -> list[str]:
    """Drive a rule the way stop_at_unit_end does; return the events."""
    events: list[str] = []
    done = ""
    for line in text.splitlines(keepends=True):
        if done and line.strip():
            verdict = rule.continues(done, line)
            if verdict is False:
                events.append("ends-before")
                return events
        done += line
        if rule.complete(done):
            events.append("complete")
            return events
        events.append("more")
    return events


@pytest.mark.parametrize(
    ("source", "text", "events"),
    [
        (SOURCE, "c = 1\n", ["complete"]),
        (SOURCE, "# comment\nc = 1\n", ["more", "complete"]),
        (SOURCE, "for x in a:\n            c = x\n        d = 2\n",
         ["more", "more", "ends-before"]),
        (SOURCE, "try:\n            c = 1\n        except E:\n            c = 2\n        d\n",
         ["more", "more", "more", "more", "ends-before"]),
        ("def f(a):\n    █\n", "b = a\n    return b\n\ndef g():\n",
         ["more", "more", "more", "ends-before"]),
        ("function f() {\n  █\n}\n", "a();\n  b();\n}\n", ["more", "more", "complete"]),
        ("function f() {\n  a();\n  █\n}\n", "if (x) {\n    y();\n  }\n",
         ["more", "more", "complete"]),
    ],
)
def test_unit_rule(source: str, text: str, events: list[str]) -> None:
    language = "javascript" if "function" in source else "python"
    job = job_for(source, language)
    snapshot = job.snapshot
    rule = UnitRule(job, SyntaxCheck(snapshot, job.line, job.index))
    assert feed(rule, text) == events


def test_unit_rule_without_a_tree_judges_by_the_text() -> None:
    job = job_for(SOURCE)
    rule = UnitRule(job, None)
    assert feed(rule, "c = f(\n            1)\n") == ["more", "complete"]
    rule = UnitRule(job_for("function f() {\n  a();\n  █\n}\n", "javascript"), None)
    assert feed(rule, "b(\n  1);\n") == ["more", "complete"]


def test_else_needs_its_whole_first_word() -> None:
    job = job_for(SOURCE)
    rule = UnitRule(job, SyntaxCheck(job.snapshot, job.line, job.index))
    done = "if b:\n            c = 1\n"
    assert not rule.complete("if b:\n") and not rule.complete(done)
    assert rule.continues(done, "        el") is None
    assert rule.continues(done, "        else:") is True
    assert rule.continues(done, "        elsewhere = 1") is False
    assert rule.continues(done, "        return") is False
