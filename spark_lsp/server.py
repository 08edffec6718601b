"""pygls wiring only: each handler translates LSP ⇄ domain types and calls the session."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Any, BinaryIO

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.uris import to_fs_path

from spark_lsp import __version__, framing, logs, parent
from spark_lsp.actions import lsp as action_lsp
from spark_lsp.actions.kinds import KINDS, RUN_ACTION_COMMAND, ActionData, BadActionData, wanted
from spark_lsp.actions.service import Outcome
from spark_lsp.completion.types import Answer, Suggestion, menu_item
from spark_lsp.documents.text import PositionError
from spark_lsp.protocol import SessionServer, SparkProtocol
from spark_lsp.redaction.log_filter import install_log_redaction, redact
from spark_lsp.session import Session

log = logging.getLogger(__name__)

STATUS_NOTIFICATION = "spark/status"  # params: completion.types.Answer.status()

class SparkServer(SessionServer):
    def __init__(self) -> None:
        super().__init__(
            "spark-lsp",
            __version__,
            protocol_cls=SparkProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.session = Session()
        self.client_log = logs.configure()
        self.parent_watch: asyncio.Task[None] | None = None
        install_log_redaction(logging.getLogger("spark_lsp"))
        self.exit_code = 1  # until `shutdown` then `exit`

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """Serve on stdio with our frame reader (`framing`): bad frames do not end it."""
        framing.serve(self, stdin or sys.stdin.buffer, stdout or sys.stdout.buffer)
        if self._stop_event is None or not self._stop_event.is_set():  # stdin ended, no exit
            self.exit_code = 0 if self.protocol._shutdown else 1

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Log errors outside a request and carry on. (pygls's default also shuts its thread pool
        down, which stops the stdin reader: one malformed message would end the server.)
        Requests already got their error response; unparsable JSON gets -32700 here."""
        if isinstance(error, (ValueError, UnicodeError)) and source is JsonRpcException:
            # json.loads failed before any id could be read (JSONDecodeError is a ValueError)
            self.protocol._send_data({  # raw: the response must carry "id": null
                "jsonrpc": "2.0", "id": None,
                "error": {"code": types.ErrorCodes.ParseError.value,
                          "message": f"parse error: {error}"},
            })
        log.error("%s: %s", getattr(source, "__name__", source), redact(str(error)))


server = SparkServer()


@server.feature(types.INITIALIZE)
def initialize(ls: SparkServer, params: types.InitializeParams) -> None:
    first_folder = params.workspace_folders[0].uri if params.workspace_folders else None
    root = params.root_uri or first_folder
    path = to_fs_path(root) if root else params.root_path
    ls.session.workspace_root = Path(path) if path else None
    folders = [to_fs_path(f.uri) for f in params.workspace_folders or []]
    ls.session.set_workspace_folders([f for f in folders if f] or ([path] if path else []))
    options = params.initialization_options
    ls.session.initialization_options = options if isinstance(options, dict) else None
    ls.client_log.attach(ls.window_log_message)
    ls.session.router.show_message = lambda text: _show_warning(ls, text)
    result = ls.session.reload_settings()
    ls.session.choose_items(params.capabilities)
    _report_problems(ls, result.problems)


def _show_warning(ls: SparkServer, text: str) -> None:
    ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=text))


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
    if ls.process_id is not None and ls.parent_watch is None:
        ls.parent_watch = asyncio.ensure_future(
            parent.exit_when_gone(ls.process_id, ls.session.aclose))
    await _pull_configuration(ls)
    ls.session.preload_model()
    ls.session.index_workspace()
    await _watch_files(ls)


async def _watch_files(ls: SparkServer) -> None:
    """Ask the client for file events (keeps the workspace index fresh) when it can send them."""
    caps = ls.client_capabilities.workspace
    watched = caps.did_change_watched_files if caps else None
    if not (watched and watched.dynamic_registration):
        return
    options = types.DidChangeWatchedFilesRegistrationOptions(
        watchers=[types.FileSystemWatcher(glob_pattern="**/*")])
    try:
        await ls.client_register_capability_async(types.RegistrationParams(registrations=[
            types.Registration(id="spark-watched-files",
                               method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                               register_options=options)]))
    except Exception as exc:  # a client that refuses must not stop the server
        log.debug("file watching not registered: %s", exc)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
async def did_save(ls: SparkServer, params: types.DidSaveTextDocumentParams) -> None:
    await ls.session.file_saved(params.text_document.uri, params.text)


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
async def did_change_watched_files(ls: SparkServer,
                                   params: types.DidChangeWatchedFilesParams) -> None:
    await ls.session.files_changed(
        [(c.uri, c.type == types.FileChangeType.Deleted) for c in params.changes])


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


async def _answer(ls: SparkServer, uri: str, position: types.Position,
                  deadline_ms: float | None = None) -> Answer:
    try:
        return await ls.session.answer_completion(uri, position.line, position.character,
                                                  deadline_ms)
    except (KeyError, PositionError) as exc:
        raise JsonRpcInvalidParams(str(exc)) from exc


@server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION,
                types.InlineCompletionOptions(work_done_progress=False))
async def inline_completion(
    ls: SparkServer, params: types.InlineCompletionParams
) -> types.InlineCompletionList | None:
    answer = await _answer(ls, params.text_document.uri, params.position)
    status = ls.session.status_to_send(params.text_document.uri, answer)
    if status is not None:
        ls.protocol.notify(STATUS_NOTIFICATION, status)
    suggestion = answer.suggestion
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
    """For editors without inline completion (Helix): what is ready by the answer deadline."""
    if not ls.session.serves_items:
        return None  # not advertised to this editor (see SparkProtocol.lsp_initialize)
    deadline = ls.session.settings.completion.answer_deadline_ms
    suggestion = (await _answer(ls, params.text_document.uri, params.position, deadline)).suggestion
    if suggestion is None:
        return None
    entry = menu_item(suggestion)
    item = types.CompletionItem(
        label=entry.label,
        kind=types.CompletionItemKind.Snippet,
        detail="spark-lsp",
        documentation=types.MarkupContent(kind=types.MarkupKind.Markdown,
                                          value=f"```\n{suggestion.text}\n```"),
        text_edit=types.TextEdit(
            range=types.Range(
                start=types.Position(line=entry.line, character=entry.start_character),
                end=types.Position(line=entry.line, character=entry.end_character)),
            new_text=entry.new_text),
        insert_text_format=types.InsertTextFormat.PlainText,
        filter_text=entry.filter_text,
        sort_text="0",
        preselect=True,
    )
    return types.CompletionList(is_incomplete=True, items=[item])


@server.feature("spark/debugStats")
async def debug_stats(ls: SparkServer, params: Any) -> dict[str, int]:
    """Leak-check figures for the soak benchmark and tests (not an editor feature)."""
    return ls.session.debug_stats()


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=list(KINDS), resolve_provider=True),
)
def code_action(
    ls: SparkServer, params: types.CodeActionParams
) -> list[types.CodeAction | types.Command] | None:
    r = params.range
    offers = ls.session.code_actions(params.text_document.uri, (r.start.line, r.start.character),
                                     (r.end.line, r.end.character))
    support = action_lsp.client_support(ls.client_capabilities)
    items = [action_lsp.code_action(offer, support) for offer in offers
             if wanted(offer.data.kind, params.context.only)]
    return items or None


async def _run_action(ls: SparkServer, raw: Any, request_id: Any = None) -> Outcome:
    try:
        data = ActionData.from_json(raw)
    except BadActionData as exc:
        raise JsonRpcInvalidParams(str(exc)) from exc
    support = action_lsp.client_support(ls.client_capabilities)
    progress = action_lsp.LspProgress(ls.work_done_progress) if support.progress else None
    outcome = await ls.session.run_action(data, progress, request_id)
    retry = action_lsp.retry_request(outcome) if support.message_actions else None
    if retry is not None and outcome.retry is not None:
        _background(_offer_retry(ls, retry, outcome.retry.to_json()))
        return outcome
    message = action_lsp.message(outcome)
    if message is not None:
        ls.window_show_message(message)
    return outcome


_BACKGROUND: set[asyncio.Task[None]] = set()


def _background(work: Any) -> None:
    task = asyncio.ensure_future(work)
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)


async def _offer_retry(ls: SparkServer, request: types.ShowMessageRequestParams,
                       retry: Any) -> None:
    """Show the refusal with its "Retry with stronger model" button; run the retry if chosen
    (its edit arrives as workspace/applyEdit). The request that failed has its answer already."""
    try:
        chosen = await ls.window_show_message_request_async(request)
    except Exception as exc:  # a client that fails this request must not stop the server
        log.debug("window/showMessageRequest failed: %s", exc)
        return
    if chosen is not None and chosen.title == action_lsp.RETRY_ITEM:
        await _apply(ls, await _run_action(ls, retry))


async def _apply(ls: SparkServer, outcome: Outcome) -> None:
    """An outcome's edit through workspace/applyEdit (a warning if the editor refuses it)."""
    if outcome.edit is None:
        return
    result = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(
        edit=action_lsp.workspace_edit(outcome.edit, outcome.title,
                                       action_lsp.client_support(ls.client_capabilities)),
        label=outcome.title))
    if not result.applied:
        _show_warning(ls, f"{outcome.title}: the editor did not apply the edit"
                      + (f" ({result.failure_reason})" if result.failure_reason else ""))


@server.feature(types.CODE_ACTION_RESOLVE)
async def resolve_code_action(ls: SparkServer, action: types.CodeAction) -> types.CodeAction:
    outcome = await _run_action(ls, action.data)
    return action_lsp.resolved(action, outcome, action_lsp.client_support(ls.client_capabilities))


@server.command(RUN_ACTION_COMMAND)
async def run_action(ls: SparkServer, *arguments: Any) -> None:
    """For clients that do not resolve code actions: run the model, then workspace/applyEdit."""
    outcome = await _run_action(ls, arguments[0] if arguments else None, ls.protocol.msg_id)
    await _apply(ls, outcome)


@server.feature(types.SHUTDOWN)
async def shutdown(ls: SparkServer, params: None) -> None:
    await ls.session.aclose()
