"""A hostile repository, model and editor against the real server: links to `.env`, to excluded
files and to the server's own stdin, FIFOs named `*.py` and `sub/.gitignore`, a 15k-line
`.gitignore`; answers that are huge, endless or full of control characters; a NUL typed and
deleted. Nothing hangs, nothing leaks, the document recovers."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.lsp import inline_completion, lsp_session, open_document
from tests.e2e.test_actions_support import (
    GENERATE,
    action_session,
    list_actions,
    one,
    open_file,
    position_of,
    resolve,
    tier_settings,
)
from tests.fakemodel import FakeModelServer

CANARY_ENV = "CANARY_LINKED_ENV_a4c1"
CANARY_SECRETS = "CANARY_LINKED_SECRETS_9d2e"

WORK = f"""import notes
import app_config


def handler(event):
    value = notes.TOKEN + app_config.KEY
    return value


def other():
{"    "}
"""


def hostile_repo(root: Path) -> None:
    (root / "config" / "secrets").mkdir(parents=True)
    (root / "sub").mkdir()
    (root / ".env").write_text(f"TOKEN = '{CANARY_ENV}'\n")
    (root / "config" / "secrets" / "x.py").write_text(f"KEY = '{CANARY_SECRETS}'\n")
    os.symlink(root / ".env", root / "notes.py")
    os.symlink(root / "config" / "secrets" / "x.py", root / "app_config.py")
    os.symlink("/proc/self/fd/0", root / "stdin.py")
    os.mkfifo(root / "pipe.py")
    os.mkfifo(root / "sub" / ".gitignore")
    (root / ".gitignore").write_text("".join(f"generated/file_{i}_*.tmp\n" for i in range(15_000)))
    (root / "helpers.py").write_text("def helper(x):\n    return x\n")
    (root / "sub" / "work.py").write_text(WORK)


def settings(fake: FakeModelServer) -> dict[str, object]:
    return {"fast": {"provider": "ollama", "url": fake.url, "model": "m", "timeout_ms": 5000},
            "completion": {"debounce_ms": 0}}


@pytest.fixture
async def repo_client(fake_model: FakeModelServer, tmp_path: Path
                      ) -> AsyncIterator[LanguageClient]:
    hostile_repo(tmp_path)
    async with lsp_session(settings(fake_model), tmp_path) as client:
        yield client


def bodies(fake: FakeModelServer) -> str:
    return "\n".join(json.dumps(r.body, ensure_ascii=False) for r in fake.requests)


async def test_links_fifos_and_a_huge_gitignore_neither_hang_nor_leak(
        repo_client: LanguageClient, fake_model: FakeModelServer, tmp_path: Path) -> None:
    client = repo_client
    uri = (tmp_path / "sub" / "work.py").as_uri()
    open_document(client, uri, WORK)
    row = WORK.splitlines().index("def other():") + 1
    first = await asyncio.wait_for(inline_completion(client, uri, row, 4), 60)
    assert first is not None, "the first completion in sub/ got no answer"
    latencies = []
    for _ in range(3):
        started = time.monotonic()
        await asyncio.wait_for(inline_completion(client, uri, row, 4), 30)
        latencies.append(time.monotonic() - started)
    assert min(latencies) < 1.0, latencies
    # the links' own documents are excluded too: no model call for them
    calls = len(fake_model.requests)
    for name in ("notes.py", "app_config.py"):
        linked = (tmp_path / name).as_uri()
        open_document(client, linked, (tmp_path / name).read_text())
        assert await asyncio.wait_for(inline_completion(client, linked, 0, 0), 30) is None
    assert len(fake_model.requests) == calls
    sent = bodies(fake_model)
    assert "def other" in sent
    assert CANARY_ENV not in sent and CANARY_SECRETS not in sent
    stats = await asyncio.wait_for(client.protocol.send_request_async("spark/debugStats", {}), 10)
    assert stats is not None


async def test_shutdown_and_exit_are_prompt_in_a_hostile_repo(
        fake_model: FakeModelServer, tmp_path: Path) -> None:
    hostile_repo(tmp_path)
    async with lsp_session(settings(fake_model), tmp_path) as client:
        await asyncio.wait_for(client.protocol.send_request_async("spark/debugStats", {}), 10)
        started = time.monotonic()
    assert time.monotonic() - started < 2.0  # shutdown, exit, and the process gone


@pytest.fixture
async def client(fake_model: FakeModelServer, tmp_path: Path) -> AsyncIterator[LanguageClient]:
    async with lsp_session(settings(fake_model), tmp_path) as client:
        yield client


async def complete_text(client: LanguageClient, uri: str, line: int, character: int
                        ) -> str | None:
    result = await asyncio.wait_for(inline_completion(client, uri, line, character), 30)
    if result is None:
        return None
    items = result.items if isinstance(result, types.InlineCompletionList) else result
    text = items[0].insert_text
    return text if isinstance(text, str) else text.value


async def test_a_model_that_ignores_max_tokens_is_cut_off(
        client: LanguageClient, fake_model: FakeModelServer, tmp_path: Path) -> None:
    fake_model.reply = "".join(f"    total += {i}\n" for i in range(1_200_000))  # 21 MB
    fake_model.chunk_size = 8192
    chunks = len(fake_model.reply) // 8192
    uri = (tmp_path / "loop.py").as_uri()
    open_document(client, uri, "def count(total):\n    \n")
    text = await complete_text(client, uri, 1, 4)
    assert text is None or (len(text) <= 16_000 and text.count("\n") < 400)
    # what loopback's socket buffers took before the hang-up was seen: a small part
    assert fake_model.tokens_sent < chunks // 2, "the stream was not closed at the bound"


async def test_a_line_of_megabytes_is_not_suggested(
        client: LanguageClient, fake_model: FakeModelServer, tmp_path: Path) -> None:
    # one line of 20 MB, no unit in it repeating (a runaway repetition is cut otherwise)
    fake_model.reply = "[" + ", ".join(str(i * 7919 % 1_000_003) for i in range(2_600_000))
    fake_model.chunk_size = 65536
    chunks = len(fake_model.reply) // 65536
    uri = (tmp_path / "big.py").as_uri()
    open_document(client, uri, "value = \n")
    assert await complete_text(client, uri, 0, 8) is None
    assert fake_model.tokens_sent < chunks // 2, "the stream was not closed at the bound"


async def test_control_characters_never_reach_insert_text(
        client: LanguageClient, fake_model: FakeModelServer, tmp_path: Path) -> None:
    fake_model.reply = "a\x00 +\x1b[31m b\u202e\ud800\x07"
    uri = (tmp_path / "ctl.py").as_uri()
    open_document(client, uri, "def add(a, b):\n    return \n")
    assert await complete_text(client, uri, 1, 11) == "a + b"


async def test_a_lone_surrogate_in_an_action_answer_is_dropped_not_an_internal_error(
        tmp_path: Path) -> None:
    text = 'def area(radius: float) -> float:\n    """Area of a circle."""\n    ...\n'
    with FakeModelServer() as fast:
        fast.reply = "```python\n    return 3.14159 * radius ** 2  # \ud800\u202e\n```"
        async with action_session(fast, None, tmp_path) as client:
            uri = open_file(client, tmp_path, "area.py", text, "python")
            actions = await list_actions(client, uri, position_of(text, "def area"))
            resolved = await resolve(client, one(actions, GENERATE))
            edits = resolved["edit"]["documentChanges"][0]["edits"]
            new_text = "".join(e["newText"] for e in edits)
            assert "3.14159 * radius ** 2" in new_text
            assert "\ud800" not in new_text and "\u202e" not in new_text


async def test_a_nul_typed_then_deleted_gets_completions_again(
        client: LanguageClient, fake_model: FakeModelServer, tmp_path: Path) -> None:
    fake_model.reply = "a + b"
    uri = (tmp_path / "nul.py").as_uri()
    open_document(client, uri, "def add(a, b):\n    return \n")

    def change(version: int, start: int, end: int, new: str) -> None:
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line=1, character=start),
                                  end=types.Position(line=1, character=end)), text=new)]))

    change(2, 11, 11, "\x00")
    assert await complete_text(client, uri, 1, 12) is None
    change(3, 11, 12, "")
    assert await complete_text(client, uri, 1, 11) == "a + b"


async def test_secrets_the_cursor_splits_or_without_telling_names_never_reach_the_model(
        client: LanguageClient, fake_model: FakeModelServer, tmp_path: Path) -> None:
    token = "ghp_" + "Q7w9E2r4T6y8U1i3O5p7" * 2
    basic = "dXNlcjpodW50ZXIy" + "c2VjcmV0"  # user:hunter2secret
    aws = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"
    text = (f'HEADERS = {{"Authorization": "Basic {basic}"}}\n'
            f'PAIR = ("AKIA", "{aws}")\n'
            f'github = "{token}"\n')
    uri = (tmp_path / "conf.py").as_uri()
    open_document(client, uri, text)
    await complete_text(client, uri, 2, len('github = "ghp_Q7w'))  # inside the token
    sent = bodies(fake_model)
    assert fake_model.requests and "github" in sent
    for secret in (token[7:], token[:12], basic, aws):
        assert secret not in sent, secret


async def test_an_oversized_paste_undone_gives_the_document_its_actions_back(
        fake_model: FakeModelServer, tmp_path: Path) -> None:
    text = 'def area(radius: float) -> float:\n    """Area of a circle."""\n    ...\n'
    options = tier_settings(fake_model, None)
    options["completion"] = {"debounce_ms": 0, "max_document_bytes": 200_000}
    async with lsp_session(options, tmp_path) as client:
        uri = open_file(client, tmp_path, "area.py", text, "python")
        where = position_of(text, "def area")
        assert one(await list_actions(client, uri, where), GENERATE)

        def change(version: int, start: tuple[int, int], end: tuple[int, int], new: str
                   ) -> None:
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangePartial(
                    range=types.Range(start=types.Position(line=start[0], character=start[1]),
                                      end=types.Position(line=end[0], character=end[1])),
                    text=new)]))

        paste = "x = 1\n" * 50_000  # 300 KB: over max_document_bytes
        change(2, (3, 0), (3, 0), paste)
        assert not [a for a in await list_actions(client, uri, where)
                    if a.get("kind") == GENERATE]
        change(3, (3, 0), (50_003, 0), "")
        assert one(await list_actions(client, uri, where), GENERATE)
