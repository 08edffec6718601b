"""The stop conditions of a continued body: the block's end (dedent, closing brace, a final
`return`), the line cap, and the shape check of the answers that get through."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from spark_lsp.actions import generate
from spark_lsp.actions.continuation import (
    skip_first_line,
    stop_after_fence,
    stop_after_lines,
    stop_at_block_end,
)
from spark_lsp.actions.detect import stub_target
from spark_lsp.actions.shape import AnswerError, Expect, check_code, pick_code
from spark_lsp.actions.syntax import Source
from spark_lsp.completion.stops import TextStream
from spark_lsp.documents.store import DocumentStore


async def _chunks(text: str, size: int = 3) -> AsyncIterator[str]:
    for i in range(0, len(text), size):
        yield text[i : i + size]


async def _run(stream: TextStream) -> str:
    return "".join([chunk async for chunk in stream])


@pytest.mark.parametrize(("text", "kept"), [
    # Dedent past the body: the next definition is not part of the answer.
    ("x = 1\n    y = x\n\n\ndef other():\n    pass\n", "x = 1\n    y = x\n\n\n"),
    # A final return at the body's indentation ends it, even with more at that indentation.
    ("if a:\n        return 1\n    return 2\n    print('dead')\n",
     "if a:\n        return 1\n    return 2\n"),
    # ... but not a return whose expression goes on.
    ("return (\n        1 +\n        2)\nfoo()\n", "return (\n        1 +\n        2)\n"),
])
async def test_indented_body_ends_where_its_block_ends(text: str, kept: str) -> None:
    assert await _run(stop_at_block_end(_chunks(text), indent="    ", braces=False)) == kept


async def test_brace_body_ends_before_the_closing_brace() -> None:
    text = "if (a) {\n    return 1;\n  }\n  return 2;\n}\n\nfunction g() {}\n"
    out = await _run(stop_at_block_end(_chunks(text), indent="  ", braces=True))
    assert out == "if (a) {\n    return 1;\n  }\n  return 2;\n"


async def test_after_a_prompt_that_ends_mid_line_the_first_line_is_dropped() -> None:
    out = await _run(skip_first_line(_chunks(' more"""\n    return 1\n')))
    assert out == "    return 1\n"


async def test_line_cap_keeps_one_line_past_the_limit() -> None:
    out = await _run(stop_after_lines(_chunks("a\n" * 100, 2), limit=5))
    assert out.count("\n") == 6


async def test_an_instruction_answer_ends_with_its_first_fenced_block() -> None:
    text = "Here:\n```python\nx = 1\n```\nUsage:\n```python\nprint(x)\n```\n"
    out = await _run(stop_after_fence(_chunks(text, 5)))
    assert out.startswith("Here:\n```python\nx = 1\n```") and "print" not in out


EXPECT = Expect("python", "f", 3, "import os\n\n\ndef f():\n    ...\n\n\ndef g():\n    pass\n",
                (3, 4))


@pytest.mark.parametrize(("code", "reason"), [
    ("x = 1\n" + "y = 2\n" * 10, "repeats one line"),
    ("a = 1\nb = 2\n" * 6, "repeats"),
    ("# one\n# two\n# three\nx = 1", "mostly comments"),
    ("# only\n# comments", "only comments"),
    ("\n".join(f"v{i} = {i}" for i in range(60)), "far longer"),
    ("def f():\n    return 1\n\n\ndef g():\n    return 2", "also defines `g`"),
])
def test_shape_refusals(code: str, reason: str) -> None:
    with pytest.raises(AnswerError, match=reason):
        check_code(code, EXPECT)


def test_a_body_with_its_own_helper_is_not_other_top_level_names() -> None:
    check_code("def helper(x):\n    return x\nreturn helper(1)", EXPECT)


def test_of_several_blocks_the_one_defining_the_target_is_picked() -> None:
    raw = ("```python\nprint(f())\nprint(f())\nprint(f())\n```\n"
           "```python\ndef f():\n    return 1\n```")
    assert pick_code(raw, "python", "f") == "def f():\n    return 1"


def test_a_continued_body_that_defines_the_function_again_is_refused() -> None:
    store = DocumentStore()
    text = "pub fn mean(values: &[f64]) -> Option<f64> {\n    todo!()\n}\n"
    store.open("file:///m.rs", "rust", 1, text)
    snap = store.snapshot("file:///m.rs")
    assert snap is not None and snap.tree is not None
    target = stub_target(snap.tree, Source(snap), (1, 4))
    assert target is not None
    answer = "    fn mean(values: &[f64]) -> Option<f64> {\n        None\n    }\n"
    with pytest.raises(AnswerError, match="defines `mean` again"):
        generate.change_for_answer(target, answer, snap, fim=True)
