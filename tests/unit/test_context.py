"""The context builder: what goes into a prompt, in which form, and that it fits the budget."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spark_lsp.context import layout
from spark_lsp.context.builder import build_context
from spark_lsp.context.engine import ContextEngine
from spark_lsp.context.tokens import CachedCounter, counter_for, estimate_tokens
from spark_lsp.context.types import PromptContext
from spark_lsp.documents.store import DocumentStore
from spark_lsp.prompts.fim import comment_header
from spark_lsp.settings import ContextSettings

SHAPES = '''"""Shapes."""


class Rectangle:
    """An axis-aligned rectangle."""

    def __init__(self, width: float, height: float) -> None:
        self.width = width
        self.height = height

    def area(self) -> float:
        return self.width * self.height

    def scaled(self, factor: float) -> "Rectangle":
        return Rectangle(self.width * factor, self.height * factor)


def unit_square() -> Rectangle:
    """The square of side 1."""
    return Rectangle(1.0, 1.0)
'''

MAIN = '''import math
from shapes import Rectangle, unit_square
from secret_stuff import hidden_value

PADDING = 2


def describe(rect: Rectangle) -> str:
    text = f"{rect.width} x {rect.height}"
    return text


def total_area(items: list[Rectangle]) -> float:
    """Sum of the areas."""
    result = 0.0
    for item in items:
        result += item.area()
    base = unit_square()
    hidden_value(base)
    \n    return result
'''
CURSOR = (19, 4)  # the blank line in total_area


def prompt_text(ctx: PromptContext) -> str:
    return comment_header(ctx) + ctx.prefix + ctx.suffix


@pytest.fixture
def workspace(tmp_path: Path) -> tuple[ContextEngine, DocumentStore, str]:
    (tmp_path / "shapes.py").write_text(SHAPES)
    (tmp_path / "main.py").write_text(MAIN)
    (tmp_path / "secret_stuff.py").write_text("def hidden_value(x):\n    return 'HIDDEN'\n")
    (tmp_path / ".gitignore").write_text("secret_stuff.py\n")
    (tmp_path / ".env").write_text("TOKEN=ENV_SECRET\n")
    store = DocumentStore()
    engine = ContextEngine(store)
    engine.set_roots([tmp_path])
    assert engine.index is not None
    engine.index.build()
    uri = (tmp_path / "main.py").as_uri()
    store.open(uri, "python", 1, MAIN)
    for name in ("secret_stuff.py", ".env"):  # open in the editor: still never in a prompt
        store.open((tmp_path / name).as_uri(), "python", 1, (tmp_path / name).read_text())
        snapshot = store.snapshot((tmp_path / name).as_uri())
        assert snapshot is not None
        engine.outline(snapshot)
    return engine, store, uri


def build(engine: ContextEngine, store: DocumentStore, uri: str, budget: int = 512,
          cursor: tuple[int, int] = CURSOR, backend: object | None = None) -> PromptContext:
    snapshot = store.snapshot(uri)
    assert snapshot is not None
    return build_context(snapshot, cursor[0], cursor[1],
                         ContextSettings(max_prompt_tokens=budget),
                         engine=engine.view(snapshot, backend))


def test_imported_signatures_come_from_the_other_file(workspace: tuple) -> None:
    ctx = build(*workspace)
    snippets = {s.path: s.text for s in ctx.snippets}
    assert "shapes.py" in snippets
    shapes = snippets["shapes.py"]
    assert "def unit_square() -> Rectangle: ..." in shapes
    assert "class Rectangle:" in shapes and "def area(self) -> float: ..." in shapes
    assert "return Rectangle(1.0, 1.0)" not in shapes  # signatures, not bodies
    assert ctx.path == "main.py"
    text = prompt_text(ctx)
    assert "HIDDEN" not in text and "ENV_SECRET" not in text
    assert "def hidden_value" not in text


def test_the_current_file_is_rendered_in_order_with_elisions(workspace: tuple) -> None:
    ctx = build(*workspace, budget=120)
    assert ctx.prefix.endswith("    base = unit_square()\n    hidden_value(base)\n    ")
    assert ctx.suffix.startswith("\n    return result\n")
    assert "def total_area(items: list[Rectangle]) -> float:" in ctx.prefix
    assert "..." in ctx.prefix  # what is left out is marked
    assert ctx.prompt_tokens <= 120


def test_plain_text_for_an_unknown_language() -> None:
    store = DocumentStore()
    text = "".join(f"line {i} of the notes\n" for i in range(400))
    store.open("file:///w/notes.txt", "plaintext", 1, text)
    snapshot = store.snapshot("file:///w/notes.txt")
    assert snapshot is not None
    ctx = build_context(snapshot, 200, 4, ContextSettings(max_prompt_tokens=200))
    assert ctx.prefix.endswith("line 199 of the notes\nline")
    assert ctx.suffix.startswith(" 200 of the notes\nline 201")
    assert ctx.snippets == () and ctx.prompt_tokens <= 200
    above, below = ctx.prefix.count("\n"), ctx.suffix.count("\n")
    assert above > below  # more before the cursor than after


@settings(max_examples=60, deadline=None)
@given(budget=st.integers(min_value=12, max_value=1500), row=st.integers(0, 64),
       column=st.integers(0, 40), exact=st.booleans())
def test_every_prompt_fits_its_budget(tmp_path_factory: pytest.TempPathFactory, budget: int,
                                      row: int, column: int, exact: bool) -> None:
    root = tmp_path_factory.mktemp("w")
    (root / "shapes.py").write_text(SHAPES)
    store = DocumentStore()
    engine = ContextEngine(store)
    engine.set_roots([root])
    assert engine.index is not None
    engine.index.build()
    uri = (root / "main.py").as_uri()
    store.open(uri, "python", 1, MAIN * 3)

    def count(text: str) -> int:  # a stricter tokenizer than the estimate
        return len(text) // 3 + text.count("\n") + 1

    backend = type("Local", (), {"count_tokens": staticmethod(count)})() if exact else None
    ctx = build(engine, store, uri, budget, (row, column), backend)
    counter = count if exact else estimate_tokens
    sent = counter(prompt_text(ctx)) + layout.TEMPLATE_RESERVE \
        + layout.SEPARATOR_TOKENS * len(ctx.snippets)  # + the FIM sentinels
    if exact:  # the builder counted what the template renders
        assert ctx.prompt_tokens == sent
    if budget >= 40:  # below that not even the path label fits
        assert sent <= budget, (sent, ctx)
        assert ctx.prompt_tokens <= budget


def test_typing_on_a_line_reuses_the_plan(workspace: tuple) -> None:
    engine, store, uri = workspace
    first = build(engine, store, uri)
    store.edit(uri, 2, CURSOR, CURSOR, "res")
    second = build(engine, store, uri, cursor=(CURSOR[0], CURSOR[1] + 3))
    assert second.prefix == first.prefix + "res"
    assert second.snippets == first.snippets


def test_more_of_the_index_ready_keeps_the_choice(workspace: tuple, tmp_path: Path) -> None:
    """The index growing (as during its build) or more package outlines ready do not renew the
    choice kept for the cursor's definition: each renewal was a whole prompt evaluated anew in
    the middle of a line (issue 17)."""
    engine, store, uri = workspace
    first = build(engine, store, uri)
    kept = engine.kept(uri)
    (tmp_path / "more.py").write_text("def unrelated_extra():\n    return 1\n")
    generation = engine.index.published
    engine.index.update_file(str(tmp_path / "more.py"))
    assert engine.index.published != generation
    engine.packages.generation += 1
    assert build(engine, store, uri) == first
    assert engine.kept(uri) is kept


def test_a_change_to_another_file_the_choice_shows_chooses_anew(workspace: tuple,
                                                                tmp_path: Path) -> None:
    engine, store, uri = workspace
    before = {s.path: s.text for s in build(engine, store, uri).snippets}["shapes.py"]
    assert "def unit_square() -> Rectangle: ..." in before
    engine.index.update_file(str(tmp_path / "shapes.py"), SHAPES.replace(
        "def unit_square() -> Rectangle:", "def unit_square(side: float) -> Rectangle:"))
    shapes = {s.path: s.text for s in build(engine, store, uri).snippets}["shapes.py"]
    assert "def unit_square(side: float) -> Rectangle: ..." in shapes


def test_prepare_builds_with_the_engine_view_it_is_given(workspace: tuple) -> None:
    from spark_lsp.completion.pipeline import prepare
    from spark_lsp.settings import Settings

    engine, store, uri = workspace
    snapshot = store.snapshot(uri)
    assert snapshot is not None
    job = prepare(snapshot, *CURSOR, Settings(), engine=engine.view(snapshot))
    assert any(s.path == "shapes.py" for s in job.context.snippets)
    alone = prepare(snapshot, *CURSOR, Settings()).context  # no engine: no index
    assert not any(s.path.endswith("shapes.py") for s in alone.snippets)


def test_token_estimate_and_counters() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("def area(self) -> float:") == 8
    assert estimate_tokens("x" * 30) > estimate_tokens("x" * 9)  # long words split
    # upper-case words split more than lower-case ones (SmolLM2: 7 tokens against 5)
    assert estimate_tokens("REQUEST_HEADER_FIELDS") >= estimate_tokens("request_header_fields") + 2
    calls: list[str] = []

    def count(text: str) -> int:
        calls.append(text)
        return 7

    cached = CachedCounter(count)
    assert cached("abc") == cached("abc") == 7 and calls == ["abc"]
    backend = type("B", (), {"count_tokens": staticmethod(lambda text: 1 / 0)})()
    counter, exact = counter_for(backend)
    assert exact and counter("four words of text") == estimate_tokens("four words of text")
    assert counter_for(object())[1] is False
