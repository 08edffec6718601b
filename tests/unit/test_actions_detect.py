"""Which 'Generate function' targets the tree offers at a cursor, per language: stubs (and
signatures with only a docstring/comment), and calls to functions that do not exist yet."""

from __future__ import annotations

from pathlib import Path

import pytest

from spark_lsp.actions.detect import generate_targets
from spark_lsp.actions.syntax import Source
from spark_lsp.actions.targets import GenerateTarget
from spark_lsp.documents.store import DocumentSnapshot, DocumentStore

CURSOR = "█"


def snapshot(text: str, language: str,
             path: str | None = None) -> tuple[DocumentSnapshot, tuple[int, int]]:
    """A parsed snapshot of `text` and the (row, index) of the █ marker in it."""
    assert text.count(CURSOR) == 1, "mark the cursor with █"
    index = text.index(CURSOR)
    row = text.count("\n", 0, index)
    col = index - (text.rfind("\n", 0, index) + 1)
    store = DocumentStore()
    uri = Path(path).as_uri() if path else f"file:///work/sample.{language}"
    store.open(uri, language, 1, text.replace(CURSOR, ""))
    snap = store.snapshot(uri)
    assert snap is not None
    return snap, (row, col)


def targets(text: str, language: str, path: str | None = None) -> list[GenerateTarget]:
    snap, loc = snapshot(text, language, path)
    assert snap.tree is not None
    return generate_targets(snap.tree, Source(snap), loc)


STUBS = [
    ("python", "def f█(x):\n    pass\n", "f"),
    ("python", "def f(x):\n    █...\n", "f"),
    ("python", "def f(x):\n    raise NotImplementedError(\"later\")█\n", "f"),
    ("python", 'def f(x):\n    """Only a docstring."""█\n', "f"),
    ("python", "class K:\n    def m(self): █pass\n", "m"),
    ("python", "@cache\n█@other\ndef f(x):\n    ...\n", "f"),
    ("typescript", "function f(x: number): number {█}\n", "f"),
    ("typescript", "function f() {\n  throw new Error('Not implemented yet');█\n}\n", "f"),
    ("typescript", "/** Doubles x. █*/\nexport const f = (x: number): number => {};\n", "f"),
    ("typescript", "class K {\n  m(x: string): void {\n    // explain█ me\n  }\n}\n", "m"),
    ("javascript", "function f(x) {\n  throw new Error(\"TODO\");█\n}\n", "f"),
    ("go", "package p\n\n// F does it.█\nfunc F() int {\n\tpanic(\"not implemented\")\n}\n", "F"),
    ("go", "package p\n\nfunc (s *S) M█() {}\n", "M"),
    ("rust", "fn f() -> i32 {\n    todo!()█\n}\n", "f"),
    ("rust", "impl S {\n    fn m(&self) {\n        unimplemented!(\"soon\");█\n    }\n}\n", "m"),
    ("rust", "/// Doc.█\npub fn f() {}\n", "f"),
]


@pytest.mark.parametrize(("language", "text", "name"), STUBS)
def test_stubs_are_offered(language: str, text: str, name: str) -> None:
    found = [t for t in targets(text, language) if t.task == "body"]
    assert [t.name for t in found] == [name]


NOT_STUBS = [
    ("python", "def f(x):\n    return x█ + 1\n"),
    ("python", "from typing import overload\n@overload\ndef f(x: int) -> int: █...\n"),
    ("python", "import abc\nclass A:\n    @abc.abstractmethod\n    def m(self): █...\n"),
    ("python", "x = 1█\n"),
    ("typescript", "class K {\n  constructor(private x: number) {█}\n}\n"),
    ("typescript", "const f = (x: number) => x █* 2;\n"),
    ("go", "package p\n\nfunc F() int {\n\treturn 1█\n}\n"),
    ("rust", "fn f() -> i32 {\n    let x = 1;█\n    x\n}\n"),
]


@pytest.mark.parametrize(("language", "text"), NOT_STUBS)
def test_real_code_and_intended_stubs_are_not_offered(language: str, text: str) -> None:
    assert [t for t in targets(text, language) if t.task == "body"] == []


def test_pyi_stubs_are_not_offered(tmp_path: Path) -> None:
    found = targets("def f(x: int) -> int: █...\n", "python", str(tmp_path / "m.pyi"))
    assert found == []


def test_stub_target_carries_signature_docstring_and_call_sites() -> None:
    text = ('import math\n\n# Helper for areas.\ndef area(r: float) -> float:\n'
            '    """Area of a circle."""\n    ...█\n\n\nprint(area(2))\nx = area (3)\n')
    (target,) = targets(text, "python")
    assert target.signature == "# Helper for areas.\ndef area(r: float) -> float:" or \
        target.signature == "def area(r: float) -> float:"
    assert "Area of a circle." in target.docstring and "Helper for areas." in target.docstring
    assert target.call_sites == ("line 9: print(area(2))", "line 10: x = area (3)")


UNDEFINED = [
    ("python", "def main():\n    total = comp█ute(1, 2)\n", "compute"),
    ("typescript", "export function main() {\n  return helper█(1);\n}\n", "helper"),
    ("go", "package p\n\nfunc main() {\n\tx := missing█(1)\n\t_ = x\n}\n", "missing"),
    ("rust", "fn main() {\n    let x = miss█ing(1);\n}\n", "missing"),
]


@pytest.mark.parametrize(("language", "text", "name"), UNDEFINED)
def test_call_to_a_missing_function_offers_to_create_it(language: str, text: str,
                                                        name: str) -> None:
    found = [t for t in targets(text, language) if t.task == "create"]
    assert [t.name for t in found] == [name]
    placement = found[0].placement
    assert placement.start == placement.end  # an insertion
    assert found[0].call_sites


DEFINED = [
    ("python", "from util import compute\n\ncomp█ute(1)\n"),
    ("python", "def compute(): pass\n\ncomp█ute(1)\n"),
    ("python", "compute = make()\ncomp█ute(1)\n"),
    ("python", "from util import *\ncomp█ute(1)\n"),
    ("python", "pri█nt(1)\n"),
    ("python", "def f(callback):\n    callb█ack(1)\n"),
    ("typescript", "import { helper } from './h';\nhelp█er(1);\n"),
    ("typescript", "class K {\n  helper(x: number) { return x; }\n}\nhelp█er(1);\n"),
    ("typescript", "parse█Int('1');\n"),
    ("go", "package p\n\nfunc f() { _ = le█n(\"x\") }\n"),
    ("rust", "fn f() -> Option<i32> { So█me(1) }\n"),
    ("java", "class A { void f() { hel█per(); } }\n"),
]


@pytest.mark.parametrize(("language", "text"), DEFINED)
def test_defined_or_unknowable_names_are_not_offered(language: str, text: str) -> None:
    assert [t for t in targets(text, language) if t.task == "create"] == []


def test_go_function_defined_in_another_file_of_the_package(tmp_path: Path) -> None:
    (tmp_path / "other.go").write_text("package p\n\nfunc missing(x int) int { return x }\n")
    text = "package p\n\nfunc main() {\n\t_ = miss█ing(1)\n}\n"
    assert [t for t in targets(text, "go", str(tmp_path / "main.go"))
            if t.task == "create"] == []


def test_new_function_goes_after_the_caller_or_before_a_module_statement() -> None:
    inside = targets("def main():\n    comp█ute(1)\n\n\nx = 2\n", "python")[0]
    assert inside.placement.start == (1, len("    compute(1)"))
    assert inside.placement.lead == "\n\n\n"
    module_level = targets("import os\n\nresult = comp█ute(1)\n", "python")[0]
    assert module_level.placement.start == (2, 0)
    assert module_level.placement.trail == "\n\n\n"
