"""The syntax layer: queries for every language, the incremental tree and its change log, scopes."""

from __future__ import annotations

import random

import pytest
from tree_sitter import Parser

from spark_lsp.documents.store import DocumentStore
from spark_lsp.syntax.changes import ChangedRange
from spark_lsp.syntax.languages import LANGUAGES, grammar
from spark_lsp.syntax.queries import QUERY_KINDS, query, scope_types
from spark_lsp.syntax.scopes import enclosing_scopes

SOURCE = '''import os


class Greeter:
    """Says hello."""

    def greet(self, name: str) -> str:
        message = f"hello {name}"
        return message

    def wave(self):
        pass


def main():
    g = Greeter()
    print(g.greet("x"))
'''


@pytest.mark.parametrize("language", sorted(LANGUAGES))
@pytest.mark.parametrize("kind", QUERY_KINDS)
def test_every_query_compiles(language: str, kind: str) -> None:
    assert query(language, kind) is not None
    if kind == "scopes":
        assert "function" in scope_types(language).values()


def test_unknown_language_has_no_queries() -> None:
    assert query("cobol", "definitions") is None
    assert scope_types("cobol") == {}


def _store(text: str) -> tuple[DocumentStore, str]:
    store = DocumentStore()
    store.open("file:///w/a.py", "python", 1, text)
    return store, "file:///w/a.py"


def test_tree_text_and_reparse_follow_random_edits() -> None:
    store, uri = _store(SOURCE * 20)
    document = store.get(uri)
    assert document is not None and document.syntax is not None
    rng = random.Random(7)
    for step in range(200):
        lines = document.buffer.lines
        row = rng.randrange(len(lines))
        col = rng.randrange(len(lines[row].rstrip("\n")) + 1)
        end_row = min(len(lines) - 1, row + rng.randint(0, 2))
        end_col = rng.randrange(len(lines[end_row].rstrip("\n")) + 1)
        if (end_row, end_col) < (row, col):
            end_row, end_col = row, col
        text = rng.choice(["x", "\n", "é😀 ", "def f():\n    pass\n", "", "("])
        store.edit(uri, step + 2, (row, col), (end_row, end_col), text)
        if step % 5 == 0:
            assert document.tree is not None
    tree = document.tree
    assert tree is not None
    fresh = Parser(grammar("python")).parse(document.buffer.text.encode())
    assert str(fresh.root_node) == str(tree.root_node)


def test_change_log_holds_edits_and_changed_ranges() -> None:
    store, uri = _store(SOURCE)
    document = store.get(uri)
    assert document is not None and document.syntax is not None
    syntax = document.syntax
    assert document.tree is not None
    serial = syntax.serial
    store.edit(uri, 2, (7, 8), (7, 8), "new_")
    store.edit(uri, 3, (14, 0), (14, 0), '"""')  # opens a string: the rest changes meaning
    assert document.tree is not None
    changes = syntax.changes_since(serial)
    assert changes is not None and len(changes) >= 3
    assert any(isinstance(c, ChangedRange) and c.end_row >= 15 for c in changes)
    assert syntax.changes_since(serial - 1000) is None  # older than the log


@pytest.mark.parametrize(
    ("row", "column", "expected"),
    [
        (8, 8, ["block", "function:greet", "block", "class:Greeter"]),
        (12, 4, ["block", "class:Greeter"]),  # blank line after `wave`, at method indent
        (12, 8, ["block", "function:wave", "block", "class:Greeter"]),  # deeper: still in wave
        (14, 0, []),  # module level
    ],
)
def test_scopes_use_indentation_on_blank_lines(row: int, column: int, expected: list[str]
                                              ) -> None:
    text = SOURCE.replace("        pass\n", "        pass\n\n")
    lines = text.splitlines(keepends=True)
    store, uri = _store(text)
    snapshot = store.snapshot(uri)
    assert snapshot is not None and snapshot.tree is not None
    if not lines[row].strip():
        lines[row] = " " * column + "\n"
    scopes = enclosing_scopes(snapshot.tree, lines, row, column, "python")
    names = []
    for scope in scopes:
        header = lines[scope.name_row].strip()
        label = header.split("(")[0].split(":")[0].split()[-1] if scope.kind != "block" else ""
        names.append(f"{scope.kind}:{label}" if label else scope.kind)
    assert names == expected


def test_scopes_in_a_brace_language() -> None:
    text = "class A {\n  run(x) {\n    if (x) {\n      go();\n    }\n  }\n}\n"
    tree = Parser(grammar("javascript")).parse(text.encode())
    scopes = enclosing_scopes(tree, text.splitlines(True), 3, 6, "javascript")
    assert [s.kind for s in scopes] == ["block", "block", "function", "block", "class"]
    assert scopes[2].header_end == 1
