"""The completion service: cache before model, supersede, cancel, join, deadline, debounce, faults.
No server, no network: a canned backend that records its streams."""

from __future__ import annotations

import asyncio
import time

import pytest

from spark_lsp.completion.debounce import Debouncer
from spark_lsp.completion.service import CompletionService
from spark_lsp.completion.types import Answer, CompletionRequest
from spark_lsp.documents.store import DocumentSnapshot, DocumentStore
from spark_lsp.models.base import ModelServerError
from spark_lsp.models.router import Route
from tests.unit.test_completion_cases import CannedBackend, settings_for

URI = "file:///w/a.py"
SOURCE = "def add(a, b):\n    return \n"  # cursor at (1, 11)


class Editor:
    """A document plus a service, typed into as an editor would."""

    def __init__(self, backend: CannedBackend, debounce_ms: int = 0) -> None:
        self.store = DocumentStore()
        self.store.open(URI, "python", 1, SOURCE)
        self.version = 1
        self.backend = backend
        self.service = CompletionService()
        self.settings = settings_for(debounce_ms=debounce_ms)
        self.route = Route("fast", backend, self.settings.fast)  # type: ignore[arg-type]

    def type(self, text: str, line: int, character: int) -> None:
        self.version += 1
        self.store.edit(URI, self.version, (line, character), (line, character), text)

    def snapshot(self) -> DocumentSnapshot:
        snapshot = self.store.snapshot(URI)
        assert snapshot is not None
        return snapshot

    def ask(self, line: int = 1, character: int = 11, deadline_ms: float | None = None
            ) -> asyncio.Task[Answer]:
        document = self.store.get(URI)
        assert document is not None
        return asyncio.ensure_future(self.service.complete(
            URI, document.buffer.lines, self.begin, line, character, self.settings,
            deadline_ms=deadline_ms))

    def begin(self) -> CompletionRequest:
        return CompletionRequest(self.snapshot(), self.settings, self.route)


async def test_model_answer_then_the_same_place_from_the_cache() -> None:
    editor = Editor(CannedBackend("a + b\n"))
    first = await editor.ask()
    assert first.suggestion is not None and first.suggestion.text == "a + b"
    assert (first.source, first.status()["source"]) == ("model", "model")
    again = await editor.ask()
    assert again.source == "cache" and again.suggestion is not None
    assert again.suggestion.text == "a + b"
    assert len(editor.backend.requests) == 1


async def test_typing_through_the_suggestion_makes_no_model_call() -> None:
    editor = Editor(CannedBackend("a + b\n"))
    await editor.ask()
    for i, ch in enumerate("a + "):
        editor.type(ch, 1, 11 + i)
        answer = await editor.ask(1, 12 + i)
        assert answer.source == "cache"
        assert answer.suggestion is not None
        assert answer.suggestion.text == "a + b"[i + 1 :]
        assert answer.suggestion.character == 12 + i
    assert len(editor.backend.requests) == 1


async def test_a_newer_request_supersedes_and_closes_the_older_stream() -> None:
    editor = Editor(CannedBackend("a + b\n" * 50, chunk=1, delay=0.05))
    first = editor.ask()
    await editor.backend.started.wait()
    editor.type("x", 1, 11)
    second = editor.ask(1, 12)
    answer = await first
    assert answer.superseded and answer.suggestion is None
    assert editor.backend.closed == 1  # closed before the first request even answered
    second.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second
    assert editor.backend.closed == 2
    assert editor.service.inflight == 0


async def test_cancelling_the_request_closes_the_model_stream() -> None:
    editor = Editor(CannedBackend("a + b\n", chunk=1, delay=10))
    request = editor.ask()
    await editor.backend.started.wait()
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request
    assert editor.backend.closed == 1  # closed by the time the cancellation reached the caller
    assert editor.service.inflight == 0


async def test_requests_for_the_same_place_share_one_generation() -> None:
    editor = Editor(CannedBackend("a + b\n", delay=0.01))
    first, second = editor.ask(), editor.ask()
    answers = await asyncio.gather(first, second)
    assert [a.suggestion.text for a in answers if a.suggestion] == ["a + b", "a + b"]
    assert len(editor.backend.requests) == 1


async def test_one_of_two_waiters_cancelled_leaves_the_generation_running() -> None:
    editor = Editor(CannedBackend("a + b\n", delay=0.02))
    first, second = editor.ask(), editor.ask()
    await editor.backend.started.wait()
    first.cancel()
    answer = await second
    assert answer.suggestion is not None and answer.suggestion.text == "a + b"


async def test_deadline_answers_with_what_is_ready_and_keeps_generating() -> None:
    editor = Editor(CannedBackend("a + b + c + d\n", chunk=2, delay=0.03))
    started = time.perf_counter()
    answer = await editor.ask(deadline_ms=100)
    assert time.perf_counter() - started < 0.5
    assert answer.suggestion is not None
    partial = answer.suggestion.text
    assert partial and "a + b + c + d".startswith(partial) and partial != "a + b + c + d"
    while editor.service.inflight:
        await asyncio.sleep(0.01)
    full = await editor.ask(deadline_ms=100)
    assert full.source == "cache" and full.suggestion is not None
    assert full.suggestion.text == "a + b + c + d"
    assert len(editor.backend.requests) == 1


def empty_body(editor: Editor) -> None:
    """`def add(a, b):` with an empty body line: the cursor at (1, 4) asks for a block."""
    editor.version += 1
    editor.store.edit(URI, editor.version, (1, 4), (1, 11), "")


async def test_an_inline_request_gets_the_first_whole_lines_and_the_rest_fills_the_cache(
) -> None:
    # A slow model that does not stop soon: the first line is there after 3 chunks (~0.3 s),
    # the whole reply after 40 (~4 s, or longer on a busy machine).
    reply = "x = a + b\n" + "".join(f"    y{i} = x + {i}\n" for i in range(12))
    editor = Editor(CannedBackend(reply, chunk=4, delay=0.1))
    empty_body(editor)
    answer = await editor.ask(1, 4)
    assert answer.suggestion is not None
    shown = answer.suggestion.text
    assert shown.startswith("x = a + b") and reply.startswith(shown)
    assert shown.count("\n") < 12  # whole lines only, long before the reply ends
    assert editor.service.inflight == 1  # the generation goes on
    while editor.service.inflight:
        await asyncio.sleep(0.05)
    again = await editor.ask(1, 4)
    assert again.source == "cache" and again.suggestion is not None
    assert again.suggestion.text.count("\n") == 12
    assert len(editor.backend.requests) == 1


async def test_a_quick_model_answers_whole_before_the_first_answer_time() -> None:
    editor = Editor(CannedBackend("x = a + b\n    y = x\n", chunk=4))
    empty_body(editor)
    answer = await editor.ask(1, 4)
    assert answer.suggestion is not None and answer.suggestion.text == "x = a + b\n    y = x"
    assert answer.source == "model" and not editor.service.inflight


async def test_a_burst_of_keystrokes_reaches_the_model_once_after_the_last() -> None:
    editor = Editor(CannedBackend("zzz\n", delay=0.02), debounce_ms=40)
    alone = await editor.ask()  # a keystroke after a pause goes at once
    assert len(editor.backend.requests) == 1 and not alone.superseded
    await asyncio.sleep(0.05)
    tasks = []
    for i, ch in enumerate("xyz"):
        editor.type(ch, 1, 11 + i)
        tasks.append(editor.ask(1, 12 + i))
        await asyncio.sleep(0.005)  # keystrokes 5 ms apart
    answers = await asyncio.gather(*tasks)
    assert [a.superseded for a in answers] == [True, True, False]
    # the burst's first keystroke went at once and was cancelled; the middle one never went
    assert len(editor.backend.requests) == 3
    assert answers[2].latency_ms >= 40


def test_debouncer_waits_only_inside_a_burst() -> None:
    now = [0.0]
    debouncer = Debouncer(clock=lambda: now[0])
    assert debouncer.delay_for("a", 0.03) == 0.0
    now[0] = 0.01
    assert debouncer.delay_for("a", 0.03) == 0.03
    assert debouncer.delay_for("b", 0.03) == 0.0  # per document
    now[0] = 0.5
    assert debouncer.delay_for("a", 0.03) == 0.0
    now[0] = 0.51
    assert debouncer.delay_for("a", 0.0) == 0.0  # 0 turns it off


async def test_a_model_fault_is_no_suggestion() -> None:
    editor = Editor(CannedBackend("a + b\n", chunk=1,
                                  error=ModelServerError("boom", status=500)))
    answer = await editor.ask()
    assert answer.suggestion is None and answer.source == "none" and not answer.superseded
    assert editor.backend.closed == 1


async def test_a_misconfigured_model_is_no_suggestion() -> None:
    editor = Editor(CannedBackend("a + b\n"))

    def broken() -> CompletionRequest:
        raise ValueError("provider 'x' needs a url")

    snapshot = editor.snapshot()
    answer = await editor.service.complete(URI, snapshot.lines, broken, 1, 11, editor.settings)
    assert answer.suggestion is None


async def test_close_cancels_everything_running() -> None:
    editor = Editor(CannedBackend("a + b\n", chunk=1, delay=10))
    editor.ask(deadline_ms=10)
    await editor.backend.started.wait()
    await editor.service.aclose()
    assert editor.backend.closed == 1 and editor.service.inflight == 0


async def test_typing_along_with_a_streaming_suggestion_keeps_it() -> None:
    editor = Editor(CannedBackend("compute(a, b)\n", chunk=2, delay=0.02))
    first = editor.ask()
    while not editor.backend.sent:  # the model has streamed "co"
        await asyncio.sleep(0.005)
    editor.type("c", 1, 11)
    second = await editor.ask(1, 12)
    assert second.suggestion is not None and second.suggestion.text == "ompute(a, b)"
    assert second.suggestion.character == 12 and second.source == "model"
    assert not (await first).superseded
    assert len(editor.backend.requests) == 1


async def test_typing_against_a_streaming_suggestion_replaces_it() -> None:
    editor = Editor(CannedBackend("compute(a, b)\n", chunk=2, delay=0.02))
    first = editor.ask()
    while not editor.backend.sent:
        await asyncio.sleep(0.005)
    editor.type("x", 1, 11)
    second = editor.ask(1, 12)
    assert (await first).superseded
    await second
    assert len(editor.backend.requests) == 2 and editor.backend.closed == 2


async def test_closing_the_document_cancels_its_generation() -> None:
    editor = Editor(CannedBackend("a + b\n", chunk=1, delay=10))
    request = editor.ask()
    await editor.backend.started.wait()
    editor.service.document_closed(URI)
    assert (await request).superseded
    assert editor.backend.closed == 1 and editor.service.inflight == 0


async def test_changing_the_model_empties_the_cache() -> None:
    editor = Editor(CannedBackend("a + b\n"))
    await editor.ask()
    editor.settings = settings_for(model="another")
    editor.backend.reply = "a * b\n"
    answer = await editor.ask()
    assert answer.source == "model" and answer.suggestion is not None
    assert answer.suggestion.text == "a * b"


async def test_a_generation_whose_last_waiter_left_is_not_joined() -> None:
    """An editor cancels its previous request before it sends the next one: the generation that
    request was waiting for is cancelled, and while its stream closes, a keystroke that agrees
    with what it streamed must not join it (it would be answered nothing)."""

    class SlowToClose(CannedBackend):
        async def stream(self, request):  # type: ignore[no-untyped-def, override]
            try:
                async for piece in super().stream(request):
                    yield piece
            finally:
                await asyncio.sleep(0.05)  # as a stream waiting for its connection to close

    editor = Editor(SlowToClose("compute(a, b)\n", chunk=2, delay=0.02))
    first = editor.ask()
    while not editor.backend.sent:
        await asyncio.sleep(0.005)
    first.cancel()  # the editor's $/cancelRequest for it
    await asyncio.sleep(0)
    editor.type("c", 1, 11)
    second = await editor.ask(1, 12)
    assert second.suggestion is not None and not second.superseded
    assert len(editor.backend.requests) == 2


async def test_a_generation_keeps_the_route_and_settings_it_started_with() -> None:
    """What a generation works on is frozen when it starts, before its debounce wait: a
    settings change meanwhile (another model) does not reach it."""
    editor = Editor(CannedBackend("a + b\n"), debounce_ms=40)
    await editor.ask()  # the next request comes within 40 ms: it waits
    editor.type("z", 1, 11)  # not what the suggestion has: the model is asked again
    waiting = editor.ask(1, 12)
    await asyncio.sleep(0)
    other = CannedBackend("never\n")
    editor.route = Route("fast", other, editor.settings.fast)  # type: ignore[arg-type]
    editor.settings = settings_for(debounce_ms=0)
    answer = await waiting
    assert answer.suggestion is not None and answer.suggestion.text == "a + b"
    assert other.requests == [] and len(editor.backend.requests) == 2
