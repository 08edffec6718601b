"""Code actions through the real server: safety (unparsable answers, stale versions), the command +
workspace/applyEdit path for clients that do not resolve, progress cancellation, $/cancelRequest
on a running command, and the fallback when no strong tier is configured.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from tests.e2e.lsp import lsp_session, shown_messages
from tests.e2e.test_actions import PY_SCHEDULE, PYTHON
from tests.e2e.test_actions_support import (
    FILL,
    GENERATE,
    STRONGER,
    action_session,
    apply_edit,
    list_actions,
    one,
    open_file,
    position_of,
    resolve,
)
from tests.fakemodel import FakeModelServer

TEXT = PYTHON.text
STUB = position_of(TEXT, "def area", 2)
COMPLEX = position_of(TEXT, "best = (worker, load)")
LONG_ANSWER = "```python\n" + PY_SCHEDULE + "\n```"


@pytest.fixture
def tiers() -> Iterator[tuple[FakeModelServer, FakeModelServer]]:
    with FakeModelServer() as fast, FakeModelServer() as strong:
        yield fast, strong


async def _streaming(client: LanguageClient) -> str:
    """Wait until the strong model's answer is arriving (a progress report); its token."""
    while True:
        for token, values in client.progress_reports.items():
            if any(v.kind == "report" for v in values):
                return str(token)
        await client.wait_for_notification(types.PROGRESS)


def _messages(client: LanguageClient) -> list[str]:
    return shown_messages(client)


async def test_unparsable_answer_is_refused_with_a_message(
        tiers: tuple[FakeModelServer, FakeModelServer], tmp_path: Path) -> None:
    fast, strong = tiers
    async with action_session(fast, strong, tmp_path) as client:
        uri = open_file(client, tmp_path, "plan.py", TEXT, "python")
        fast.reply = "```python\ndef area(radius: float) -> float:\n    return (math.pi *\n```"
        resolved = await resolve(client, one(await list_actions(client, uri, STUB), GENERATE))
        assert resolved.get("edit") is None
        assert len(fast.requests) == 1
        assert any("not applied" in m and "does not parse" in m for m in _messages(client))


async def test_prose_answer_without_fence_is_applied_as_clean_code(
        tiers: tuple[FakeModelServer, FakeModelServer], tmp_path: Path) -> None:
    fast, strong = tiers
    async with action_session(fast, strong, tmp_path) as client:
        uri = open_file(client, tmp_path, "plan.py", TEXT, "python")
        fast.reply = ("Sure! Here is the body of the function:\n\n"
                      "        return math.pi * radius * radius\n\n"
                      "This computes the area using the constant pi.")
        resolved = await resolve(client, one(await list_actions(client, uri, STUB), GENERATE))
        after = apply_edit(TEXT, resolved["edit"], uri, 1)
        assert '"""Area of a circle of the given radius."""\n    return math.pi * radius * ' \
            'radius\n\n\ndef normalise' in after


async def test_stale_version_is_not_run(tiers: tuple[FakeModelServer, FakeModelServer],
                                        tmp_path: Path) -> None:
    fast, strong = tiers
    async with action_session(fast, strong, tmp_path) as client:
        uri = open_file(client, tmp_path, "plan.py", TEXT, "python")
        action = one(await list_actions(client, uri, STUB), GENERATE)
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line=0, character=0),
                                  end=types.Position(line=0, character=0)),
                text="# edited\n")],
        ))
        resolved = await resolve(client, action)
        assert resolved.get("edit") is None
        assert fast.requests == []  # no model call for a stale action
        assert any("changed since the action was offered" in m for m in _messages(client))


async def test_edit_is_refused_when_the_document_changes_while_the_model_works(
        tiers: tuple[FakeModelServer, FakeModelServer], tmp_path: Path) -> None:
    fast, strong = tiers
    strong.reply, strong.first_chunk_delay = LONG_ANSWER, 0.5
    async with action_session(fast, strong, tmp_path) as client:
        uri = open_file(client, tmp_path, "plan.py", TEXT, "python")
        action = one(await list_actions(client, uri, COMPLEX), STRONGER, "fix")
        running = asyncio.ensure_future(resolve(client, action))
        await client.wait_for_notification(types.PROGRESS)  # begin: the model is at work
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=TEXT + "\n")],
        ))
        resolved = await running
        assert resolved.get("edit") is None
        assert len(strong.requests) == 1
        assert any("changed while the model was working" in m for m in _messages(client))


async def test_client_without_resolve_runs_the_command_and_gets_apply_edit(
        tiers: tuple[FakeModelServer, FakeModelServer], tmp_path: Path) -> None:
    fast, strong = tiers
    async with action_session(fast, strong, tmp_path, editor="emacs") as client:
        uri = open_file(client, tmp_path, "plan.py", TEXT, "python")
        action = one(await list_actions(client, uri, position_of(TEXT, "# TODO", 1)), FILL)
        command = action["command"]
        assert command["command"] == "spark.runAction"
        assert command["arguments"] == [action["data"]]
        fast.reply = PYTHON.fill_reply
        result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command=command["command"], arguments=command["arguments"]))
        assert result is None
        assert len(client.applied_edits) == 1
        applied = client.applied_edits[0]
        assert applied.label == action["title"]
        change = applied.edit.document_changes[0]
        assert change.text_document.version == 1
        edit = client.protocol._converter.unstructure(applied.edit)
        after = apply_edit(TEXT, edit, uri, 1)
        assert PYTHON.fill_result in after


async def test_progress_cancel_stops_the_strong_model(
        tiers: tuple[FakeModelServer, FakeModelServer], tmp_path: Path) -> None:
    fast, strong = tiers
    strong.reply, strong.chunk_delay = LONG_ANSWER, 0.05  # ~10 s to stream it all
    async with action_session(fast, strong, tmp_path) as client:
        uri = open_file(client, tmp_path, "plan.py", TEXT, "python")
        action = one(await list_actions(client, uri, COMPLEX), STRONGER, "improve")
        running = asyncio.ensure_future(resolve(client, action))
        token = await _streaming(client)
        assert client.progress_reports[token][0].cancellable is True
        client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
        resolved = await asyncio.wait_for(running, 5)
        assert resolved.get("edit") is None
        assert await asyncio.to_thread(strong.wait_for_disconnect, 5.0)
        assert strong.tokens_sent < len(LONG_ANSWER) // strong.chunk_size
        assert "Cancelled." in _messages(client)
        assert client.progress_reports[token][-1].kind == "end"


async def test_cancel_request_stops_a_running_command(
        tiers: tuple[FakeModelServer, FakeModelServer], tmp_path: Path) -> None:
    fast, strong = tiers
    strong.reply, strong.chunk_delay = LONG_ANSWER, 0.05
    async with action_session(fast, strong, tmp_path, editor="emacs") as client:
        uri = open_file(client, tmp_path, "plan.py", TEXT, "python")
        action = one(await list_actions(client, uri, COMPLEX), STRONGER, "improve")
        msg_id = "run-action-1"
        future = client.protocol.send_request(types.WORKSPACE_EXECUTE_COMMAND,
                                              types.ExecuteCommandParams(
                                                  command="spark.runAction",
                                                  arguments=action["command"]["arguments"]),
                                              msg_id=msg_id)
        await _streaming(client)
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
        with pytest.raises(JsonRpcException) as error:
            await asyncio.wait_for(asyncio.wrap_future(future), 5)
        assert error.value.code == types.LSPErrorCodes.RequestCancelled
        assert await asyncio.to_thread(strong.wait_for_disconnect, 5.0)
        assert client.applied_edits == []


async def test_without_strong_tier_the_fast_tier_answers_and_the_title_says_so(
        tiers: tuple[FakeModelServer, FakeModelServer], tmp_path: Path) -> None:
    fast, _ = tiers
    async with action_session(fast, None, tmp_path, editor="neovim") as client:
        uri = open_file(client, tmp_path, "plan.py", TEXT, "python")
        actions = await list_actions(client, uri, COMPLEX)
        action = one(actions, STRONGER, "explain")
        assert action["title"].endswith("(fast tier: no strong model configured)")
        fast.reply = "```python\n# Assigns each job to the least loaded worker.\n```"
        resolved = await resolve(client, action)
        assert resolved["edit"].get("changeAnnotations") is None  # Neovim would not ask
        after = apply_edit(TEXT, resolved["edit"], uri, 1)
        assert "# Assigns each job to the least loaded worker.\n" \
               "def schedule(" in after
        assert len(fast.requests) == 1


async def test_only_filter_and_bad_data(tiers: tuple[FakeModelServer, FakeModelServer],
                                        tmp_path: Path) -> None:
    fast, strong = tiers
    async with action_session(fast, strong, tmp_path) as client:
        uri = open_file(client, tmp_path, "plan.py", TEXT, "python")
        assert await list_actions(client, uri, STUB, only=["quickfix"]) == []
        only_ours = await list_actions(client, uri, COMPLEX, only=["refactor.rewrite.spark"])
        assert {a["kind"] for a in only_ours} == {STRONGER}
        with pytest.raises(JsonRpcException) as error:
            await client.code_action_resolve_async(types.CodeAction(
                title="x", data={"uri": uri, "kind": "nope"}))
        assert error.value.code == types.ErrorCodes.InvalidParams
        assert fast.requests == [] and strong.requests == []


async def test_answer_cut_mid_stream_is_refused(tiers: tuple[FakeModelServer, FakeModelServer],
                                                tmp_path: Path) -> None:
    fast, strong = tiers
    strong.reply, strong.fault = LONG_ANSWER, "cut"  # the connection drops half-way
    async with action_session(fast, strong, tmp_path) as client:
        uri = open_file(client, tmp_path, "plan.py", TEXT, "python")
        action = one(await list_actions(client, uri, COMPLEX), STRONGER, "improve")
        resolved = await resolve(client, action)
        assert resolved.get("edit") is None
        assert len(strong.requests) == 1
        assert any("not applied" in m and "cut off" in m for m in _messages(client))


async def test_fill_in_the_middle_fast_tier_generates_the_body(
        tiers: tuple[FakeModelServer, FakeModelServer], tmp_path: Path) -> None:
    fast, _ = tiers
    settings = {"fast": {"provider": "ollama", "url": fast.url, "model": "qwen2.5-coder:1.5b"}}
    fast.reply = "return math.pi * radius ** 2\n\n\ndef unrelated():\n    pass"
    async with lsp_session(settings, tmp_path) as client:
        uri = open_file(client, tmp_path, "plan.py", TEXT, "python")
        resolved = await resolve(client, one(await list_actions(client, uri, STUB), GENERATE))
        after = apply_edit(TEXT, resolved["edit"], uri, 1)
        assert PYTHON.stub_result + "\n\ndef normalise" in after
        (request,) = fast.requests
        assert request.path == "/api/generate"
        assert request.body["prompt"].endswith(
            'float:\n    """Area of a circle of the given radius."""\n    ')
        assert request.body["suffix"].startswith("\n\n\ndef normalise(")
        assert request.body["options"]["num_predict"] == 1024  # actions.max_tokens
