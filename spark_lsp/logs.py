"""Logging: stderr always (stdout is the protocol), plus window/logMessage once the client is
ready."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from lsprotocol import types

_LEVELS = {
    logging.ERROR: types.MessageType.Error,
    logging.WARNING: types.MessageType.Warning,
    logging.INFO: types.MessageType.Info,
}


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
            params = types.LogMessageParams(
                type=_LEVELS.get(record.levelno, types.MessageType.Log), message=self.format(record)
            )
            if self._send is None:
                if len(self._buffer) < 200:
                    self._buffer.append(params)
            else:
                self._send(params)
        except Exception:  # logging must never break a request
            self.handleError(record)


def configure(level: int = logging.INFO) -> ClientLogHandler:
    root = logging.getLogger("spark_lsp")
    root.setLevel(level)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not any(getattr(h, "_spark_stderr", False) for h in root.handlers):
        stderr = logging.StreamHandler(sys.stderr)
        stderr.setFormatter(fmt)
        stderr._spark_stderr = True  # type: ignore[attr-defined]
        root.addHandler(stderr)
    client = ClientLogHandler()
    client.setFormatter(logging.Formatter("%(message)s"))
    root.addHandler(client)
    return client
