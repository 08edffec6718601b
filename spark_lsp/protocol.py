"""The JSON-RPC side of the server: documents kept in our own store (not pygls's), the LSP
lifecycle (nothing before `initialize`, nothing after `shutdown`, the exit code), and exactly
one answer to requests that cannot be decoded."""

from __future__ import annotations

import logging
from collections.abc import Generator
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInternalError, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method

from spark_lsp.documents.text import PositionError
from spark_lsp.session import Session

log = logging.getLogger(__name__)

_UNDECODABLE = object()


class SessionServer(LanguageServer):
    """The server as this protocol uses it: pygls's, with the session and the exit code.
    (`server.SparkServer` is the one; naming that here would make the modules import each
    other.)"""

    session: Session
    exit_code: int


class SparkProtocol(LanguageServerProtocol):
    """Keeps documents in our own store (not pygls's) and answers undecodable requests."""

    _server: SessionServer
    _initialize_seen = False

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
        if getattr(message, "jsonrpc", None) != "2.0":
            self._invalid_request(message)
            return
        if self._lifecycle_allows(message):
            super().handle_message(message)

    def _lifecycle_allows(self, message: Any) -> bool:
        """The LSP lifecycle: before `initialize` a request gets -32002 and a notification is
        dropped; after `shutdown` a request gets -32600; `exit` is always heard."""
        method = getattr(message, "method", None)
        if method is None or method == types.EXIT:
            return True
        if not self._initialize_seen:
            self._initialize_seen = method == types.INITIALIZE
            refusal = None if self._initialize_seen else (
                types.ErrorCodes.ServerNotInitialized, "the server is not initialized yet")
        elif self._shutdown:
            refusal = (types.ErrorCodes.InvalidRequest, "the server is shut down")
        else:
            return True
        if refusal is not None and hasattr(message, "id"):
            log.warning("%s refused: %s", method, refusal[1])
            self._send_response(message.id, error=types.ResponseError(code=refusal[0],
                                                                      message=refusal[1]))
        return refusal is None

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> Generator[Any, Any, None]:
        """Stop serving; the process exits 0 after `shutdown`, else 1 (the LSP's rule)."""
        self._server.exit_code = 0 if self._shutdown else 1
        if self._server._stop_event is not None:
            self._server._stop_event.set()
        yield from ()

    def _invalid_request(self, message: Any) -> None:
        """JSON that is not a JSON-RPC 2.0 message: -32600 (with its id when it has one)."""
        msg_id = message.get("id") if isinstance(message, dict) else getattr(message, "id", None)
        has_method = isinstance(message, dict) and "method" in message
        if has_method and "id" not in message:
            log.warning("ignored a notification that is not JSON-RPC 2.0")
            return
        log.warning("invalid JSON-RPC message (request %s)", msg_id)
        self._send_data({
            "jsonrpc": "2.0", "id": msg_id if isinstance(msg_id, (int, str)) else None,
            "error": {"code": types.ErrorCodes.InvalidRequest.value,
                      "message": "not a JSON-RPC 2.0 request"},
        })

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        # pygls cancels async request handlers, but not workspace/executeCommand ones: tell the
        # action service, which cancels the action running for that request.
        self._server.session.actions.cancel_request(msg_id)
        super()._handle_cancel_notification(msg_id)

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams) -> Generator[Any, Any, Any]:
        """pygls's initialize, less the completion provider for editors that get ghost text
        (`completion.items`): VS Code would show the same suggestion twice, and its suggest
        widget would wait on our items."""
        result = yield from super().lsp_initialize(params)
        if not self._server.session.serves_items:
            self.server_capabilities.completion_provider = None
            result.capabilities.completion_provider = None
        return result

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
        self._server.session.document_closed(params.text_document.uri)
