"""The evaluation harness of the context engine (benchmarks/): the tasks it generates, what it
counts as an answer's identifiers, far identifiers and the naive window, and one real run."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from benchmarks.context_recall import (
    BudgetResult,
    answer_identifiers,
    evaluate,
    miss_kind,
    naive_window,
    vocabulary,
)
from benchmarks.fim_tasks import tasks_from_tree
from spark_lsp.context.sticky import FIRST_RESERVE_TOKENS
from spark_lsp.context.tokens import estimate_tokens

FAR_AWAY = "\n".join(f"FILLER_{i} = {i}" for i in range(40))
MODULE = f'''"""A module."""
import logging

RETRY_LIMIT = 3


def fetch_once(url, session):
    response = session.get(url, timeout=RETRY_LIMIT)
    return response.json()


{FAR_AWAY}


def fetch(url, session):
    attempts = 0
    response = session.get(url, timeout=RETRY_LIMIT)
    return response
'''
HOLE = MODULE.rindex("response = session")


def _words(text: str) -> int:
    return len(text.split())


def test_generated_tasks_mask_one_statement_row_of_a_function_body(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text(MODULE)
    tasks = tasks_from_tree(str(tmp_path), 10, per_file=10)
    assert {t.answer for t in tasks} == {"attempts = 0",
                                          "response = session.get(url, timeout=RETRY_LIMIT)",
                                          "return response", "return response.json()"}
    for task in tasks:
        before, after = task.text[: task.cursor], task.text[task.cursor:]
        assert before.endswith("\n    ")  # the cursor after the indentation
        assert before + task.answer + after == MODULE


def test_an_answers_identifiers_leave_out_keywords_builtins_strings_and_comments() -> None:
    assert answer_identifiers('x = foo(len(y), "quoted") or None  # note') == {"x", "foo", "y"}
    assert answer_identifiers("return self.size") == {"size"}


def test_the_vocabulary_is_builtin_type_methods_and_imported_stdlib_attributes() -> None:
    answer = "logging.getLogger(name).info(parts.append(x.custom()))"
    assert vocabulary(answer, "import logging\n") == {"getLogger", "append"}
    assert vocabulary(answer, "") == {"append"}  # logging not imported: not known so


def test_the_naive_window_gives_three_quarters_to_the_prefix() -> None:
    lines = [f"w{i} w{i}\n" for i in range(20)]  # two words a row
    window = naive_window(lines, 10, 0, 16, _words)
    # 12 words before the cursor (rows 4-9), the cursor's row and one more after it
    assert window.split() == [w for i in range(4, 12) for w in (f"w{i}", f"w{i}")]


def test_what_kind_of_identifier_a_miss_is() -> None:
    assert miss_kind("append", "xs.append(1)", {"append"}, True).startswith("builtin")
    assert miss_kind("k", "d = {k: 1 for k in keys}", set(), False) == "bound by the answer"
    assert miss_kind("_sync", "self._sync = sync", set(), False) == "bound by the answer"
    assert miss_kind("label", "run(label=LABEL)", set(), True) == "keyword argument"
    assert miss_kind("load", "hook = entry.load()", set(), False) == \
        "attribute, not defined there"
    assert miss_kind("LABEL", "run(label=LABEL)", set(), True) == \
        "name, defined in the workspace"


def test_a_run_counts_far_identifiers_and_beats_the_naive_window(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text(MODULE)
    task = next(t for t in tasks_from_tree(str(tmp_path), 10, per_file=10)
                if t.cursor > HOLE - 10)
    assert task.answer == "response = session.get(url, timeout=RETRY_LIMIT)"
    results: dict[int, BudgetResult] = defaultdict(BudgetResult)
    # 96 tokens for the choice, with the first choice's reserve for the line being typed
    budget = 96 + FIRST_RESERVE_TOKENS
    assert evaluate([task], [budget], estimate_tokens, results) == 1
    result = results[budget]
    # RETRY_LIMIT, `get` and `timeout` occur 45 rows above only (`response`, `url` and
    # `session` are near); `get` is a method of dict: vocabulary
    assert result.far.total == 3 and result.far_v.total == 2
    assert result.far.found == 3 and result.naive_far.found == 0
    assert result.tokens[0] <= budget and result.over == 0
