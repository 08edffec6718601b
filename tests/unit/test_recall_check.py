"""The generalisation check of benchmarks/context_recall.py: tuned and untuned trees kept apart,
results entries written and read back, and a drop in untuned recall failing the check."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from benchmarks import context_recall
from benchmarks.recall_results import (
    Entry,
    Pooled,
    append,
    compare,
    format_entry,
    last_matching,
    parse_entries,
)

SETTINGS = "budgets 256,512 · seed 0 · tokens: estimate; budgeted with the estimate"
UNTUNED = "starlette 1.10.0 (108) · yaml 6.0.4 (51)"


def _entry(heading: str, far: float, all_: float, untuned: str = UNTUNED) -> Entry:
    entry = Entry(heading, {"settings": SETTINGS, "tuned": "httpx 0.28.1 (200)",
                            "untuned": untuned})
    for budget in (256, 512):
        entry.figures[("tuned", budget)] = Pooled(200, 0.7, 0.9, budget * 0.9, 0)
        entry.figures[("untuned", budget)] = Pooled(159, far, all_, budget * 0.88, 1)
    return entry


def test_no_tree_is_both_tuned_and_untuned() -> None:
    assert not set(context_recall.TUNED_TREES) & set(context_recall.UNTUNED_TREES)
    assert context_recall.tree_kind("/site/httpx") == "tuned"
    assert context_recall.tree_kind("/site/_pytest/") == "tuned"
    assert context_recall.tree_kind("/site/rich") == "untuned"


def test_the_training_trees_of_tune_context_count_as_tuned() -> None:
    try:
        tune = importlib.import_module("benchmarks.tune_context")
    except ImportError:
        pytest.skip("no benchmarks/tune_context.py")
    assert set(getattr(tune, "TRAIN_TREES", ())) <= set(context_recall.TUNED_TREES)


def test_the_docstring_says_how_to_install_each_untuned_tree() -> None:
    doc = context_recall.__doc__ or ""
    assert all(pin in doc for pin in context_recall.UNTUNED_TREES.values())


def test_an_entry_reads_back_as_written(tmp_path: Path) -> None:
    results = tmp_path / "results.md"
    append(_entry("first", 0.5, 0.85), results)
    append(_entry("second", 0.51234, 0.86), results)
    first, second = parse_entries(results.read_text())
    assert (first.heading, second.heading) == ("first", "second")
    assert second.keys["untuned"] == UNTUNED
    assert second.figures[("untuned", 512)] == Pooled(159, 0.5123, 0.86, 451, 1)
    assert "| gap | 512 | | -0.1877 | -0.0400 |" in format_entry(second)


def test_the_check_compares_with_the_last_entry_of_the_same_settings_and_trees() -> None:
    entries = [_entry("old", 0.5, 0.85), _entry("other trees", 0.1, 0.1, "rich 15.0.0 (200)"),
               _entry("last", 0.6, 0.86)]
    assert last_matching(entries, SETTINGS, UNTUNED).heading == "last"  # type: ignore[union-attr]
    assert last_matching(entries, SETTINGS.replace("seed 0", "seed 1"), UNTUNED) is None


def test_a_drop_of_more_than_a_hundredth_fails_the_check() -> None:
    before = _entry("before", 0.5, 0.85).group("untuned")
    _, failed = compare(before, _entry("same", 0.5, 0.85).group("untuned"))
    assert not failed
    _, failed = compare(before, _entry("a hundredth less", 0.49, 0.84).group("untuned"))
    assert not failed
    lines, failed = compare(before, _entry("less far", 0.489, 0.85).group("untuned"))
    assert failed and "dropped: far" in lines[-1]
    _, failed = compare(before, _entry("less all", 0.6, 0.8).group("untuned"))
    assert failed


def test_a_budget_never_measured_before_fails_the_check() -> None:
    before = {512: Pooled(159, 0.5, 0.85, 450, 0)}
    lines, failed = compare(before, _entry("now", 0.6, 0.9).group("untuned"))
    assert failed and "no earlier figure" in lines[2]
