"""The complexity score that decides when 'Ask stronger model' is offered."""

from __future__ import annotations

import pytest

from spark_lsp.actions.complexity import AUTO_THRESHOLD, measure, threshold
from spark_lsp.actions.syntax import Source
from spark_lsp.documents.store import DocumentStore
from tests.e2e.test_actions import GO_SCHEDULE, PY_SCHEDULE, RUST_SCHEDULE, TS_SCHEDULE


def score_of(text: str, language: str, first: int = 0, last: int | None = None) -> float:
    store = DocumentStore()
    store.open(f"file:///x.{language}", language, 1, text)
    snap = store.snapshot(f"file:///x.{language}")
    assert snap is not None and snap.tree is not None
    last = len(snap.lines) - 1 if last is None else last
    return measure(snap.tree, Source(snap), first, last).score


@pytest.mark.parametrize(("language", "code"), [
    ("python", PY_SCHEDULE), ("typescript", TS_SCHEDULE), ("go", GO_SCHEDULE),
    ("rust", RUST_SCHEDULE)])
def test_thirty_line_function_with_nested_loops_scores_above_auto(language: str,
                                                                  code: str) -> None:
    assert score_of(code, language) >= AUTO_THRESHOLD + 5


@pytest.mark.parametrize(("language", "code"), [
    ("python", "total = price * quantity\n"),
    ("typescript", "const total = price * quantity;\n"),
    ("go", "package p\n\nvar total = price * quantity\n"),
    ("rust", "const TOTAL: u32 = PRICE * QUANTITY;\n"),
    ("python", "def f(x):\n    return x + 1\n"),
])
def test_one_liners_and_small_functions_score_low(language: str, code: str) -> None:
    assert score_of(code, language) < AUTO_THRESHOLD / 2


def test_parts_of_the_score() -> None:
    store = DocumentStore()
    code = ("def f(xs, limit):\n    for x in xs:\n        if x > limit and x % 2:\n"
            "            while x:\n                x = step(x)\n    return helper(xs)\n")
    store.open("file:///f.py", "python", 1, code)
    snap = store.snapshot("file:///f.py")
    assert snap is not None and snap.tree is not None
    parts = measure(snap.tree, Source(snap), 0, 5)
    assert parts.cyclomatic == 1 + 4  # for, if, and, while
    assert parts.depth == 3
    assert parts.lines == 6
    assert parts.external_names == 2  # step, helper (x, xs, limit, f are bound here)


def test_a_selection_scores_only_its_own_lines() -> None:
    whole = score_of(PY_SCHEDULE, "python")
    one_line = score_of(PY_SCHEDULE, "python", 13, 13)
    assert one_line < 3 < whole


def test_threshold_setting() -> None:
    assert threshold("auto") == AUTO_THRESHOLD
    assert threshold(3) == 3.0
