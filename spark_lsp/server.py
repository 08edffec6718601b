"""pygls wiring only: each handler translates LSP ⇄ domain types and calls the session."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInternalError, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.uris import to_fs_path

from spark_lsp import __version__, logs
from spark_lsp.completion.types import Suggestion
from spark_lsp.documents.text import PositionError
from spark_lsp.session import Session

log = logging.getLogger(__name__)

_UNDECODABLE = object()


class SparkProtocol(LanguageServerProtocol):
    """Keeps documents in our own store (not pygls's) and answers undecodable requests."""

    _server: SparkServer

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except (JsonRpcInvalidParams, JsonRpcInternalError) as exc:
            if "jsonrpc" in data and "id" in data and "method" in data:
                method = data.get("method")
                log.warning("invalid params for %s (request %s)", method, data["id"])
                self._send_response(
                    data["id"],
                    error=types.ResponseError(
                        code=types.ErrorCodes.InvalidParams,
                        message=f"invalid params for {method}: {exc.__cause__ or exc}",
                    ),
                )
                return _UNDECODABLE
            raise

    def handle_message(self, message: Any) -> None:
        if message is _UNDECODABLE:
            return
        super().handle_message(message)

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        doc = params.text_document
        self._server.session.documents.open(doc.uri, doc.language_id, doc.version, doc.text)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        store = self._server.session.documents
        uri, version = params.text_document.uri, params.text_document.version
        for change in params.content_changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                r = change.range
                try:
                    store.edit(uri, version, (r.start.line, r.start.character),
                               (r.end.line, r.end.character), change.text)
                except PositionError as exc:
                    log.warning("didChange for %s ignored: %s", uri, exc)
            else:
                store.replace(uri, version, change.text)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        self._server.session.documents.close(params.text_document.uri)


class SparkServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "spark-lsp",
            __version__,
            protocol_cls=SparkProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.session = Session()
        self.client_log = logs.configure()


server = SparkServer()


def _position_error(exc: Exception) -> Exception:
    from pygls.exceptions import JsonRpcInvalidParams as Invalid

    return Invalid(str(exc))


@server.feature(types.INITIALIZE)
def initialize(ls: SparkServer, params: types.InitializeParams) -> None:
    root = params.root_uri or (params.workspace_folders[0].uri if params.workspace_folders else None)
    path = to_fs_path(root) if root else params.root_path
    ls.session.workspace_root = Path(path) if path else None
    options = params.initialization_options
    ls.session.initialization_options = options if isinstance(options, dict) else None
    ls.client_log.attach(ls.window_log_message)
    result = ls.session.reload_settings()
    _report_problems(ls, result.problems)


def _report_problems(ls: SparkServer, problems: tuple[str, ...]) -> None:
    if problems:
        ls.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Warning,
                message="spark-lsp settings: " + "; ".join(problems) + " (defaults used for these)",
            )
        )


async def _pull_configuration(ls: SparkServer) -> None:
    caps = ls.client_capabilities.workspace
    if not (caps and caps.configuration):
        return
    try:
        result = await ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section="spark")])
        )
    except Exception as exc:  # a client that fails this request must not stop the server
        log.warning("workspace/configuration failed: %s", exc)
        return
    config = result[0] if result else None
    ls.session.client_configuration = config if isinstance(config, dict) else None
    _report_problems(ls, ls.session.reload_settings().problems)


@server.feature(types.INITIALIZED)
async def initialized(ls: SparkServer, params: types.InitializedParams) -> None:
    await _pull_configuration(ls)


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def did_change_configuration(
    ls: SparkServer, params: types.DidChangeConfigurationParams
) -> None:
    settings = params.settings
    if isinstance(settings, dict) and isinstance(settings.get("spark"), dict):
        ls.session.client_configuration = settings["spark"]
        _report_problems(ls, ls.session.reload_settings().problems)
    else:
        await _pull_configuration(ls)


def _to_range(s: Suggestion) -> types.Range:
    return types.Range(
        start=types.Position(line=s.line, character=s.character),
        end=types.Position(line=s.line, character=s.replace_end_character),
    )


async def _suggest(ls: SparkServer, uri: str, position: types.Position) -> Suggestion | None:
    try:
        return await ls.session.inline_completion(uri, position.line, position.character)
    except (KeyError, PositionError) as exc:
        raise JsonRpcInvalidParams(str(exc)) from exc


@server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions(work_done_progress=False))
async def inline_completion(
    ls: SparkServer, params: types.InlineCompletionParams
) -> types.InlineCompletionList | None:
    suggestion = await _suggest(ls, params.text_document.uri, params.position)
    if suggestion is None:
        return None
    return types.InlineCompletionList(
        items=[types.InlineCompletionItem(insert_text=suggestion.text, range=_to_range(suggestion))]
    )


@server.feature(
    types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[".", "(", " "])
)
async def completion(
    ls: SparkServer, params: types.CompletionParams
) -> types.CompletionList | None:
    suggestion = await _suggest(ls, params.text_document.uri, params.position)
    if suggestion is None:
        return None
    first_line = suggestion.text.strip().split("\n", 1)[0]
    label = first_line if len(first_line) <= 40 else first_line[:39] + "…"
    item = types.CompletionItem(
        label=label,
        kind=types.CompletionItemKind.Snippet,
        detail="spark-lsp",
        documentation=types.MarkupContent(kind=types.MarkupKind.Markdown,
                                          value=f"```\n{suggestion.text}\n```"),
        text_edit=types.TextEdit(range=_to_range(suggestion), new_text=suggestion.text),
        insert_text_format=types.InsertTextFormat.PlainText,
        filter_text=suggestion.text.strip()[:40],
        sort_text="0",
        preselect=True,
    )
    return types.CompletionList(is_incomplete=True, items=[item])


@server.feature(types.SHUTDOWN)
async def shutdown(ls: SparkServer, params: None) -> None:
    await ls.session.aclose()
