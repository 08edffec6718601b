"""Typing on one row skips work that only the rest of the file needs: the tree is not reparsed
(`IncrementalTree.edited_tree`, `DocumentStore.snapshot(typing_row=…)`), the outline is not
refreshed and the last context choice is reused — and whatever reads the cursor's row still
sees its text as it is now."""

from __future__ import annotations

from pathlib import Path

from spark_lsp.completion.scope import analyse
from spark_lsp.context.builder import build_context
from spark_lsp.context.engine import ContextEngine
from spark_lsp.context.plan import locate
from spark_lsp.context.ranking import DEFAULT
from spark_lsp.documents.store import DocumentStore
from spark_lsp.settings import ContextSettings

SOURCE = '''import os


class Greeter:
    """Says hello."""

    def greet(self, name: str) -> str:
        message = f"hello {name}"
        return message


def main():
    g = Greeter()
    {blank}
    return g
'''.replace("{blank}", "")
URI = Path("/tmp/typing_row.py").as_uri()
ROW = 13  # the blank line in main()


def opened() -> tuple[DocumentStore, int]:
    store = DocumentStore()
    store.open(URI, "python", 1, SOURCE)
    document = store.get(URI)
    assert document is not None and document.syntax is not None
    assert document.syntax.tree is not None  # the first parse
    return store, document.syntax.reparse_count


def type_text(store: DocumentStore, row: int, column: int, text: str, version: int = 2) -> int:
    for offset, ch in enumerate(text):
        store.edit(URI, version + offset, (row, column + offset), (row, column + offset), ch)
    return column + len(text)


def test_edits_within_the_typing_row_are_not_reparsed_until_someone_needs_the_tree() -> None:
    store, parses = opened()
    type_text(store, ROW, 4, "g.wave(")
    snapshot = store.snapshot(URI, typing_row=ROW)
    assert snapshot is not None and snapshot.stale_row == ROW
    syntax = store.get(URI).syntax  # type: ignore[union-attr]
    assert syntax is not None and syntax.reparse_count == parses
    # every other row of the stale tree is exact: the enclosing function is found
    assert "function" in [s.kind for s in locate(snapshot, ROW, 11, False, ranking=DEFAULT).scopes]
    # asked without a typing row (or for another row), the store reparses
    other = store.snapshot(URI, typing_row=ROW - 1)
    assert other is not None and other.stale_row is None
    assert syntax.reparse_count == parses + 1
    assert store.snapshot(URI, typing_row=ROW).stale_row is None  # type: ignore[union-attr]


def test_an_edit_that_spans_rows_makes_the_next_snapshot_reparse() -> None:
    store, parses = opened()
    type_text(store, ROW, 4, "x = 1")
    store.edit(URI, 10, (ROW, 9), (ROW, 9), "\n    ")
    snapshot = store.snapshot(URI, typing_row=ROW + 1)
    assert snapshot is not None and snapshot.stale_row is None
    assert store.get(URI).syntax.reparse_count == parses + 1  # type: ignore[union-attr]


def test_a_comment_typed_on_a_stale_row_is_seen_as_a_comment() -> None:
    """The stale tree still has a blank line there; with `multiline = "always"` code would get
    a whole statement, a comment only the rest of its line."""
    store, _ = opened()
    column = type_text(store, ROW, 4, "# note the x")
    snapshot = store.snapshot(URI, typing_row=ROW)
    assert snapshot is not None and snapshot.stale_row == ROW
    assert analyse(snapshot, ROW, column, "always").mode == "line"
    code, _ = opened()
    column = type_text(code, ROW, 4, "note(the_x")
    fresh = code.snapshot(URI, typing_row=ROW)
    assert fresh is not None and fresh.stale_row == ROW
    assert analyse(fresh, ROW, column, "always").mode == "statement"


def test_names_typed_on_a_stale_row_count_as_near_the_cursor() -> None:
    store, _ = opened()
    column = type_text(store, ROW, 4, "os.getcwd(g)")
    snapshot = store.snapshot(URI, typing_row=ROW)
    assert snapshot is not None and snapshot.stale_row == ROW
    near = locate(snapshot, ROW, column, True, ranking=DEFAULT).near
    assert {"os", "getcwd", "g"} <= set(near.weights)


def test_typing_on_a_row_reuses_the_outline_and_the_choice_until_the_cursor_moves() -> None:
    store = DocumentStore()
    engine = ContextEngine(store)
    store.open(URI, "python", 1, SOURCE)
    settings = ContextSettings(max_prompt_tokens=256)

    def build(row: int, column: int) -> str:
        snapshot = store.snapshot(URI, typing_row=row)
        assert snapshot is not None
        context = build_context(snapshot, row, column, settings, engine=engine.view(snapshot))
        return context.prefix

    column = type_text(store, ROW, 4, "d")
    build(ROW, column)  # the first keystroke on a row may choose anew
    live = engine._outlines[URI]
    rebuilt = live.units_rebuilt
    column = type_text(store, ROW, column, "ef helper(", version=10)
    prefix = build(ROW, column)
    assert prefix.endswith("    def helper(")  # the row's text as it is now
    assert live.units_rebuilt == rebuilt  # the outline waited
    assert not live.outline.lookup("helper")
    store.edit(URI, 50, (ROW, column), (ROW, column), "):\n        pass\n")
    build(ROW + 2, 0)  # another row: the outline catches up from the change log
    assert live.units_rebuilt > rebuilt
    assert [s.name for s in live.outline.lookup("helper")] == ["helper"]
