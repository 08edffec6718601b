"""Turning model answers into edits: a stub's body at the right indentation whatever form the
answer takes, a new function beside its caller, a filled skeleton, an explanation comment."""

from __future__ import annotations

import pytest

from spark_lsp.actions import fill, generate, stronger
from spark_lsp.actions.detect import generate_targets
from spark_lsp.actions.edits import apply
from spark_lsp.actions.generate import AnswerError
from spark_lsp.actions.regions import fill_target
from spark_lsp.actions.syntax import Source
from spark_lsp.actions.targets import StrongerTarget
from tests.unit.test_actions_detect import snapshot


def generated(text: str, language: str, answer: str, task: str = "body",
              fim: bool = False) -> str:
    snap, loc = snapshot(text, language)
    assert snap.tree is not None
    (target,) = [t for t in generate_targets(snap.tree, Source(snap), loc) if t.task == task]
    return apply(snap, generate.change_for_answer(target, answer, snap, fim=fim))


CASES = [
    # (language, stub, answer, result)
    ("python", "def f(x):\n    █pass\n", "```python\ndef f(x):\n    return x * 2\n```",
     "def f(x):\n    return x * 2\n"),
    ("python", "def f(x):\n    █pass\n", "return x * 2", "def f(x):\n    return x * 2\n"),
    ("python", "class K:\n    def f(self, x): █pass\n", "if x:\n    return 1\nreturn 2",
     "class K:\n    def f(self, x):\n        if x:\n            return 1\n        return 2\n"),
    ("python", 'def f(x):\n    """Twice x."""█\n\n\ny = 1\n',
     '```py\ndef f(x):\n    """Twice x, as an int."""\n    return 2 * x\n```',
     'def f(x):\n    """Twice x."""\n    return 2 * x\n\n\ny = 1\n'),
    ("python", "def f(x):\n    # double it\n    raise NotImplementedError█\n",
     "  y = x * 2\n  return y", "def f(x):\n    # double it\n    y = x * 2\n    return y\n"),
    ("typescript", "function f(x: number): number {█}\n",
     "```ts\nfunction f(x: number): number {\n    const y = x * 2;\n    return y;\n}\n```",
     "function f(x: number): number {\n  const y = x * 2;\n  return y;\n}\n"),
    ("typescript", "class K {\n  m(x: number): number {\n    // double█ it\n  }\n}\n",
     "m(x: number): number {\n  return x * 2;\n}",
     "class K {\n  m(x: number): number {\n    // double it\n    return x * 2;\n  }\n}\n"),
    ("go", "package p\n\nfunc F(x int) int {\n\tpanic(\"not implemented\")█\n}\n",
     "Here:\n```go\nfunc F(x int) int {\n    if x > 0 {\n        return x\n    }\n"
     "    return -x\n}\n```",
     "package p\n\nfunc F(x int) int {\n\tif x > 0 {\n\t\treturn x\n\t}\n\treturn -x\n}\n"),
    ("rust", "impl S {\n    fn m(&self) -> i32 {\n        todo!()█\n    }\n}\n",
     "```rust\nfn m(&self) -> i32 {\n    self.x * 2\n}\n```",
     "impl S {\n    fn m(&self) -> i32 {\n        self.x * 2\n    }\n}\n"),
]


@pytest.mark.parametrize(("language", "stub", "answer", "result"), CASES)
def test_generated_body(language: str, stub: str, answer: str, result: str) -> None:
    assert generated(stub, language, answer) == result


def test_fill_in_the_middle_answer_is_the_bare_body() -> None:
    text = "def f(x):\n    █pass\n"
    assert generated(text, "python", "y = x * 2\n    return y", fim=True) == \
        "def f(x):\n    y = x * 2\n    return y\n"


def test_fill_in_the_middle_answer_stops_at_the_end_of_the_body() -> None:
    text = "def f(x):\n    █pass\n\n\ndef g():\n    pass\n"
    assert generated(text, "python", "return x\n\n\ndef h():\n    return 2", fim=True) == \
        "def f(x):\n    return x\n\n\ndef g():\n    pass\n"
    text = "function f(x) {\n  █throw new Error('not implemented');\n}\n"
    assert generated(text, "javascript", "if (x) { return 1; }\n  return 2;\n}\nfunction g() {}",
                     fim=True) == "function f(x) {\n  if (x) { return 1; }\n  return 2;\n}\n"


def test_windows_line_ends_are_kept() -> None:
    out = generated("fn f() -> i32 {\r\n    todo!()█\r\n}\r\n", "rust", "let a = 1;\n    a")
    assert out == "fn f() -> i32 {\r\n    let a = 1;\r\n    a\r\n}\r\n"


def test_empty_answer_is_an_error() -> None:
    with pytest.raises(AnswerError):
        generated("def f(x):\n    █pass\n", "python", "```python\n```")


def test_new_function_is_inserted_beside_the_caller() -> None:
    out = generated("def main():\n    return comp█ute(2)\n", "python",
                    "```python\ndef compute(n):\n    return n + 1\n```", task="create")
    assert out == "def main():\n    return compute(2)\n\n\ndef compute(n):\n    return n + 1\n"


def test_new_function_must_define_the_name() -> None:
    with pytest.raises(AnswerError, match="does not define `compute`"):
        generated("def main():\n    return comp█ute(2)\n", "python",
                  "def other(n):\n    return n", task="create")


def test_fill_replaces_the_skeleton() -> None:
    text = "def f(xs):\n    total = 0\n    # TODO: sum█ xs\n    return total\n\n\nz = 1\n"
    snap, loc = snapshot(text, "python")
    assert snap.tree is not None
    target = fill_target(snap.tree, Source(snap), loc, loc)
    assert target is not None and [h.kind for h in target.holes] == ["todo"]
    answer = "```python\ndef f(xs):\n    total = sum(xs)\n    return total\n```"
    assert apply(snap, fill.change_for_answer(target, answer, snap)) == \
        "def f(xs):\n    total = sum(xs)\n    return total\n\n\nz = 1\n"
    # An answer that is only the code for the one hole goes where the hole is.
    assert apply(snap, fill.change_for_answer(target, "for x in xs:\n    total += x", snap)) == \
        "def f(xs):\n    total = 0\n    for x in xs:\n        total += x\n    return total\n" \
        "\n\nz = 1\n"


def test_fill_with_several_holes_takes_an_answer_that_is_only_the_new_body() -> None:
    text = 'def f(xs):\n    """Sum."""\n    # TODO: sum█ xs\n    return ...\n'
    snap, loc = snapshot(text, "python")
    assert snap.tree is not None
    target = fill_target(snap.tree, Source(snap), loc, loc)
    assert target is not None and len(target.holes) == 2
    answer = "```python\ntotal = sum(xs)\nreturn total\n```"
    assert apply(snap, fill.change_for_answer(target, answer, snap)) == \
        'def f(xs):\n    """Sum."""\n    total = sum(xs)\n    return total\n'
    with pytest.raises(AnswerError, match="only comments"):
        fill.change_for_answer(target, "# TODO\n# TODO: sum", snap)


def test_explanation_goes_above_the_code_at_its_indentation() -> None:
    text = "class K:\n    def f(self):\n        return█ 1\n"
    snap, _ = snapshot(text, "python")
    region = fill.Region(first=1, last=2, text="", indent="    ", label="function `f`")
    target = StrongerTarget("python", region, "explain", 20.0, "    ", "#")
    change = stronger.change_for_answer(target, "Returns one.\nAlways.", snap)
    assert apply(snap, change) == \
        "class K:\n    # Returns one.\n    # Always.\n    def f(self):\n        return 1\n"
