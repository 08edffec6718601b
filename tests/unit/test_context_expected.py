"""Rows without code (comments, docstrings, blank) and the names a missing line is expected to
bind: what each finds, and what they bring into a real prompt."""

from __future__ import annotations

import pytest
from tree_sitter import Parser

from spark_lsp.context import expected
from spark_lsp.context.builder import build_context
from spark_lsp.context.engine import ContextEngine
from spark_lsp.context.ranking import DEFAULT
from spark_lsp.context.tokens import estimate_tokens
from spark_lsp.documents.store import DocumentStore
from spark_lsp.settings import ContextSettings
from spark_lsp.syntax.languages import grammar
from spark_lsp.syntax.prose import prose_rows, starts_in_prose


def _snapshot(text: str, language_id: str = "python", name: str = "a.py"):  # type: ignore[no-untyped-def]
    store = DocumentStore()
    uri = f"file:///w/{name}"
    store.open(uri, language_id, 1, text)
    snapshot = store.snapshot(uri)
    assert snapshot is not None
    return snapshot


PYTHON = '''def f(a):
    """Sum things.

    More words here.
    """
    # a comment row
    x = a + 1  # a trailing comment
    s = """text
inside a string"""

    return x
'''


def test_prose_rows_are_comments_docstrings_strings_and_blank_rows() -> None:
    snapshot = _snapshot(PYTHON)
    prose = prose_rows(snapshot.tree, snapshot.lines, 0, 100, "python")
    assert prose.rows == {1, 2, 3, 4, 5, 8, 9, 11}  # not 0 (header), 6 (code + comment), 7
    assert prose.blocks == ((1, 4), (7, 8))  # the docstring, the string `s = """…"""` starts
    assert prose.in_blocks == {1, 2, 3, 4, 7, 8}


def test_prose_rows_of_other_languages_and_of_an_unknown_one() -> None:
    rust = _snapshot("fn f() {\n    // note\n    let x = 1; // trailing\n\n}\n", "rust", "a.rs")
    assert prose_rows(rust.tree, rust.lines, 0, 10, "rust").rows == {1, 3, 5}  # 5: after "\n"
    plain = _snapshot("words\n\nmore # not a comment here\n", "plaintext", "a.txt")
    assert prose_rows(plain.tree, plain.lines, 0, 10, plain.language).rows == {1, 3}
    assert not prose_rows(rust.tree, rust.lines, 2, 1, "rust").rows  # an empty range


def test_docstring_and_comment_rows_are_prose() -> None:
    source = 'def f(x):\n    """Doc x\n    more x\n    """\n    # note x\n    y = x  # t\n'
    tree = Parser(grammar("python")).parse(source.encode())
    lines = source.splitlines(True)
    assert [starts_in_prose(tree, lines, r) for r in range(6)] == [False, True, True, True,
                                                                   True, False]


def test_one_rows_check_agrees_with_the_prose_query_of_each_language() -> None:
    sources = {
        "python": 'def f(x):\n    """Doc\n    more\n    """\n    s = """a\nb"""\n    # c\n\n',
        "rust": "fn f() {\n    // note\n    /* a\n    b */\n    let s = \"x\n y\";\n}\n",
        "javascript": "function f() {\n  // note\n  const s = `a\n  b`;\n  /* c\n  d */\n}\n",
        "go": "func f() {\n\t// note\n\ts := `a\nb`\n\t/* c\n\td */\n}\n",
    }
    for language, source in sources.items():
        tree = Parser(grammar(language)).parse(source.encode())
        lines = source.splitlines(True)
        rows = prose_rows(tree, lines, 0, len(lines) - 1, language).rows
        assert rows, language
        assert {r for r in range(len(lines)) if starts_in_prose(tree, lines, r)} == rows, \
            language


FUNCTION = '''def match(self, file):
    """Check the file."""

    out_include = None
    for index, pattern in self._patterns:
        if pattern.match(file) and not is_reversed:
            out_include = pattern.include
        elif limit > index:
            break
    return out_include, count
'''


def test_names_used_below_before_anything_binds_them_are_expected() -> None:
    lines = FUNCTION.splitlines(keepends=True)
    found = expected.unbound_below(lines, 2, 0, len(lines) - 1, lambda n: n == "limit")
    # `out_include`, `index`, `pattern` are bound below; `file`, `self` above; `limit` known.
    assert found == {"is_reversed": 5, "count": 9}


@pytest.mark.parametrize(("line", "name", "binds"), [
    ("    total = 0\n", "total", True),
    ("    a, b = pair\n", "b", True),
    ("    size: int = 3\n", "size", True),
    ("    for k, v in items:\n", "v", True),
    ("    with open(p) as handle:\n", "handle", True),
    ("    if (m := pattern.match(s)):\n", "m", True),
    ("    let width = 3;\n", "width", True),
    ("    if total == 0:\n", "total", False),
    ("    call(total, key=value)\n", "total", False),
    ("    self.total = total\n", "total", False),
    ("    return total >= limit\n", "total", False),
])
def test_what_binds_a_name(line: str, name: str, binds: bool) -> None:
    assert expected._binds(line, name) is binds


CALLS = '''def connect(verify, cert):
    """Open a pool."""
    import socket

    {hole}
    pool = Pool(
        ssl_context=ssl_context,
        retries=3,
    )
    message = f"{pool.size} {socket.AF_INET}"
    raise ValueError("not ssl_context words " + message)


def connect_twice(verify, cert):
    ssl_context = make_context(verify=verify, cert=cert)
    return ssl_context
'''


def test_keyword_arguments_strings_and_imports_are_neither_uses_nor_bindings() -> None:
    lines = CALLS.replace("{hole}", "").splitlines(keepends=True)
    found = expected.unbound_below(lines, 4, 0, 10, lambda n: n in ("Pool", "ValueError"))
    # `ssl_context=` and `retries=` are keys, the value `ssl_context` a use; the words of the
    # strings are no names (`f`, `not`, `words`); `socket` is imported above.
    assert found == {"ssl_context": 6}


def test_rows_elsewhere_that_bind_an_expected_name() -> None:
    lines = CALLS.replace("{hole}", "").splitlines(keepends=True)
    spans = {"ssl_context": [(0, 10), (13, 15)]}
    found = expected.binding_rows(lines, ["ssl_context", "absent"],
                                  lambda n: spans.get(n, []), (0, 10))
    assert found == {"ssl_context": [14]}  # not row 6 (in `skip`, and a keyword), nor 15
    assert expected.binding_rows(lines, ["ssl_context"], lambda n: spans.get(n, []), (0, 10),
                                 lambda r: r == 14) == {}  # row 14 taken for a docstring's


CLASS = '''class Strategy:
    def __init__(self, shape):
        self.shape = shape

    def size(self):
        return self.array_size * self.shape[0] + self.array_size

    def describe(self):
        return self.helper() + str(self.label)
'''


def test_attributes_a_class_reads_but_never_sets() -> None:
    lines = CLASS.splitlines(keepends=True)
    got = expected.unassigned_attributes(lines, 0, len(lines) - 1,
                                         {"shape", "size", "describe", "__init__", "helper"})
    assert got == ["array_size", "label"]  # most read first; members and methods are known


ENGINE = '''import os


class Backend:
    def __init__(self, patterns):
        self._patterns = patterns

    def match_file(self, file):
        """Check the file against the patterns.

        Returns whether to include the file, and the index of the last matched pattern,
        in a long explanation that costs many tokens and holds no names that matter.
        """
        {hole}
        out_include = None
        out_index = None
        for index, pattern in self._patterns:
            if pattern.match(file):
                out_include = pattern.include
                out_index = index
        filler_one = 1
        filler_two = 2
        filler_three = 3
        filler_four = 4
        filler_five = 5
        filler_six = 6
        filler_seven = 7
        if is_reversed:
            out_index = -out_index
        return out_include, out_index

    def size(self):
        return len(self._patterns) * self._cached_total
'''


def test_a_prompt_holds_the_row_that_uses_the_missing_name_and_the_unset_attribute() -> None:
    text = ENGINE.replace("{hole}", "")  # the row keeps its indentation, as a deleted line's
    snapshot = _snapshot(text)
    row = text.splitlines().index("        ")
    ctx = build_context(snapshot, row, 8, ContextSettings(max_prompt_tokens=200),
                        estimate_tokens)
    prompt = "".join(s.text for s in ctx.snippets) + ctx.prefix + ctx.suffix
    assert "if is_reversed:" in ctx.suffix
    assert "_cached_total" in prompt
    assert ctx.prompt_tokens <= 200


HELPERS = "".join(f"\n\ndef helper_{i}(value):\n    return value * {i} + {i}\n"
                  for i in range(30))
IMPORTS = ("import os\nimport json\nfrom pathlib import Path, PurePath\nfrom typing import cast\n"
           + HELPERS + "\n\ndef load(name):\n    base = Path(name)\n    \n")


def test_imports_the_nearby_code_uses_stay_rows_the_others_become_a_name_list() -> None:
    snapshot = _snapshot(IMPORTS)
    row = IMPORTS.splitlines().index("    ")
    ctx = build_context(snapshot, row, 4, ContextSettings(max_prompt_tokens=160),
                        estimate_tokens)
    listed = {s.path: s.text for s in ctx.snippets}["/w/a.py"]
    imported = listed.split("# imported: ")[1].split("\n")[0]
    assert set(imported.split(", ")) == {"os", "json", "cast"}
    assert "from pathlib import Path, PurePath\n" in ctx.prefix  # `Path` is used nearby
    assert "import json" not in ctx.prefix


def test_the_rows_always_in_above_the_cursor_are_code_rows() -> None:
    from spark_lsp.context.plan import _nearest_rows
    from spark_lsp.syntax.scopes import enclosing_scopes

    text = "def f(a):\n    x = a\n    # why\n\n    y = x\n    \n"
    snapshot = _snapshot(text)
    prose = prose_rows(snapshot.tree, snapshot.lines, 0, 6, "python")
    scopes = list(enclosing_scopes(snapshot.tree, snapshot.lines, 5, 4, "python"))
    rows = {r for p in _nearest_rows(snapshot.lines, 5, scopes, 512, lambda r: 3, prose,
                                     ranking=DEFAULT)
            for r in p.rows}
    assert {1, 4} <= rows and not rows & {2, 3}  # the comment and the blank row left out


def _nearest(text: str, row: int, budget: int = 512, cost: int = 3) -> list[tuple[int, ...]]:
    from spark_lsp.context.plan import _nearest_rows
    from spark_lsp.syntax.scopes import enclosing_scopes

    snapshot = _snapshot(text)
    lines = snapshot.lines
    prose = prose_rows(snapshot.tree, lines, 0, len(lines) - 1, "python")
    column = len(lines[row]) - len(lines[row].lstrip())
    scopes = list(enclosing_scopes(snapshot.tree, lines, row, column, "python"))
    return [p.rows for p in _nearest_rows(lines, row, scopes, budget, lambda r: cost, prose,
                                              ranking=DEFAULT)]


def test_the_comments_right_above_the_cursor_always_go_in() -> None:
    """What the next line is meant to do: the comment rows (blank rows between) or the
    docstring right above the cursor; not a comment with code between it and the cursor."""
    text = ("def f(a):\n    x = a\n    # far\n    y = x\n    # double it\n\n"
            "    # and add one\n    \n")
    rows = {r for taken in _nearest(text, 7) for r in taken}
    assert {6, 4, 3, 1} <= rows and 2 not in rows
    doc = 'def g(a):\n    """What g does,\n    in two rows."""\n    \n'
    assert (1, 2) in _nearest(doc, 3)  # the docstring, whole
    inside = 'def h(a):\n    """What h does,\n    \n    more."""\n'
    assert all(r == 0 for taken in _nearest(inside, 2) for r in taken)  # (only the header row)


def test_a_long_comment_above_the_cursor_gives_its_nearest_rows_and_the_code_above() -> None:
    comment = "".join(f"    # step {i} of a long explanation\n" for i in range(30))
    text = "def f(a):\n    x = a\n" + comment + "    \n"
    cursor = 32
    rows = sorted(r for taken in _nearest(text, cursor, budget=300, cost=3) for r in taken)
    kept = [r for r in rows if r >= 2]
    assert kept == list(range(32 - len(kept), 32)) and 0 < len(kept) <= 300 * 0.1 / 3
    assert 1 in rows  # the code above the comment still goes in (the rest of the prefix share)
    long_doc = 'def g(a):\n    """Summary.\n' + "    more words\n" * 40 + '    """\n    \n'
    assert _nearest(long_doc, 43, budget=300) == [(0,)]  # too long a docstring: not in part


def test_a_comment_typed_above_the_cursor_is_in_the_prompt_of_a_long_file() -> None:
    filler = "".join(f"def helper_{i}(values, threshold, scale):\n"
                     f"    total = sum(v * scale for v in values if v > threshold)\n"
                     f"    return total / len(values) + {i}\n\n\n" for i in range(80))
    text = filler + ('def geometric_mean(values, threshold, scale):\n'
                     '    logs = [math.log(v * scale) for v in values if v > threshold]\n'
                     '    # the mean of the logs, back to linear scale\n    \n    return result\n')
    snapshot = _snapshot(text)
    row = text.split("\n").index("    return result") - 1
    for budget in (256, 512):  # (at 256 it lost to rows with names before)
        ctx = build_context(snapshot, row, 4, ContextSettings(max_prompt_tokens=budget),
                            estimate_tokens)
        assert ctx.prefix.endswith("    logs = [math.log(v * scale) for v in values if v > "
                                   "threshold]\n    # the mean of the logs, back to linear "
                                   "scale\n    ")
        assert ctx.prompt_tokens <= budget


def test_a_docstring_goes_into_a_prompt_whole_or_not_at_all() -> None:
    from spark_lsp.context.local import whole_blocks
    from spark_lsp.context.packing import Piece

    window = [Piece(900.0 - r, rows=(r,), after=r + 1 if r + 1 < 9 else None) for r in range(9)]
    got = whole_blocks(window, ((2, 4), (6, 10)), 9)  # 6..10 holds the cursor's row 9
    rows = sorted(p.rows for p in got)
    assert rows == [(0,), (1,), (2, 3, 4), (5,)]
    block = next(p for p in got if p.rows == (2, 3, 4))
    assert block.after == 5 and block.score == 900.0 - 4  # after the row below it, its score
    assert whole_blocks(window, ((0, 12),), 20) == []  # the window holds only a part of it
    assert whole_blocks(window, (), 9) is window


def test_a_prompt_never_holds_half_a_docstring() -> None:
    doc = "\n".join(f"    line {i} of a long explanation of what this does" for i in range(40))
    text = f'''def work(a, b):
    """Summary.

{doc}
    """
    total = a + b
''' + "    \n"
    snapshot = _snapshot(text)
    row = text.splitlines().index("    ")
    for budget in (64, 128, 256, 512, 1024):
        ctx = build_context(snapshot, row, 4, ContextSettings(max_prompt_tokens=budget),
                            estimate_tokens)
        assert ctx.prefix.count('"""') in (0, 2), budget


def test_the_attributes_used_elsewhere_on_a_nearby_value_are_listed() -> None:
    from spark_lsp.context import usage

    text = ("def one(conv, data):\n    conv.structure(data)\n    my_conv.unrelated()\n"
            "    conv.register(int)\n    conv.structure(1)\n    os.path.join('a')\n\n"
            "def two(conv):\n    x = conv.copy()\n    \n")
    lines = text.splitlines(keepends=True)
    assert usage.receivers_near(lines, 7, 9) == ["conv"]
    assert usage.attribute_uses(lines, 0, 9, ["conv"]) == {
        "conv": {"structure": 2, "register": 1, "copy": 1}}  # not `my_conv.unrelated`
    got = usage.usage_pieces(lines, 9, (5, 9), {"copy": 1.0}, {"os"}, "#", "a.py",
                             ranking=DEFAULT)
    assert [(p.group, p.text) for p in got] == [("# conv: ", "structure"),
                                                ("# conv: ", "register")]
    assert usage.usage_pieces(lines, 9, (5, 9), {}, {"conv", "os"}, "#", "a.py",
                              ranking=DEFAULT) == []


def test_the_lines_of_the_files_own_snippet_never_share_a_position() -> None:
    """Name lists of one file are lines keyed by position: two lists on one key would merge."""
    from spark_lsp.context import names, usage

    assert usage.FIRST_ORDER + usage.MAX_RECEIVERS <= names.FIRST_MODULE_LIST
    assert names.FIRST_MODULE_LIST + names.MAX_MODULES <= -1  # -1: imported names


def test_a_prompt_holds_how_the_file_binds_the_name_the_rows_below_expect() -> None:
    filler = "".join(f"\n\ndef unrelated_{i}(value):\n    return value * {i} + {i}\n"
                     for i in range(40))
    text = CALLS.replace("{hole}", "") + filler
    store = DocumentStore()
    engine = ContextEngine(store)  # the live outline: which rows use which names
    store.open("file:///w/a.py", "python", 1, text)
    snapshot = store.snapshot("file:///w/a.py")
    assert snapshot is not None
    ctx = build_context(snapshot, 4, 4, ContextSettings(max_prompt_tokens=160),
                        estimate_tokens, engine=engine.view(snapshot))
    assert "    ssl_context = make_context(verify=verify, cert=cert)\n" in ctx.suffix
    assert "unrelated_3(" not in ctx.prefix + ctx.suffix
