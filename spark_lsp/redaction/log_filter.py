"""Log records without secrets: a filter that masks known secret values and secret-looking
strings in each record's message and traceback."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from spark_lsp.redaction.known import known_secrets
from spark_lsp.redaction.mask import mask_known, mask_secrets


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with known secret values and secret patterns masked."""

    def __init__(self, known: Callable[[], Iterable[str]] = known_secrets) -> None:
        super().__init__()
        self._known = known

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is logging's problem, not ours
            return True
        known = tuple(self._known())
        cleaned = redact(message, known)
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            # Formatters print a cached exc_text as it is: cache it without secrets.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info), known)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def redact(text: str, known: Iterable[str] = ()) -> str:
    """`text` with known secret values and secret-looking strings masked (for messages)."""
    return mask_secrets(mask_known(text, known))


def install_log_redaction(
    logger: logging.Logger, known: Callable[[], Iterable[str]] = known_secrets
) -> None:
    """Add a `RedactingFilter` to every handler of `logger` (handler filters see child loggers'
    records too, logger filters do not)."""
    for handler in logger.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter(known))
