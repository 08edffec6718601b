"""Document sync under fuzzing: random incremental edits keep the buffer and its incremental tree
equal to the editor's text and a fresh parse of it.

The oracle is what an editor holds: a plain string, edited at LSP positions (line, UTF-16 column),
never splitting a surrogate pair. Edits mix multi-byte and astral characters, CRLF, lone CR and
code-like tokens. Each run applies well over 1,000 edits (`EXAMPLES` x `EDITS_PER_EXAMPLE[0]`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tree_sitter import Node, Parser

from spark_lsp.documents.store import DocumentStore
from spark_lsp.documents.text import TextBuffer, split_lines, utf16_len
from spark_lsp.syntax.languages import grammar
from spark_lsp.syntax.tree import IncrementalTree

EXAMPLES = 30
EDITS_PER_EXAMPLE = (40, 80)  # min, max: at least 30 * 40 = 1,200 edits per run

_PIECES = [
    "def ", "f", "(", ")", ":", "x", " = ", "1", "return ", "if ", "else", "\"", "'", "#",
    "    ", "\t", "[", "]", "{", "}", ",", ".", "é", "ß", "中文", "😀", "\U0001d518", "\u200d",
    "\n", "\r\n", "\r", "\n\n", "class C", "pass", "import os", "\\", "\x00",
]

_text = st.lists(st.sampled_from(_PIECES), max_size=30).map("".join)


@dataclass(frozen=True)
class Edit:
    """Where to edit, as fractions of the oracle (mapped onto valid positions), and the text."""

    start: float
    length: float
    text: str
    check_tree: bool


_edit = st.builds(
    Edit,
    start=st.floats(0, 1),
    length=st.one_of(st.just(0.0), st.floats(0, 0.3)),
    text=st.one_of(st.just(""), _text),
    check_tree=st.booleans(),
)


def positions(text: str) -> list[tuple[int, int, int]]:
    """Every position an editor can send: (line, UTF-16 column, string offset)."""
    out: list[tuple[int, int, int]] = []
    offset = 0
    for row, line in enumerate(split_lines(text)):
        body = re.sub(r"(\r\n|\r|\n)$", "", line)
        column = 0
        for index, ch in enumerate(body):
            out.append((row, column, offset + index))
            column += utf16_len(ch)
        out.append((row, column, offset + len(body)))
        offset += len(line)
    return out


def pick(text: str, edit: Edit) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    places = positions(text)
    first = min(int(edit.start * len(places)), len(places) - 1)
    last = min(first + int(edit.length * len(places)), len(places) - 1)
    return places[first], places[last]


def ts_point(data: bytes, offset: int) -> tuple[int, int]:
    """A byte offset as tree-sitter's (row, byte column): rows end at `\\n` only."""
    row = data.count(b"\n", 0, offset)
    return row, offset - (data.rfind(b"\n", 0, offset) + 1)


def spans(node: Node) -> list[tuple[str, int, int, tuple[int, int], tuple[int, int]]]:
    out = []
    stack = [node]
    while stack:
        current = stack.pop()
        out.append((current.type, current.start_byte, current.end_byte,
                    tuple(current.start_point), tuple(current.end_point)))
        stack.extend(reversed(current.children))
    return out


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    initial=_text,
    edits=st.lists(_edit, min_size=EDITS_PER_EXAMPLE[0], max_size=EDITS_PER_EXAMPLE[1]),
    language=st.sampled_from(["python", "javascript"]),
)
def test_random_edits_keep_text_and_tree_in_sync(
    initial: str, edits: list[Edit], language: str
) -> None:
    oracle = initial
    buffer = TextBuffer(oracle)
    tree = IncrementalTree(language, buffer.read_for_tree_sitter)
    fresh_parser = Parser(grammar(language))
    assert tree.tree is not None
    for step, edit in enumerate(edits):
        (s_row, s_col, s_off), (e_row, e_col, e_off) = pick(oracle, edit)
        before = oracle.encode("utf-8")
        oracle = oracle[:s_off] + edit.text + oracle[e_off:]
        change = buffer.apply((s_row, s_col), (e_row, e_col), edit.text)
        tree.edit(change)
        after = oracle.encode("utf-8")
        assert change.start_byte == len(oracle[:s_off].encode("utf-8"))
        assert change.start_point == ts_point(before, change.start_byte)
        assert change.old_end_point == ts_point(before, change.old_end_byte)
        assert change.new_end_point == ts_point(after, change.new_end_byte)

        assert buffer.text == oracle, f"text differs after edit {step}: {edit!r}"
        assert buffer.lines == split_lines(oracle)
        assert buffer.byte_length == len(oracle.encode("utf-8"))
        assert change.new_end_byte - change.start_byte == len(edit.text.encode("utf-8"))
        if edit.check_tree or step == len(edits) - 1:
            fresh = fresh_parser.parse(oracle.encode("utf-8"))
            incremental = tree.tree
            assert str(incremental.root_node) == str(fresh.root_node), f"tree differs at {step}"
            assert spans(incremental.root_node) == spans(fresh.root_node), f"spans at {step}"


@settings(max_examples=200, deadline=None)
@given(text=_text, line=st.integers(0, 40), column=st.integers(0, 200))
def test_clamp_never_points_inside_a_line_end_or_past_the_text(
    text: str, line: int, column: int
) -> None:
    buffer = TextBuffer(text)
    row, index = buffer.clamp(line, column)
    assert 0 <= row < buffer.line_count
    body = re.sub(r"(\r\n|\r|\n)$", "", buffer.lines[row])
    assert 0 <= index <= len(body)
    # never between the two halves of a surrogate pair (python indexes whole characters)
    assert utf16_len(body[:index]) <= max(column, 0) or row != line


def _replace_lone_surrogates(text: str) -> str:
    return "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in text)


@settings(max_examples=40, deadline=None)
@given(
    initial=_text,
    edits=st.lists(st.tuples(_edit, st.sampled_from(["", "\ud800", "\udfff", "a\udc00b"])),
                   min_size=5, max_size=30),
    language_id=st.sampled_from(["python", "plaintext", "no-such-language"]),
)
def test_store_survives_lone_surrogates_and_nul_bytes(
    initial: str, edits: list[tuple[Edit, str]], language_id: str
) -> None:
    """JSON can carry lone surrogates and NULs: the store never raises, keeps positions, and a
    NUL marks the document binary whatever its language, while the text holds one."""
    store = DocumentStore()
    oracle = initial
    store.open("file:///f.x", language_id, 1, oracle)
    for version, (edit, odd) in enumerate(edits, start=2):
        text = odd + edit.text
        (s_row, s_col, s_off), (e_row, e_col, e_off) = pick(oracle, edit)
        oracle = oracle[:s_off] + _replace_lone_surrogates(text) + oracle[e_off:]
        document = store.edit("file:///f.x", version, (s_row, s_col), (e_row, e_col), text)
        assert document is not None
        assert document.buffer.text == oracle
        assert document.is_binary == ("\x00" in oracle)
        if document.syntax is not None:
            fresh = Parser(grammar(document.syntax.language)).parse(oracle.encode("utf-8"))
            assert str(document.syntax.tree.root_node) == str(fresh.root_node)
