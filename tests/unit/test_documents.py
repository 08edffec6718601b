"""The document store without a server: incremental edits, UTF-16 positions, incremental trees."""

from __future__ import annotations

import pytest

from spark_lsp.documents.store import DocumentStore
from spark_lsp.documents.text import PositionError, TextBuffer, split_lines, utf16_to_index


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("", [""]),
        ("a", ["a"]),
        ("a\n", ["a\n", ""]),
        ("a\r\nb\rc\nd", ["a\r\n", "b\r", "c\n", "d"]),
        ("a\x0bb\u2028c", ["a\x0bb\u2028c"]),  # only \n, \r\n and \r end LSP lines
    ],
)
def test_split_lines(text: str, lines: list[str]) -> None:
    assert split_lines(text) == lines


def test_utf16_columns_count_astral_characters_twice() -> None:
    line = "a😀b\n"
    assert utf16_to_index(line, 0) == 0
    assert utf16_to_index(line, 1) == 1
    assert utf16_to_index(line, 3) == 2  # after the surrogate pair
    assert utf16_to_index(line, 99) == 3  # clamped to the line body


def test_edit_inside_and_across_lines() -> None:
    buf = TextBuffer("def f():\n    return 1\n")
    buf.apply((1, 11), (1, 12), "42")
    assert buf.text == "def f():\n    return 42\n"
    buf.apply((0, 8), (1, 4), " ")
    assert buf.text == "def f(): return 42\n"
    buf.apply((1, 0), (1, 0), "x = 1\ny = 2\n")
    assert buf.lines == ["def f(): return 42\n", "x = 1\n", "y = 2\n", ""]


def test_edit_joining_cr_and_lf_makes_one_line_end() -> None:
    buf = TextBuffer("a\rX\nb")
    buf.apply((1, 0), (1, 1), "")
    assert buf.lines == ["a\r\n", "b"]


def test_byte_edit_matches_utf8_offsets() -> None:
    buf = TextBuffer("é = 1\nπ = 2\n")
    edit = buf.apply((1, 0), (1, 1), "tau")
    assert edit.start_byte == len("é = 1\n".encode())
    assert edit.old_end_byte == edit.start_byte + len("π".encode())
    assert edit.new_end_byte == edit.start_byte + 3
    assert edit.start_point == (1, 0) and edit.new_end_point == (1, 3)


def test_negative_positions_are_refused() -> None:
    with pytest.raises(PositionError):
        TextBuffer("x").apply((-1, 0), (0, 0), "y")


def test_positions_past_the_end_are_clamped() -> None:
    buf = TextBuffer("ab\ncd")
    buf.apply((9, 9), (9, 9), "!")
    assert buf.text == "ab\ncd!"


def test_store_keeps_an_incremental_tree_equal_to_a_fresh_parse() -> None:
    store = DocumentStore()
    doc = store.open("file:///t.py", "python", 1, "def f(x):\n    return x\n")
    assert doc.tree is not None
    store.edit("file:///t.py", 2, (1, 11), (1, 12), "[x for x in range(3)]")
    fresh = DocumentStore().open("file:///u.py", "python", 1, doc.buffer.text)
    assert str(doc.tree.root_node) == str(fresh.tree.root_node)  # type: ignore[union-attr]
    assert doc.syntax is not None and doc.syntax.reparse_count == 2


def test_unknown_language_and_binary_documents_have_no_tree() -> None:
    store = DocumentStore()
    assert store.open("file:///n.txt", "plaintext", 1, "hello").tree is None
    assert store.open("file:///b.py", "python", 1, "x = 1\x00\x01").tree is None
    snap = store.snapshot("file:///b.py")
    assert snap is not None and snap.is_binary


def test_language_from_extension_when_id_is_unknown() -> None:
    doc = DocumentStore().open("file:///m.rs", "unknown-id", 1, "fn main() {}")
    assert doc.language == "rust" and doc.tree is not None


def test_a_nul_typed_then_deleted_leaves_the_document_binary_no_longer() -> None:
    store = DocumentStore()
    doc = store.open("file:///d.py", "python", 1, "def f():\n    return 1\n")
    store.edit("file:///d.py", 2, (1, 10), (1, 10), "\x00")
    assert doc.is_binary and doc.tree is None
    store.edit("file:///d.py", 3, (1, 10), (1, 11), "")
    assert not doc.is_binary and doc.tree is not None
    assert doc.tree.root_node.type == "module"


def test_a_paste_over_the_size_limit_that_is_undone_gets_its_tree_back() -> None:
    store = DocumentStore(max_parse_bytes=100_000)
    doc = store.open("file:///p.py", "python", 1, "x = 1\n")
    paste = "y = 2\n" * 20_000  # 120 KB
    store.edit("file:///p.py", 2, (1, 0), (1, 0), paste)
    assert doc.too_large and doc.tree is None
    store.edit("file:///p.py", 3, (1, 0), (20_001, 0), "")
    assert not doc.too_large and doc.tree is not None
    assert doc.buffer.text == "x = 1\n"


def test_a_document_opened_too_large_recovers_when_cut_down() -> None:
    store = DocumentStore(max_parse_bytes=1_000)
    doc = store.open("file:///q.py", "python", 1, "z = 3\n" * 500)
    assert doc.tree is None
    store.edit("file:///q.py", 2, (1, 0), (500, 0), "")
    assert doc.tree is not None
