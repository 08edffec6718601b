"""Rows that follow the same code elsewhere in the file: which are found, in which order, and
that they reach a real prompt."""

from __future__ import annotations

from spark_lsp.context import repeats
from spark_lsp.context.builder import build_context
from spark_lsp.context.engine import ContextEngine
from spark_lsp.context.tokens import estimate_tokens
from spark_lsp.documents.store import DocumentStore
from spark_lsp.settings import ContextSettings

METHOD = '''    def {name}(self, params):
        value = self._options(types.{constant}, default=True)
        if value is not None:
            self.capabilities.{name}_provider = value
        return self
'''
BUILDER = "class Builder:\n" + "".join(
    METHOD.format(name=name, constant=name.upper()) + "\n"
    for name in ("hover", "rename", "completion", "folding", "definition", "declaration"))
CURSOR_ROW = BUILDER.splitlines().index("            self.capabilities.folding_provider = value")


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def test_rows_that_followed_the_same_row_are_found_the_likest_and_nearest_first() -> None:
    lines = _lines(BUILDER)
    lines[CURSOR_ROW] = "            \n"  # the cursor after the indentation of a deleted row
    found = repeats.continuation_rows(lines, CURSOR_ROW, (CURSOR_ROW - 3, CURSOR_ROW + 1))
    rows = [r for r, _ in found]
    assert len(rows) == repeats.MAX_CONTINUATIONS
    assert all(lines[r].strip().startswith("self.capabilities.") for r in rows)
    assert abs(rows[0] - CURSOR_ROW) == 6  # a neighbour method: the nearest
    assert all(0.5 < likeness < 1.0 for _, likeness in found)  # the row before differs a bit


def test_no_continuation_for_a_short_row_a_different_indentation_or_a_row_in_skip() -> None:
    lines = _lines(BUILDER)
    lines[CURSOR_ROW] = "        \n"  # one level out: no `if … :` elsewhere is followed so
    assert repeats.continuation_rows(lines, CURSOR_ROW, (CURSOR_ROW, CURSOR_ROW)) == []
    short = _lines("def f(x):\n    else:\n        a()\n    else:\n        \n")
    assert repeats.continuation_rows(short, 4, (4, 4)) == []  # `else:` says too little
    lines[CURSOR_ROW] = "            \n"
    assert repeats.continuation_rows(lines, CURSOR_ROW, (0, len(lines))) == []


def test_a_prompt_holds_what_followed_the_same_row_in_a_sibling_method() -> None:
    filler = "".join(f"\n    def unrelated_{i}(self, value):\n        return value * {i} + {i}\n"
                     for i in range(30))
    lines = _lines(BUILDER.replace("class Builder:\n", "class Builder:\n" + filler))
    row = next(r for r, line in enumerate(lines) if "folding_provider" in line)
    lines[row] = "            \n"
    store = DocumentStore()
    engine = ContextEngine(store)
    store.open("file:///w/builder.py", "python", 1, "".join(lines))
    snapshot = store.snapshot("file:///w/builder.py")
    assert snapshot is not None
    ctx = build_context(snapshot, row, 12, ContextSettings(max_prompt_tokens=200),
                        estimate_tokens, engine=engine.view(snapshot))
    shown = ctx.prefix + ctx.suffix
    assert shown.count("self.capabilities.") >= 2  # the rows after `if value is not None:`
    assert ctx.prompt_tokens <= 200


def test_comment_rows_between_the_same_row_and_what_follows_it_are_skipped() -> None:
    text = ("def a(value):\n    if value is not None:\n        # why: the provider\n"
            "        register(value)\n\n\ndef b(value):\n    if value is not None:\n        \n")
    lines = _lines(text)
    comments = {2}
    assert repeats.continuation_rows(lines, 8, (7, 8), comments) == [(3, 0.5)]
    # without knowing the comment, the row after it would have been taken for code
    assert repeats.continuation_rows(lines, 8, (7, 8)) == [(2, 0.5)]
