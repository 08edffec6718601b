"""Fill template for a completion-style model: each hole continued in place (bottom-up), a TODO
comment and the stub after it one span, each answer stopped at its block's end and checked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from spark_lsp.actions.edits import TextChange, apply
from spark_lsp.actions.kinds import FILL_TEMPLATE, ActionData
from spark_lsp.actions.service import ActionService
from spark_lsp.documents.store import DocumentStore
from spark_lsp.model_request import ModelRequest
from spark_lsp.settings import Settings
from tests.unit.test_actions_service import FakeRouter

URI = "file:///work/fill.py"
TEXT = '''def load(path):
    """Read the file."""
    if not path:
        # TODO: give up
        ...
    # TODO: read it
    return text
'''


@dataclass
class Continuing:
    """A completion-style backend answering each request with the next reply."""

    replies: list[str]
    provider: str = "scripted"
    prompt_style: str = "fim_template"
    requests: list[ModelRequest] = field(default_factory=list)

    async def _chunks(self, request: ModelRequest) -> AsyncIterator[str]:
        self.requests.append(request)
        reply = self.replies[len(self.requests) - 1]
        for i in range(0, len(reply), 4):
            yield reply[i : i + 4]

    def stream(self, request: ModelRequest) -> AsyncIterator[str]:
        return self._chunks(request)

    async def ping(self) -> str:
        return "ok"

    async def aclose(self) -> None:
        pass


async def _fill(replies: list[str]) -> tuple[str | None, str | None, Continuing]:
    store = DocumentStore()
    store.open(URI, "python", 1, TEXT)
    backend = Continuing(replies)
    action = ActionData(URI, 1, (3, 10), (3, 10), FILL_TEMPLATE, "fill")
    outcome = await ActionService().run(action, store.snapshot(URI), lambda: 1, Settings(),
                                        FakeRouter(backend))  # type: ignore[arg-type]
    if outcome.edit is None:
        return None, outcome.message, backend
    snapshot = store.snapshot(URI)
    assert snapshot is not None
    change = TextChange(outcome.edit.start, outcome.edit.end, outcome.edit.new_text)
    return apply(snapshot, change), None, backend


async def test_each_hole_is_continued_in_place_last_first() -> None:
    # The model runs on past each hole: into the code after it, and out of the block.
    after, message, backend = await _fill([
        "\n    text = open(path).read()\n    return text\n",
        "\n        raise ValueError(path)\n    # TODO: read it\n",
    ])
    assert message is None
    assert after == TEXT.replace("        # TODO: give up\n        ...\n",
                                 "        raise ValueError(path)\n").replace(
        "    # TODO: read it\n", "    text = open(path).read()\n")
    first, second = backend.requests
    # The TODO comment is the instruction; the model writes the indentation itself.
    assert first.prompt.endswith("    # TODO: read it")
    assert second.prompt.endswith("        # TODO: give up")


async def test_a_junk_continuation_is_refused() -> None:
    after, message, _ = await _fill(["\n    # TODO\n    # TODO\n", "\n        pass\n"])
    assert after is None and message is not None and "only comments" in message
