"""LSP ⇄ actions: code actions (with data, a command for clients that cannot resolve), versioned
workspace edits, messages, and work-done progress over pygls's `work_done_progress`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import attrs
from lsprotocol import types

from spark_lsp.actions.kinds import RUN_ACTION_COMMAND
from spark_lsp.actions.service import LspEdit, Offer, Outcome

log = logging.getLogger(__name__)

_ANNOTATION = "spark-review"


@dataclass(frozen=True)
class ClientSupport:
    """What the client can do with code actions."""

    resolve_edit: bool = False  # fills `edit` through codeAction/resolve
    literals: bool = True  # takes CodeAction objects, not just Commands
    progress: bool = False  # server-initiated work-done progress
    confirmations: bool = False  # change annotations that need the user's confirmation
    message_actions: bool = False  # buttons on a message (window/showMessageRequest)


def client_support(caps: types.ClientCapabilities | None) -> ClientSupport:
    text = caps.text_document if caps is not None else None
    action = text.code_action if text is not None else None
    resolve = action.resolve_support if action is not None else None
    window = caps.window if caps is not None else None
    workspace = caps.workspace if caps is not None else None
    edits = workspace.workspace_edit if workspace is not None else None
    return ClientSupport(
        resolve_edit=bool(resolve and "edit" in resolve.properties),
        literals=bool(action and action.code_action_literal_support),
        progress=bool(window and window.work_done_progress),
        confirmations=bool(edits and edits.change_annotation_support),
        message_actions=bool(window and window.show_message
                             and window.show_message.message_action_item),
    )


def _command(offer: Offer) -> types.Command:
    return types.Command(title=offer.title, command=RUN_ACTION_COMMAND,
                         arguments=[offer.data.to_json()])


def code_action(offer: Offer, support: ClientSupport) -> types.CodeAction | types.Command:
    """An offered action without its edit: resolved later, or run through its command."""
    if not support.literals:
        return _command(offer)
    return types.CodeAction(
        title=offer.title,
        kind=offer.data.kind,
        data=offer.data.to_json(),
        command=None if support.resolve_edit else _command(offer),
    )


def workspace_edit(edit: LspEdit, title: str = "",
                   support: ClientSupport | None = None) -> types.WorkspaceEdit:
    """A versioned edit, so the editor too refuses it for a document that has changed. An edit
    that must not be applied silently carries a change annotation that needs confirmation (VS
    Code shows it in its refactor preview), where the client supports them."""
    rng = types.Range(start=types.Position(line=edit.start[0], character=edit.start[1]),
                      end=types.Position(line=edit.end[0], character=edit.end[1]))
    annotate = edit.confirm and support is not None and support.confirmations
    text_edit: types.TextEdit | types.AnnotatedTextEdit = (
        types.AnnotatedTextEdit(range=rng, new_text=edit.new_text, annotation_id=_ANNOTATION)
        if annotate else types.TextEdit(range=rng, new_text=edit.new_text))
    return types.WorkspaceEdit(
        document_changes=[types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=edit.uri,
                                                                        version=edit.version),
            edits=[text_edit],
        )],
        change_annotations={_ANNOTATION: types.ChangeAnnotation(
            label=title or "spark-lsp", needs_confirmation=True,
            description="Review the stronger model's answer before applying it.")}
        if annotate else None,
    )


def resolved(action: types.CodeAction, outcome: Outcome,
             support: ClientSupport | None = None) -> types.CodeAction:
    """The action with its edit filled in (none when the outcome has no edit); no command, so
    the client does not run the model a second time."""
    edit = workspace_edit(outcome.edit, outcome.title, support) \
        if outcome.edit is not None else None
    return attrs.evolve(action, edit=edit, command=None)


def message(outcome: Outcome) -> types.ShowMessageParams | None:
    if outcome.message is None:
        return None
    kind = types.MessageType.Info if outcome.cancelled else types.MessageType.Warning
    return types.ShowMessageParams(type=kind, message=outcome.message)


RETRY_ITEM = "Retry with stronger model"


def retry_request(outcome: Outcome) -> types.ShowMessageRequestParams | None:
    """The refusal as a message with a "Retry with stronger model" button (None: no retry)."""
    if outcome.message is None or outcome.retry is None:
        return None
    return types.ShowMessageRequestParams(type=types.MessageType.Warning,
                                          message=outcome.message,
                                          actions=[types.MessageActionItem(title=RETRY_ITEM)])


class LspProgress:
    """Server-initiated, cancellable work-done progress. Best effort: a client that refuses
    the token just gets no progress."""

    def __init__(self, progress: Any) -> None:
        self._progress = progress
        self._token = f"spark-action-{uuid.uuid4()}"
        self._begun = False

    async def begin(self, title: str, message: str, on_cancel: Callable[[], None]) -> None:
        try:
            await self._progress.create_async(self._token)
        except Exception as exc:  # the client may not support it; the action still runs
            log.debug("work-done progress refused: %s", exc)
            return
        future = self._progress.tokens.get(self._token)
        if future is not None:
            future.add_done_callback(lambda f: on_cancel() if f.cancelled() else None)
        self._progress.begin(self._token, types.WorkDoneProgressBegin(
            title=title, message=message, cancellable=True))
        self._begun = True

    def report(self, message: str) -> None:
        if self._begun:
            self._progress.report(self._token, types.WorkDoneProgressReport(message=message))

    def end(self, message: str) -> None:
        if self._begun:
            self._begun = False
            self._progress.end(self._token, types.WorkDoneProgressEnd(message=message))
            self._progress.tokens.pop(self._token, None)
