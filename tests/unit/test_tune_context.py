"""benchmarks/tune_context.py works on the ranking table: its fields, the values it tries, and a
run that ranks by the values it is given (no module global set)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import tune_context
from benchmarks.fim_tasks import Task
from spark_lsp.context.ranking import DEFAULT
from spark_lsp.context.sticky import FIRST_RESERVE_TOKENS
from spark_lsp.context.tokens import estimate_tokens
from tests.unit.test_ranking import BINDING, SOURCE


def test_the_fields_are_the_tables() -> None:
    every = tune_context.table_fields()
    assert [f.key for f in every] == [key for key, _ in DEFAULT.values()]
    ints = {f.key for f in every if f.is_int}
    assert ints == {"nearness.rows_above", "nearness.rows_below", "packing.list_share"}
    chosen = tune_context.table_fields(["names.kin", "weights.near"])
    assert [(f.key, f.original) for f in chosen] == [("names.kin", 500.0), ("weights.near", 0.5)]
    with pytest.raises(SystemExit):
        tune_context.table_fields(["names.nothing"])


def test_the_values_tried() -> None:
    kin, share, rows = tune_context.table_fields(
        ["names.kin", "window.prefix_share", "nearness.rows_below"])
    assert tune_context.candidates(kin, 500.0, (0.5, 2.0), ()) == [250.0, 1000.0]
    assert tune_context.candidates(share, 0.25, (), (-0.1, 0.05, 0.7)) == [0.15, 0.3, 0.9]
    assert tune_context.candidates(rows, 4.0, (0.1, 0.75, 1.33), ()) == [1.0, 3.0, 5.0]
    assert tune_context.ranking_of({"code.binding_row": 0.0}).code.binding_row == 0.0


def test_a_run_ranks_by_the_values_it_is_given(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The hole is the row binding `ssl_context`; its twin far below goes into the prompt by
    `code.binding_row`, and with it `make_context`: recall falls when that rule is off."""
    monkeypatch.setattr(tune_context, "real_counter", lambda: (estimate_tokens, "estimate"))
    (tmp_path / "a.py").write_text(SOURCE)
    cursor = SOURCE.index("    \n    pool = Pool(") + 4
    task = Task("a.py:5", str(tmp_path), "a.py", SOURCE, cursor, BINDING.strip())
    runner = tune_context.Runner({"train": [(str(tmp_path), [task])]})
    budget = 170 + FIRST_RESERVE_TOKENS  # tight: room for the twin row, not for much more
    default = runner.run("train", {}, budget)[str(tmp_path)]
    off = runner.run("train", {"code.binding_row": 0.0}, budget)[str(tmp_path)]
    again = runner.run("train", {}, budget)[str(tmp_path)]
    assert default.all_total == off.all_total == 4  # ssl_context, make_context, verify, cert
    assert off.all_found < default.all_found == again.all_found


def test_a_table_that_does_worse_on_untuned_trees_is_blocked() -> None:
    def figures(far_found: int, all_found: int) -> tune_context.Figures:
        return tune_context.Figures(1, far_found, 100, all_found, 100, 0, [100])

    before = figures(60, 90)
    assert tune_context.untuned_regression(before, figures(59, 90)) is None  # within 0.01
    assert tune_context.untuned_regression(before, figures(65, 95)) is None
    blocked = tune_context.untuned_regression(before, figures(58, 90))
    assert blocked is not None and "far 0.6000 → 0.5800" in blocked
    assert tune_context.untuned_regression(before, figures(60, 88)) is not None
