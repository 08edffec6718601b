"""The action service without a server or network: listing, running through a scripted backend,
version checks, model failures, progress and cancellation, routing by tier."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

from spark_lsp.actions.kinds import ASK_STRONGER, FILL_TEMPLATE, GENERATE_FUNCTION, ActionData
from spark_lsp.actions.service import ActionService, Outcome, cut_off
from spark_lsp.documents.store import DocumentStore
from spark_lsp.model_request import ModelRequest
from spark_lsp.models.base import ModelServerError
from spark_lsp.models.router import Route, tier_for_action
from spark_lsp.settings import ModelSettings, Settings
from tests.e2e.test_actions import PY_SCHEDULE

URI = "file:///work/plan.py"
TEXT = ('def area(r, label="😀"): pass\n\n\n' + PY_SCHEDULE + "\n")


@dataclass
class ScriptedBackend:
    """A backend that streams `reply` in chunks; it can wait on a gate or raise an error."""

    reply: str = "return r * r"
    error: Exception | None = None
    gate: asyncio.Event | None = None
    provider: str = "scripted"
    prompt_style: str = "chat"
    requests: list[ModelRequest] = field(default_factory=list)
    closed: int = 0

    async def _chunks(self, request: ModelRequest) -> AsyncIterator[str]:
        self.requests.append(request)
        try:
            for i in range(0, len(self.reply), 5):
                if self.gate is not None:
                    await self.gate.wait()
                yield self.reply[i : i + 5]
            if self.error is not None:
                raise self.error
        finally:
            self.closed += 1

    def stream(self, request: ModelRequest) -> AsyncIterator[str]:
        return self._chunks(request)

    async def ping(self) -> str:
        return "ok"

    async def aclose(self) -> None:
        pass


class FakeRouter:
    def __init__(self, fast: ScriptedBackend, strong: ScriptedBackend | None = None) -> None:
        self.fast, self.strong = fast, strong

    @property
    def has_strong(self) -> bool:
        return self.strong is not None

    def route_for_action(self, kind: str, score: float = 0.0,
                         threshold: float = float("inf")) -> Route:
        tier = tier_for_action(kind, score, threshold)
        if tier == "strong" and self.strong is not None:
            return Route("strong", self.strong, ModelSettings(model="strong-model"))  # type: ignore[arg-type]
        return Route("fast", self.fast, ModelSettings(model="fast-model"),  # type: ignore[arg-type]
                     fell_back=tier == "strong")


@dataclass
class RecordingProgress:
    events: list[str] = field(default_factory=list)
    cancel: Callable[[], None] | None = None

    async def begin(self, title: str, message: str, on_cancel: Callable[[], None]) -> None:
        self.events.append(f"begin:{title}")
        self.cancel = on_cancel

    def report(self, message: str) -> None:
        self.events.append("report")

    def end(self, message: str) -> None:
        self.events.append(f"end:{message}")


@pytest.fixture
def store() -> DocumentStore:
    documents = DocumentStore()
    documents.open(URI, "python", 1, TEXT)
    return documents


def data(kind: str, task: str, line: int, character: int, version: int = 1) -> ActionData:
    return ActionData(URI, version, (line, character), (line, character), kind, task)


async def run(service: ActionService, store: DocumentStore, action: ActionData,
              router: FakeRouter, progress: RecordingProgress | None = None,
              request_id: object = None) -> Outcome:
    def version() -> int | None:
        document = store.get(URI)
        return document.version if document else None

    return await service.run(action, store.snapshot(URI), version, Settings(),
                             router, progress, request_id)  # type: ignore[arg-type]


def test_listing_reads_the_tree_only(store: DocumentStore) -> None:
    snap = store.snapshot(URI)
    assert snap is not None
    offers = ActionService().offers(snap, (0, 5), (0, 5), Settings(), has_strong=False)
    assert [(o.data.kind, o.data.task) for o in offers] == [
        (GENERATE_FUNCTION, "body"), (FILL_TEMPLATE, "fill")]
    complex_offers = ActionService().offers(snap, (10, 8), (10, 8), Settings(), has_strong=False)
    assert [o.title for o in complex_offers] == [
        "Spark: Ask stronger model: improve (fast tier: no strong model configured)",
        "Spark: Ask stronger model: fix (fast tier: no strong model configured)",
        "Spark: Ask stronger model: explain as a comment (fast tier: no strong model configured)"]
    assert ActionService().offers(snap, (10, 8), (10, 8), Settings(actions=type(
        Settings().actions)(stronger_threshold=1000)), has_strong=True) == []


async def test_edit_positions_are_utf16_and_versioned(store: DocumentStore) -> None:
    fast = ScriptedBackend(reply="return r * r")
    outcome = await run(ActionService(), store, data(GENERATE_FUNCTION, "body", 0, 5),
                        FakeRouter(fast))
    assert outcome.edit is not None and outcome.message is None
    colon = TEXT.index(":")  # python index; the emoji counts two UTF-16 units
    assert outcome.edit.start == (0, colon + 1 + 1)
    assert outcome.edit.new_text == "\n    return r * r"
    assert fast.requests[0].deadline_ms == Settings().actions.timeout_ms  # not the model's
    assert outcome.edit.version == 1
    assert len(fast.requests) == 1 and fast.requests[0].system


async def test_stale_action_is_not_run(store: DocumentStore) -> None:
    fast = ScriptedBackend()
    store.replace(URI, 2, TEXT)
    outcome = await run(ActionService(), store, data(GENERATE_FUNCTION, "body", 0, 5),
                        FakeRouter(fast))
    assert outcome.edit is None and "changed since" in (outcome.message or "")
    assert fast.requests == []


async def test_action_that_no_longer_applies(store: DocumentStore) -> None:
    outcome = await run(ActionService(), store, data(GENERATE_FUNCTION, "body", 10, 8),
                        FakeRouter(ScriptedBackend()))
    assert outcome.edit is None and "no longer applies" in (outcome.message or "")


async def test_document_changed_while_the_model_worked(store: DocumentStore) -> None:
    gate = asyncio.Event()
    fast = ScriptedBackend(gate=gate)
    running = asyncio.ensure_future(run(ActionService(), store,
                                        data(GENERATE_FUNCTION, "body", 0, 5), FakeRouter(fast)))
    await asyncio.sleep(0)
    store.edit(URI, 2, (5, 0), (5, 0), "# typed\n")
    gate.set()
    outcome = await running
    assert outcome.edit is None and "changed while the model was working" in (outcome.message or "")


async def test_model_failure_is_a_message(store: DocumentStore) -> None:
    fast = ScriptedBackend(reply="", error=ModelServerError("HTTP 500: boom", 500))
    outcome = await run(ActionService(), store, data(GENERATE_FUNCTION, "body", 0, 5),
                        FakeRouter(fast))
    assert outcome.edit is None
    assert outcome.message is not None and "fast model failed" in outcome.message


async def test_stronger_goes_to_the_strong_tier_with_progress(store: DocumentStore) -> None:
    fast, strong = ScriptedBackend(), ScriptedBackend(reply="```python\n" + PY_SCHEDULE + "\n```")
    progress = RecordingProgress()
    outcome = await run(ActionService(), store, data(ASK_STRONGER, "fix", 10, 8),
                        FakeRouter(fast, strong), progress)
    assert outcome.edit is not None
    assert fast.requests == [] and len(strong.requests) == 1
    assert progress.events[0] == "begin:Spark: Ask stronger model: fix"
    assert "report" in progress.events and progress.events[-1] == "end:done"


async def test_generate_reports_progress_too(store: DocumentStore) -> None:
    progress = RecordingProgress()
    await run(ActionService(), store, data(GENERATE_FUNCTION, "body", 0, 5),
              FakeRouter(ScriptedBackend()), progress)
    assert progress.events[0] == "begin:Spark: Generate function `area`"
    assert progress.events[-1] == "end:done"


async def test_cancelling_the_progress_stops_the_model(store: DocumentStore) -> None:
    gate = asyncio.Event()
    strong = ScriptedBackend(reply="x" * 100, gate=gate)
    progress = RecordingProgress()
    action = data(ASK_STRONGER, "improve", 10, 8)
    running = asyncio.ensure_future(run(ActionService(), store, action,
                                        FakeRouter(ScriptedBackend(), strong), progress))
    while not strong.requests:
        await asyncio.sleep(0)
    assert progress.cancel is not None
    progress.cancel()
    outcome = await running
    assert outcome.cancelled and outcome.edit is None
    assert strong.closed == 1
    assert progress.events[-1] == "end:cancelled"


async def test_cancel_request_cancels_the_running_action(store: DocumentStore) -> None:
    gate = asyncio.Event()
    strong = ScriptedBackend(gate=gate)
    service = ActionService()
    running = asyncio.ensure_future(run(service, store, data(ASK_STRONGER, "improve", 10, 8),
                                        FakeRouter(ScriptedBackend(), strong), request_id=7))
    while not strong.requests:
        await asyncio.sleep(0)
    assert service.cancel_request(7)
    with pytest.raises(asyncio.CancelledError):
        await running
    assert strong.closed == 1
    assert not service.cancel_request(7)


def test_cut_off_answers() -> None:
    assert cut_off("```py\nx = 1\n```", 1.0, 5000) is None
    assert "time limit" in (cut_off("```py\nx = 1\n```", 4.99, 5000) or "")
    assert "never ends" in (cut_off("```py\nx = 1\n", 1.0, 5000) or "")
    assert cut_off("x = 1", 100.0, 0) is None  # no time limit


async def test_a_cut_off_answer_is_not_applied(store: DocumentStore) -> None:
    fast = ScriptedBackend(reply="```python\ndef area(r, label='x'):\n    return r")
    outcome = await run(ActionService(), store, data(GENERATE_FUNCTION, "body", 0, 5),
                        FakeRouter(fast))
    assert outcome.edit is None and "cut off" in (outcome.message or "")
