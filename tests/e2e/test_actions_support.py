"""Helpers for the code-action end-to-end tests: two model tiers, raw code-action requests,
and applying a returned workspace edit to text."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.lsp import lsp_session, open_document
from tests.fakemodel import FakeModelServer

GENERATE = "refactor.rewrite.spark.generateFunction"
FILL = "refactor.rewrite.spark.fillTemplate"
STRONGER = "refactor.rewrite.spark.askStronger"
KEY = "test-key-123"


def tier_settings(fast: FakeModelServer, strong: FakeModelServer | None) -> dict[str, Any]:
    """The fast tier on the OpenAI wire, the strong tier on the Anthropic wire."""
    settings: dict[str, Any] = {
        "fast": {"provider": "openai", "url": fast.url + "/v1", "model": "fast-model"},
        "completion": {"debounce_ms": 0},
    }
    if strong is not None:
        settings["strong"] = {"provider": "anthropic", "url": strong.url + "/v1",
                              "model": "strong-model", "api_key_env": "SPARK_TEST_KEY"}
    return settings


@asynccontextmanager
async def action_session(fast: FakeModelServer, strong: FakeModelServer | None, root: Path,
                         editor: str = "vscode") -> AsyncIterator[LanguageClient]:
    async with lsp_session(tier_settings(fast, strong), root, editor=editor,
                           env={"SPARK_TEST_KEY": KEY}) as client:
        yield client


def open_file(client: LanguageClient, root: Path, name: str, text: str, language: str) -> str:
    uri = (root / name).as_uri()
    open_document(client, uri, text, language)
    return uri


def position_of(text: str, needle: str, offset: int = 0) -> tuple[int, int]:
    """(line, character) of `needle` in `text` (plus `offset` characters); fails if absent."""
    index = text.index(needle) + offset
    line = text.count("\n", 0, index)
    return line, index - (text.rfind("\n", 0, index) + 1)


async def raw_request(client: LanguageClient, method: str, params: Any) -> Any:
    """A request whose result stays plain JSON (lsprotocol decodes a CodeAction that carries a
    command as a Command, losing its fields)."""
    msg_id = str(uuid.uuid4())
    future = client.protocol.send_request(method, params, msg_id=msg_id)
    client.protocol._result_types.pop(msg_id, None)
    return plain(await asyncio.wrap_future(future))


def plain(value: Any) -> Any:
    """pygls's raw JSON objects (namedtuples) as dicts and lists."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


async def list_actions(client: LanguageClient, uri: str, start: tuple[int, int],
                       end: tuple[int, int] | None = None,
                       only: list[str] | None = None) -> list[dict[str, Any]]:
    end = end or start
    params = types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line=start[0], character=start[1]),
                          end=types.Position(line=end[0], character=end[1])),
        context=types.CodeActionContext(diagnostics=[], only=only),  # type: ignore[arg-type]
    )
    result = await raw_request(client, types.TEXT_DOCUMENT_CODE_ACTION, params)
    return list(result or [])


def kinds(actions: list[dict[str, Any]]) -> list[str]:
    return [a.get("kind", "") for a in actions]


def one(actions: list[dict[str, Any]], kind: str, task: str | None = None) -> dict[str, Any]:
    found = [a for a in actions if a.get("kind") == kind
             and (task is None or a["data"]["task"] == task)]
    assert len(found) == 1, f"expected one {kind} {task or ''} action, got {actions}"
    return found[0]


async def resolve(client: LanguageClient, action: dict[str, Any]) -> dict[str, Any]:
    params = client.protocol._converter.structure(action, types.CodeAction)
    return dict(await raw_request(client, types.CODE_ACTION_RESOLVE, params))


def apply_edit(text: str, edit: dict[str, Any], uri: str, version: int) -> str:
    """Apply a workspace edit (versioned documentChanges, ASCII text) to `text`."""
    changes = edit["documentChanges"]
    assert len(changes) == 1
    document = changes[0]
    assert document["textDocument"] == {"uri": uri, "version": version}
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    for item in sorted(document["edits"], key=lambda e: (e["range"]["start"]["line"],
                                                         e["range"]["start"]["character"]),
                       reverse=True):
        start = offsets[item["range"]["start"]["line"]] + item["range"]["start"]["character"]
        end = offsets[item["range"]["end"]["line"]] + item["range"]["end"]["character"]
        text = text[:start] + item["newText"] + text[end:]
    return text


def user_prompt(request_body: dict[str, Any]) -> str:
    """The user text of a chat request (OpenAI or Anthropic wire)."""
    return "\n".join(m["content"] for m in request_body["messages"] if m["role"] == "user")
