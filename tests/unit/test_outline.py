"""Outlines: definitions with signature only (name, parameters, return type, first doc line) and
imports, for every language; and the live outline kept incrementally equal to a fresh one."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from tree_sitter import Parser

from spark_lsp.documents.store import DocumentStore
from spark_lsp.documents.text import split_lines
from spark_lsp.syntax.file_outline import FileOutline
from spark_lsp.syntax.languages import grammar
from spark_lsp.syntax.outline import outline_tree
from spark_lsp.syntax.outline_cache import DocumentOutline
from spark_lsp.syntax.symbols import Binding, LinesSource


def outline_of(language: str, text: str) -> FileOutline:
    tree = Parser(grammar(language)).parse(text.encode())
    units = outline_tree(tree, LinesSource(split_lines(text)), language, with_names=True)
    return FileOutline("f", language, units)


def table(outline: FileOutline) -> list[tuple[str, str, str, str]]:
    return [(s.qualname, s.kind, s.signature, s.doc) for s in outline.symbols()]


PYTHON = '''import os, sys as system
from ..pkg.mod import (alpha as a, beta)
from . import sibling

LIMIT = 10


class Client(Base):
    """An HTTP client.

    More text."""

    timeout: float = 5.0

    def __init__(self, url: str,
                 retries: int = 3) -> None:
        self.url = url
        self.url = "again"
        local = 1

    @property
    def name(self) -> str:
        return self.url


def helper(x):
    def inner():
        pass
    return x
'''


def test_python_outline() -> None:
    outline = outline_of("python", PYTHON)
    assert table(outline) == [
        ("LIMIT", "variable", "LIMIT = 10", ""),
        ("Client", "class", "class Client(Base):", "An HTTP client."),
        ("Client.timeout", "variable", "timeout: float = 5.0", ""),
        ("Client.__init__", "function",
         "def __init__(self, url: str,\n             retries: int = 3) -> None:", ""),
        ("Client.url", "attribute", "self.url = url", ""),
        ("Client.name", "function", "@property\ndef name(self) -> str:", ""),
        ("helper", "function", "def helper(x):", ""),
        ("helper.inner", "function", "def inner():", ""),
    ]
    init = outline.lookup("__init__")[0]
    assert (init.row, init.header_end) == (14, 15)
    imports = outline.imports()
    assert [(i.module, i.level, i.bindings) for i in imports] == [
        ("os", 0, (Binding("os", ""),)),
        ("sys", 0, (Binding("system", ""),)),
        ("pkg.mod", 2, (Binding("a", "alpha"), Binding("beta", "beta"))),
        ("", 1, (Binding("sibling", "sibling"),)),
    ]
    assert [s.name for s in outline.members("Client")] == ["timeout", "__init__", "url", "name"]
    assert outline.is_top_level("helper") and not outline.is_top_level("inner")
    assert outline.name_counts["url"] == 5


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("javascript",
         "import fs, { readFile as rf } from 'node:fs';\n/** Adds. */\n"
         "export function add(a, b = 1) { return a + b; }\n"
         "export const mul = (a, b) => a * b;\nclass Foo extends Bar {\n"
         "  constructor(x) { this.x = x; }\n  get y() { return 1; }\n}\n",
         [("add", "function", "export function add(a, b = 1)", "Adds."),
          ("mul", "function", "export const mul = (a, b) =>", ""),
          ("Foo", "class", "class Foo extends Bar", ""),
          ("Foo.constructor", "function", "constructor(x)", ""),
          ("Foo.x", "attribute", "this.x = x", ""),
          ("Foo.y", "function", "get y()", "")]),
        ("typescript",
         "export interface Shape { area(): number; name: string }\n"
         "export type Id = string | number;\nfunction f<T>(a: T): Promise<T> { return a; }\n",
         [("Shape", "class", "export interface Shape", ""),
          ("Shape.area", "function", "area(): number", ""),
          ("Shape.name", "variable", "name: string", ""),
          ("Id", "type", "export type Id = string | number;", ""),
          ("f", "function", "function f<T>(a: T): Promise<T>", "")]),
        ("go",
         'package main\nimport (\n\t"fmt"\n)\n// Point is a point.\ntype Point struct { X int }\n'
         "func (p *Point) Move(dx int) { p.X += dx }\n",
         [("Point", "type", "type Point struct { X int }", "Point is a point."),
          ("Move", "function", "func (p *Point) Move(dx int)", "")]),
        ("rust",
         "use std::io;\n/// A point.\npub struct Point { x: i32 }\nimpl Point {\n"
         "    pub fn new(x: i32) -> Self { Point { x } }\n}\n",
         [("Point", "type", "pub struct Point { x: i32 }", "A point."),
          ("Point", "class", "impl Point", ""),
          ("Point.new", "function", "pub fn new(x: i32) -> Self", "")]),
        ("java",
         "import java.util.List;\n/** A class. */\npublic class Foo {\n    private int x = 1;\n"
         "    public List<String> get(String k) { return null; }\n}\n",
         [("Foo", "class", "public class Foo", "A class."),
          ("Foo.x", "variable", "private int x = 1;", ""),
          ("Foo.get", "function", "public List<String> get(String k)", "")]),
        ("c",
         '#include "util.h"\n/* Helper. */\n'
         "static char *helper(const char *s, int n) { return 0; }\nstruct P { int x; };\n",
         [("helper", "function", "static char *helper(const char *s, int n)", "Helper."),
          ("P", "type", "struct P { int x; }", "")]),
        ("cpp",
         "namespace ns {\nclass Shape {\n public:\n  virtual double area() const = 0;\n};\n}\n",
         [("ns", "module", "namespace ns", ""), ("ns.Shape", "class", "class Shape", ""),
          ("ns.Shape.area", "function", "virtual double area() const = 0;", "")]),
    ],
)
def test_outline_per_language(language: str, text: str,
                              expected: list[tuple[str, str, str, str]]) -> None:
    assert table(outline_of(language, text)) == expected


def test_imports_of_other_languages() -> None:
    js = outline_of("javascript", "import fs, { readFile as rf } from './lib.js';\n")
    assert js.imports()[0].module == "./lib.js"
    assert set(js.imports()[0].bindings) == {Binding("fs", "fs"), Binding("rf", "readFile")}
    rust = outline_of("rust", "use std::collections::{HashMap, HashSet as Set};\n")
    assert rust.imports()[0].bindings == (Binding("HashMap", "HashMap"),
                                          Binding("Set", "HashSet"))
    c = outline_of("c", '#include "util.h"\n')
    assert c.imports()[0].module == "util.h" and c.imports()[0].wildcard


EDITS = ["x", "\n", "    ", "def g(a):\n    return a\n", "class K:\n    def m(self): pass\n",
         '"""', "(", ")", ":", "self.q = 1\n", "import os\n", ""]


@pytest.mark.parametrize("seed", range(4))
def test_live_outline_equals_a_fresh_one_after_random_edits(seed: int) -> None:
    text = Path(__file__).read_text() + PYTHON * 3
    store = DocumentStore()
    uri = "file:///w/live.py"
    store.open(uri, "python", 1, text)
    document = store.get(uri)
    assert document is not None and document.syntax is not None
    live = DocumentOutline("live.py", "python")
    rng = random.Random(seed)
    for step in range(120):
        for _ in range(rng.randint(1, 3)):
            lines = document.buffer.lines
            row = rng.randrange(len(lines))
            col = rng.randrange(len(lines[row].rstrip("\n")) + 1)
            end = (row, col)
            if rng.random() < 0.3:
                end_row = min(len(lines) - 1, row + rng.randint(0, 3))
                end = max(end, (end_row, rng.randrange(len(lines[end_row].rstrip("\n")) + 1)))
            store.edit(uri, step + 2, (row, col), end, rng.choice(EDITS))
        outline = live.refresh(document.syntax, document.buffer.lines)
        tree = document.tree
        assert tree is not None
        fresh = FileOutline("f", "python", outline_tree(
            tree, LinesSource(document.buffer.lines), "python", with_names=True))
        assert outline.symbols() == fresh.symbols(), step
        assert outline.imports() == fresh.imports(), step
        assert outline.name_counts == fresh.name_counts, step
    assert live.full_builds <= 3  # the rest were partial updates


def test_an_edit_in_one_method_of_a_huge_class_outlines_only_that_method() -> None:
    methods = "".join(f"    def m{i}(self, x):\n        return x + {i}\n\n" for i in range(3000))
    text = "class Huge:\n" + methods
    store = DocumentStore()
    store.open("file:///w/h.py", "python", 1, text)
    document = store.get("file:///w/h.py")
    assert document is not None and document.syntax is not None
    live = DocumentOutline("h.py", "python")
    live.refresh(document.syntax, document.buffer.lines)
    row = 1 + 3 * 1500 + 1  # inside m1500's body
    for column, char in enumerate("y = 1", 8):
        store.edit("file:///w/h.py", column, (row, column), (row, column), char)
        outline = live.refresh(document.syntax, document.buffer.lines)
    assert live.full_builds == 1
    assert live.units_rebuilt <= 5 * 4  # a few units per keystroke, not 3,000
    assert len(outline.members("Huge")) == 3000
    assert outline.lookup("m2999")[0].row == 1 + 3 * 2999
