"""Logging: to the editor as `window/logMessage`, at each record's own level; not to stderr.

Editors file everything a server writes to stderr as an error (VS Code's output channel tags it
`[error]`, Neovim's lsp.log writes `[ERROR] … "stderr"`), and show `window/logMessage` at its
type (Error, Warning, Info, Debug). So records go only to the client; those from before it is
ready are buffered and replayed. Stderr is left for crashes: Python's own traceback.
pygls's records go the same way, less the routine ones (see `ROUTINE`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from lsprotocol import types

_LEVELS = {
    logging.ERROR: types.MessageType.Error,
    logging.WARNING: types.MessageType.Warning,
    logging.INFO: types.MessageType.Info,
    logging.DEBUG: types.MessageType.Debug,
}

# pygls messages that describe normal editor behaviour, not a problem: VS Code cancels requests
# whose answer is already on its way.
ROUTINE = ("Cancel notification for unknown message id",)
BUFFERED = 200  # records kept until the client is ready


def message_type(level: int) -> types.MessageType:
    """The logMessage type for a logging level (CRITICAL is an Error; levels in between round
    down to the next standard one)."""
    for threshold in (logging.ERROR, logging.WARNING, logging.INFO):
        if level >= threshold:
            return _LEVELS[threshold]
    return types.MessageType.Debug


class ClientLogHandler(logging.Handler):
    """Forwards records to the client; records from before it is ready are buffered and replayed."""

    def __init__(self, level: int = logging.INFO) -> None:
        super().__init__(level)
        self._send: Callable[[types.LogMessageParams], None] | None = None
        self._buffer: list[types.LogMessageParams] = []

    def attach(self, send: Callable[[types.LogMessageParams], None]) -> None:
        self._send = send
        buffered, self._buffer = self._buffer, []
        for params in buffered:
            send(params)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            params = types.LogMessageParams(type=message_type(record.levelno),
                                            message=self.format(record))
            if self._send is None:
                if len(self._buffer) < BUFFERED:
                    self._buffer.append(params)
            else:
                self._send(params)
        except Exception:  # logging must never break a request
            self.handleError(record)


def _not_routine(record: logging.LogRecord) -> bool:
    return not any(str(record.msg).startswith(text) for text in ROUTINE)


class ClientLog:
    """The handlers that forward spark-lsp's and pygls's records: attach them all at once."""

    def __init__(self, *handlers: ClientLogHandler) -> None:
        self.handlers = handlers

    def attach(self, send: Callable[[types.LogMessageParams], None]) -> None:
        for handler in self.handlers:
            handler.attach(send)


def configure(level: int = logging.INFO) -> ClientLog:
    """Route spark-lsp's records (from `level`) and pygls's (from WARNING, less the routine
    ones) to the client; attach the result once the client is ready."""
    ours = ClientLogHandler(level)
    ours.setFormatter(logging.Formatter("%(message)s"))
    spark = logging.getLogger("spark_lsp")
    spark.setLevel(level)
    spark.addHandler(ours)
    theirs = ClientLogHandler(logging.WARNING)
    theirs.setFormatter(logging.Formatter("pygls: %(message)s"))
    theirs.addFilter(_not_routine)
    logging.getLogger("pygls").addHandler(theirs)
    return ClientLog(ours, theirs)
