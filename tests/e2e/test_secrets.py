"""Secrets never leave the machine: canaries in `.env`, in a git-ignored file open in the editor,
in a `context.exclude` glob and in an imported excluded module never reach any request body the
fake model receives; secret-looking strings are masked; the API key never shows in logs,
messages or stderr."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.lsp import inline_completion, lsp_session, open_document
from tests.fakemodel import FakeModelServer

CANARY_ENV = "CANARY_ENV_c81f0e"
CANARY_IGNORED = "CANARY_GITIGNORED_5b27aa"
CANARY_EXCLUDED = "CANARY_EXCLUDED_GLOB_93d1c4"
CANARY_SECRETS_DIR = "CANARY_SECRETS_DIR_e4a901"
CANARIES = (CANARY_ENV, CANARY_IGNORED, CANARY_EXCLUDED, CANARY_SECRETS_DIR)
API_KEY = "test-key-" + "Zq8" * 10  # the value of $SPARK_TEST_API_KEY
SECRET_IN_CODE = "sk-proj-" + "Mx4Pq" * 8  # a secret-looking string in the current file

APP = f"""import vault_keys
from private.notes import SECRET_NOTE, ignored_helper
from secrets_dir_user import load
from helpers import control_helper

API_KEY = "{SECRET_IN_CODE}"


def fetch(url):
    token = vault_keys.rotate(vault_keys.TOKEN)
    note = ignored_helper(SECRET_NOTE)
    return control_helper(url, load(note), token)


def handler(event):
{"    "}
"""


def write_workspace(root: Path) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True, capture_output=True)
    (root / ".gitignore").write_text("private/\n*.local.py\n")
    (root / ".env").write_text(f"OPENAI_API_KEY={CANARY_ENV}\nDB_PASSWORD={CANARY_ENV}\n")
    (root / ".env.production").write_text(f"TOKEN={CANARY_ENV}\n")
    (root / "private").mkdir()
    (root / "private" / "__init__.py").write_text("")
    (root / "private" / "notes.py").write_text(
        f'SECRET_NOTE = "{CANARY_IGNORED}"\n\n'
        f'def ignored_helper(x="{CANARY_IGNORED}"):\n    return x\n')
    (root / "settings.local.py").write_text(f'LOCAL = "{CANARY_IGNORED}"\n')
    (root / "vault_keys.py").write_text(
        f'TOKEN = "{CANARY_EXCLUDED}"\n\ndef rotate(old="{CANARY_EXCLUDED}"):\n    return old\n')
    (root / "secrets").mkdir()
    (root / "secrets" / "db.py").write_text(f'PASSWORD = "{CANARY_SECRETS_DIR}"\n')
    (root / "secrets_dir_user.py").write_text("def load(name):\n    return open(name).read()\n")
    (root / "server.pem").write_text(f"-----BEGIN CERTIFICATE-----\n{CANARY_EXCLUDED}\n")
    # a module that may be used: the positive control that imported context does get sent
    (root / "helpers.py").write_text(
        "def control_helper(url, body, token):\n"
        "    \"\"\"CONTROL_HELPER_DOC: send body to url.\"\"\"\n    return url\n")
    (root / "app.py").write_text(APP)


@pytest.fixture
async def client(
    fake_model: FakeModelServer, tmp_path: Path
) -> AsyncIterator[LanguageClient]:
    write_workspace(tmp_path)
    settings = {
        "fast": {"provider": "openai", "url": fake_model.url + "/v1", "model": "m",
                 "api_key_env": "SPARK_TEST_API_KEY", "timeout_ms": 2000},
        "context": {"exclude": ["**/.env*", "**/*.pem", "**/*.key", "**/secrets/**",
                                "**/vault_*.py"]},
        "completion": {"debounce_ms": 0},
    }
    async with lsp_session(settings, tmp_path, env={"SPARK_TEST_API_KEY": API_KEY}) as client:
        yield client


def bodies(fake: FakeModelServer) -> str:
    return "\n".join(json.dumps(r.body, ensure_ascii=False) for r in fake.requests)


async def complete(client: LanguageClient, uri: str, line: int, character: int) -> object:
    return await asyncio.wait_for(inline_completion(client, uri, line, character), 15)


async def index_ready(client: LanguageClient, timeout: float = 15.0) -> None:
    """Until the server logs that its workspace index is built."""
    async def logged() -> None:
        while not any(m.message.startswith("indexed ") for m in client.log_messages):
            await client.wait_for_notification("window/logMessage")

    await asyncio.wait_for(logged(), timeout)


async def test_canaries_never_reach_the_model(
    client: LanguageClient, fake_model: FakeModelServer, tmp_path: Path
) -> None:
    await index_ready(client)
    # the excluded and ignored files are open in the editor too
    for path, language in [(".env", "dotenv"), ("private/notes.py", "python"),
                           ("vault_keys.py", "python"), ("secrets/db.py", "python"),
                           ("settings.local.py", "python")]:
        open_document(client, (tmp_path / path).as_uri(), (tmp_path / path).read_text(), language)
    app = (tmp_path / "app.py").as_uri()
    open_document(client, app, APP)
    line = APP.splitlines().index("def handler(event):") + 1
    await complete(client, app, line, 4)
    fetch_return = APP.splitlines().index("    return control_helper(url, load(note), token)")
    await complete(client, app, fetch_return, 4)  # in fetch(), among the imported names
    assert fake_model.requests, "the normal file should have been completed"
    sent = bodies(fake_model)
    # positive control: definitions imported from allowed modules do reach the prompt
    assert "CONTROL_HELPER_DOC" in sent
    for canary in CANARIES:
        assert canary not in sent, f"{canary} reached the model"


async def test_excluded_documents_get_no_completion_and_no_model_call(
    client: LanguageClient, fake_model: FakeModelServer, tmp_path: Path
) -> None:
    for path, language, line, character in [
        (".env", "dotenv", 1, 0), ("private/notes.py", "python", 3, 4),
        ("vault_keys.py", "python", 3, 4), ("secrets/db.py", "python", 0, 0),
        (".env.production", "plaintext", 0, 6), ("server.pem", "plaintext", 1, 0),
    ]:
        uri = (tmp_path / path).as_uri()
        open_document(client, uri, (tmp_path / path).read_text(), language)
        assert await complete(client, uri, line, character) is None, path
    assert fake_model.requests == []


async def test_secret_looking_strings_in_the_current_file_are_masked(
    client: LanguageClient, fake_model: FakeModelServer, tmp_path: Path
) -> None:
    app = (tmp_path / "app.py").as_uri()
    open_document(client, app, APP)
    await complete(client, app, APP.splitlines().index("def handler(event):") + 1, 4)
    sent = bodies(fake_model)
    assert SECRET_IN_CODE not in sent
    assert "«masked»" in sent


async def test_the_api_key_never_appears_in_logs_messages_or_stderr(
    client: LanguageClient, fake_model: FakeModelServer, tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    app = (tmp_path / "app.py").as_uri()
    open_document(client, app, APP)
    row = APP.splitlines().index("def handler(event):") + 1
    version = 1

    async def type_and_complete() -> None:
        """A new statement, then a completion on the line after it: a new place each time, so
        the completion cache never answers instead of the model."""
        nonlocal row, version
        version += 1
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=app, version=version),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line=row, character=4),
                                  end=types.Position(line=row, character=4)),
                text=f"step_{version} = {version}\n    ")],
        ))
        row += 1
        await complete(client, app, row, 4)

    await type_and_complete()
    assert fake_model.requests[-1].headers.get("authorization") == f"Bearer {API_KEY}"
    # a server that echoes the key back in its errors, in every way it can fail; a success
    # after each fault keeps the circuit breaker closed so that every fault reaches the server
    # (401 comes last: a refusal that asking again will not change pauses the model for minutes)
    fake_model.error_message = f"invalid api key {API_KEY}"
    fake_model.retry_after = "0"
    for fault in ("500", "429", "error-event", "garbage", "401"):
        fake_model.fault = fault
        await type_and_complete()
        fake_model.fault = None
        if fault != "401":
            await type_and_complete()
    assert len(fake_model.requests) == 10
    logs = "\n".join(m.message for m in client.log_messages)
    shown = "\n".join(m.message for m in client.messages)
    assert "HTTP 401" in logs and "HTTP 500" in logs, "expected the faults to be logged"
    assert API_KEY not in logs
    assert API_KEY not in shown
    assert API_KEY not in capfd.readouterr().err
