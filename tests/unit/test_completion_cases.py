"""Completion cases (Continue/Cody style): source text with █ at the cursor, a canned model output,
the expected suggestion, run through the real pipeline (scope → context → prompt → stop
conditions → post-processing). Also home of the helpers the other completion tests use.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from spark_lsp.completion.pipeline import generate, prepare
from spark_lsp.completion.types import CompletionJob, Suggestion
from spark_lsp.documents.store import DocumentSnapshot, DocumentStore
from spark_lsp.model_request import ModelRequest, PromptStyle
from spark_lsp.settings import CompletionSettings, ModelSettings, Settings

CURSOR = "█"
EXTENSIONS = {"python": "py", "javascript": "js", "typescript": "ts", "go": "go", "rust": "rs",
              "c": "c", "java": "java", "cpp": "cpp"}


def split_cursor(source: str) -> tuple[str, int, int]:
    """(text without the marker, line, UTF-16 character) of the one █ in `source`."""
    count = source.count(CURSOR)
    if count != 1:
        raise AssertionError(f"a case needs exactly one cursor marker {CURSOR!r}, found {count}:"
                             f"\n{source}")
    before, after = source.split(CURSOR)
    line = before.count("\n")
    column = before[before.rfind("\n") + 1 :]
    return before + after, line, len(column.encode("utf-16-le")) // 2


def snapshot_at(source: str, language: str = "python") -> tuple[DocumentSnapshot, int, int]:
    text, line, character = split_cursor(source)
    store = DocumentStore()
    uri = f"file:///work/case.{EXTENSIONS.get(language, 'txt')}"
    store.open(uri, language, 1, text)
    snapshot = store.snapshot(uri)
    assert snapshot is not None
    return snapshot, line, character


def settings_for(multiline: str = "auto", model: str = "m", fim_template: str = "auto",
                 debounce_ms: int = 0) -> Settings:
    return Settings(
        fast=ModelSettings(provider="ollama", url="http://127.0.0.1:9", model=model,
                           fim_template=fim_template),
        completion=CompletionSettings(multiline=multiline, debounce_ms=debounce_ms),  # type: ignore[arg-type]
    )


@dataclass
class CannedBackend:
    """A backend that streams a canned reply in chunks and records what happened to the stream."""

    reply: str = ""
    chunk: int = 4
    delay: float = 0.0  # seconds before each chunk (0: no await at all)
    prompt_style: PromptStyle = "fim_fields"
    provider: str = "fake"
    error: Exception | None = None  # raised after the first chunk
    requests: list[ModelRequest] = field(default_factory=list)
    sent: int = 0  # chunks handed out over all streams
    closed: int = 0  # streams closed (finished, stopped early or cancelled)
    started: asyncio.Event = field(default_factory=asyncio.Event)

    def pieces(self) -> list[str]:
        return [self.reply[i : i + self.chunk] for i in range(0, len(self.reply), self.chunk)]

    async def stream(self, request: ModelRequest) -> AsyncIterator[str]:
        self.requests.append(request)
        self.started.set()
        try:
            for i, piece in enumerate(self.pieces()):
                if self.delay:
                    await asyncio.sleep(self.delay)
                if self.error is not None and i == 1:
                    raise self.error
                self.sent += 1
                yield piece
        finally:
            self.closed += 1

    async def ping(self) -> str:
        return "canned"

    async def aclose(self) -> None:
        pass


def job_for(source: str, language: str = "python", multiline: str = "auto") -> CompletionJob:
    snapshot, line, character = snapshot_at(source, language)
    return prepare(snapshot, line, character, settings_for(multiline))


async def complete(
    source: str, reply: str, language: str = "python", multiline: str = "auto",
    backend: CannedBackend | None = None, model: str = "m",
) -> Suggestion | None:
    """Run one case through the real pipeline."""
    snapshot, line, character = snapshot_at(source, language)
    settings = settings_for(multiline, model=model)
    backend = backend if backend is not None else CannedBackend(reply)
    backend.reply = reply
    job = prepare(snapshot, line, character, settings)
    return await generate(job, backend, settings)


async def text_of(source: str, reply: str, language: str = "python", **kw: object) -> str | None:
    suggestion = await complete(source, reply, language, **kw)  # type: ignore[arg-type]
    return suggestion.text if suggestion is not None else None


# -- the helpers themselves ---------------------------------------------------------------------


def test_a_case_without_a_cursor_fails_loudly() -> None:
    with pytest.raises(AssertionError, match="exactly one cursor"):
        split_cursor("x = 1\n")
    with pytest.raises(AssertionError, match="found 2"):
        split_cursor("█x█")


def test_the_cursor_is_counted_in_utf16_units() -> None:
    assert split_cursor("a = '😀'█\n") == ("a = '😀'\n", 0, 8)


# -- cases --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    source: str
    reply: str
    expected: str | None
    language: str = "python"
    multiline: str = "auto"


CASES = [
    # Mid-line: finish the line.
    Case("mid-line finishes the line",
         "def add(a, b):\n    return a█\n", " + b\n\ndef sub(a, b):\n    return a - b\n",
         " + b"),
    Case("closing bracket the editor has is trimmed",
         "print(a█)\n", ", b)\nprint(c)\n", ", b"),
    Case("rest of the line repeated is trimmed",
         "x = compute(█, 2)\n", "1, 2)\n", "1"),
    Case("space already typed is not doubled",
         "total = █\n", " a + b\n", "a + b"),
    # Empty line in a block: one statement.
    Case("statement: stops after one simple statement",
         "def f(a, b):\n    total = a + b\n    █\n    return total\n",
         "total *= 2\n    print(total)\n    total += 1\n", "total *= 2"),
    Case("statement: a multi-line call ends when its brackets close",
         "def f(a, b):\n    x = 1\n    █\n    return x\n",
         "result = compute(\n        a,\n        b,\n    )\n    other()\n",
         "result = compute(\n        a,\n        b,\n    )"),
    Case("statement: a compound statement ends at the dedent",
         "def f(items):\n    total = 0\n    █\n    return total\n",
         "for x in items:\n        total += x\n        total *= 2\n    print(total)\n",
         "for x in items:\n        total += x\n        total *= 2"),
    Case("statement: else belongs to its if",
         "def f(a):\n    y = 0\n    █\n    return y\n",
         "if a:\n        y = 1\n    else:\n        y = 2\n    y += 3\n",
         "if a:\n        y = 1\n    else:\n        y = 2"),
    Case("statement: decorators and the definition they decorate",
         "class A:\n    x = 1\n    █\n",
         "@property\n    def name(self):\n        return self._name\n\n    def other(self):\n"
         "        pass\n",
         "@property\n    def name(self):\n        return self._name"),
    Case("statement: a comment line does not end it",
         "def f(a):\n    b = a\n    █\n    return b\n",
         "# double it\n    b = b * 2\n    c = 3\n", "# double it\n    b = b * 2"),
    Case("statement: extra indentation from the model is removed",
         "def f(a):\n    b = a\n    █\n    return b\n", "    b += 1\n    c = 2\n", "b += 1"),
    Case("statement: a line that repeats the one above is dropped",
         "def f(a):\n    b = a\n    █\n", "b = a\n", None),
    Case("statement: whitespace only is dropped",
         "def f(a):\n    b = a\n    █\n", "   \n\n  ", None),
    # Empty block / cursor opening one: the block.
    Case("block: first line of an empty body",
         "def add(a, b):\n    █\n",
         "c = a + b\n    return c\n\ndef sub(a, b):\n    return a - b\n",
         "c = a + b\n    return c"),
    Case("block: cursor at the end of the opener",
         "def add(a, b):█\n\nprint(add(1, 2))\n",
         "\n    return a + b\n\nprint(add(3, 4))\n",
         "\n    return a + b"),
    Case("block: body without indentation is indented",
         "def add(a, b):█\n", "\nreturn a + b\n", "\n    return a + b"),
    Case("block: tabs from the model become the document's spaces",
         "class A:\n    def f(self):\n        █\n",
         "if self.x:\n\t\t\treturn 1\n\t\treturn 2\n\nclass B:\n",
         "if self.x:\n            return 1\n        return 2"),
    # Strings and settings.
    Case("inside a docstring: only the line",
         'def f():\n    """Sum.\n\n    █\n    """\n', "Returns the sum.\n    Raises nothing.\n",
         "Returns the sum."),
    Case("multiline never: one line even on an empty line",
         "def f(a):\n    b = a\n    █\n", "c = b\n    d = c\n", "c = b", multiline="never"),
    Case("multiline always: the end of a line finishes its statement",
         "def f(a):\n    b = compute(█\n", "a,\n        2)\n    c = 3\n", "a,\n        2)",
         multiline="always"),
    # Brace languages.
    Case("js block: body of the function, its closing brace already there",
         "function add(a, b) {█\n}\n", "\n  return a + b;\n}\n\nfunction sub(a, b) {\n",
         "\n  return a + b;", language="javascript"),
    Case("js statement: one statement",
         "function f(a) {\n  const x = a * 2;\n  █\n  return x;\n}\n",
         "console.log(x);\n  foo();\n", "console.log(x);", language="javascript"),
    Case("js statement: an if with its braces",
         "function f(x) {\n  let y = 0;\n  █\n  return y;\n}\n",
         "if (x > 1) {\n    y = 1;\n  }\n  bar();\n", "if (x > 1) {\n    y = 1;\n  }",
         language="javascript"),
    Case("go block: error check",
         "package main\n\nfunc f() error {\n\terr := g()\n\tif err != nil {█\n\t}\n"
         "\treturn nil\n}\n",
         "\n\t\treturn err\n\t}\n\treturn nil\n}\n", "\n\t\treturn err", language="go"),
    Case("rust statement",
         "fn f() -> i32 {\n    let a = 1;\n    █\n    a\n}\n",
         "let b = a + 1;\n    let c = 2;\n", "let b = a + 1;", language="rust"),
    Case("c statement",
         "int f(int a) {\n    int b = a;\n    █\n    return b;\n}\n",
         "b += 2;\n    b *= 3;\n", "b += 2;", language="c"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_case(case: Case) -> None:
    got = await text_of(case.source, case.reply, case.language, multiline=case.multiline)
    assert got == case.expected


async def test_range_replaces_the_closer_the_suggestion_types_through() -> None:
    suggestion = await complete("x = f(a█)\n", ") + 1\n")
    assert suggestion is not None
    assert (suggestion.text, suggestion.character, suggestion.replace_end_character) == (
        ") + 1", 7, 8)


async def test_plain_insertion_has_an_empty_range() -> None:
    suggestion = await complete("x = f(a█)\n", ", b)\n")
    assert suggestion is not None
    assert suggestion.character == suggestion.replace_end_character == 7


async def test_template_stop_tokens_cut_the_text() -> None:
    backend = CannedBackend(prompt_style="fim_template")
    got = await complete("x = █\n", "1<|endoftext|>garbage", backend=backend, model="qwen2.5-coder")
    assert got is not None and got.text == "1"


async def test_stopping_early_closes_the_stream_before_the_rest_is_generated() -> None:
    tail = "\n".join(f"    line_{i} = {i}" for i in range(100))
    backend = CannedBackend(chunk=4)
    got = await complete("def f():\n    a = 1\n    █\n", "b = 2\n" + tail, backend=backend)
    assert got is not None and got.text == "b = 2"
    assert backend.closed == 1
    assert backend.sent == 2  # "b = " and "2\n  ": nothing after the chunk that ended the line


def test_job_records_mode_and_position() -> None:
    job = job_for("def f():\n    x = █\n")
    assert (job.mode, job.line, job.index, job.line_prefix, job.line_suffix) == (
        "line", 1, 8, "    x = ", "")
    assert dataclasses.replace(job.scope, mode="block").mode == "block"


@dataclass
class RepliesBackend(CannedBackend):
    """A backend that gives each request the next of its replies."""

    replies: list[str] = field(default_factory=list)

    async def stream(self, request: ModelRequest) -> AsyncIterator[str]:
        self.reply = self.replies[len(self.requests)]
        async for piece in super().stream(request):
            yield piece


async def test_a_line_the_model_ends_at_once_is_followed_by_the_next_line() -> None:
    """At the end of a finished statement a model that ends the line gives no text: the
    suggestion is the next line, asked for with the line ended."""
    backend = RepliesBackend(replies=["\n    z = 0\n", "y = x + 1\nreturn y"])
    suggestion = await complete("def f(a):\n    x = compute(a)█\n", "", backend=backend)
    assert suggestion is not None and suggestion.text == "\n    y = x + 1"
    assert len(backend.requests) == 2
    assert backend.requests[1].prefix == backend.requests[0].prefix + "\n    "
    # text on the cursor's line: one request, that text
    backend = RepliesBackend(replies=[" + 1\n    y = 2"])
    assert await text_of("def f(a):\n    x = compute(a)█\n", "", backend=backend) == " + 1"
    assert len(backend.requests) == 1
