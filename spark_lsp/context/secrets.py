"""Mask secret-looking strings (API keys, tokens, passwords, private-key blocks) before any text
leaves the machine, and redact known key values from log records.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
from collections.abc import Callable, Iterable, Iterator

from spark_lsp.models.base import Message, ModelRequest, Snippet

MASK = "«masked»"

# Token formats that are secrets wherever they appear.
_TOKENS = re.compile(
    r"""
    \bsk-ant-[A-Za-z0-9_\-]{16,}                      # Anthropic
  | \bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,} # OpenAI and compatibles
  | \b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b # AWS access key ids
  | \bgh[pousr]_[A-Za-z0-9]{30,}                      # GitHub tokens
  | \bgithub_pat_[A-Za-z0-9_]{22,}                    # GitHub fine-grained tokens
  | \bglpat-[A-Za-z0-9_\-]{20,}                       # GitLab
  | \bxox[abposr]-[A-Za-z0-9\-]{10,}                  # Slack
  | \bAIza[0-9A-Za-z_\-]{35}                          # Google API keys
  | \b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}        # Stripe secret/restricted keys
  | \bhf_[A-Za-z0-9]{30,}                             # Hugging Face
  | \beyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}  # JWTs
    """,
    re.VERBOSE,
)

_NAME = (
    r"[A-Za-z0-9_.\-]*"
    r"(?:api[_\-]?key|secret|token|passw(?:or)?d|passwd|pwd|private[_\-]?key|access[_\-]?key"
    r"|credentials?)"
    r"[A-Za-z0-9_.\-]*"
)

# `password = "…"`, `"api_key": '…'`, `token: str = "…"`: the quoted value goes, the name stays.
_QUOTED_ASSIGNMENT = re.compile(
    rf"""(?ix)
    (?P<head>["']?\b{_NAME}["']?\s*(?::\s*[A-Za-z_][\w\[\], ]*)?\s*(?:=|:|:=|=>)\s*[rbuf]?)
    (?P<quote>["'`])(?P<value>[^"'`\n]{{4,}})(?P=quote)
    """
)

# `API_KEY=abc123…` (shell, env, ini): an unquoted value that looks random (letters and digits).
_BARE_ASSIGNMENT = re.compile(
    rf"""(?ix)
    (?P<head>\b{_NAME}\s*[:=]\s*)
    (?P<value>(?=[A-Za-z0-9_\-+/=]*\d)(?=[A-Za-z0-9_\-+/=]*[A-Za-z])[A-Za-z0-9_\-+/=]{{16,}})
    (?![\w(.])
    """
)

_BEARER = re.compile(r"(?i)\b(?P<head>bearer\s+)(?P<value>[A-Za-z0-9._\-+/=]{16,})")
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.\-]*://[^/\s:@]+:)(?P<value>[^/\s@]+)(?=@)")

_KEY_BLOCK = re.compile(
    r"-----BEGIN (?P<kind>[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)-----"
    r"(?:.*?-----END (?P=kind)-----|.*\Z)",
    re.DOTALL,
)
_KEY_BLOCK_TAIL = re.compile(r"\A.*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----", re.DOTALL)


def _keep_head(match: re.Match[str]) -> str:
    quote = match.groupdict().get("quote") or ""
    return f"{match.group('head')}{quote}{MASK}{quote}"


# A word the assignment patterns need in the name: they run only on the lines holding one
# (they are the slow ones: each tries a name at every word of the text).
_SECRET_WORD = re.compile(r"(?i)api[_\-]?key|secret|token|passw(?:or)?d|pwd|private[_\-]?key"
                          r"|access[_\-]?key|credential")
ASSIGNMENT_REACH = 2  # non-blank lines after the name where its value may still be


@functools.lru_cache(maxsize=128)  # prompts' snippets repeat; 128 prompt parts stay ~1 MB
def mask_secrets(text: str) -> str:
    """`text` with every secret-looking string replaced by «masked» (idempotent).

    A private-key block cut by a context window (BEGIN without END, or END without BEGIN) is
    masked to the window's edge. Memoised: most of a prompt is the same from one keystroke to
    the next.
    """
    if not text:
        return text
    if "PRIVATE KEY" in text:
        text = _KEY_BLOCK.sub(MASK, text)
        if "-----END " in text:
            text = _KEY_BLOCK_TAIL.sub(MASK, text)
    text = _TOKENS.sub(MASK, text)
    if _SECRET_WORD.search(text):
        text = "".join(_mask_assignments(part) if named else part
                       for part, named in _named_stretches(text))
    text = _BEARER.sub(_keep_head, text)
    if "://" in text:
        text = _URL_PASSWORD.sub(_keep_head, text)
    return text


def _mask_assignments(text: str) -> str:
    text = _QUOTED_ASSIGNMENT.sub(_keep_head, text)
    return _BARE_ASSIGNMENT.sub(_keep_head, text)


def _named_stretches(text: str) -> Iterator[tuple[str, bool]]:
    """The text cut into stretches of lines, each with whether an assignment to a secret-named
    variable could be in it: a line naming one, and its next `ASSIGNMENT_REACH` non-blank lines
    (where a value after `=` and line breaks could be)."""
    lines = text.splitlines(keepends=True)
    start = row = 0
    while row < len(lines):
        if not _SECRET_WORD.search(lines[row]):
            row += 1
            continue
        if start < row:
            yield "".join(lines[start:row]), False
        end, reach = row + 1, ASSIGNMENT_REACH
        while end < len(lines) and reach > 0:
            if _SECRET_WORD.search(lines[end]):
                reach = ASSIGNMENT_REACH
            elif lines[end].strip():
                reach -= 1
            end += 1
        yield "".join(lines[row:end]), True
        start = row = end
    if start < len(lines):
        yield "".join(lines[start:]), False


def mask_request(request: ModelRequest, known: Iterable[str] | None = None) -> ModelRequest:
    """The request with every text field masked, and the `known` literal secrets (by default
    the API keys the backends read) replaced wherever they appear."""
    literals = tuple(known_secrets() if known is None else known)

    def clean(text: str) -> str:
        return redact(text, literals)

    return dataclasses.replace(
        request,
        prefix=clean(request.prefix),
        suffix=clean(request.suffix),
        prompt=clean(request.prompt),
        system=clean(request.system),
        messages=tuple(Message(m.role, clean(m.content)) for m in request.messages),
        snippets=tuple(Snippet(s.path, clean(s.text)) for s in request.snippets),
    )


_KNOWN: set[str] = set()


def remember_secret(value: str | None) -> None:
    """Register a literal secret (an API key read from the environment) for redaction."""
    if value and len(value) >= 4:
        _KNOWN.add(value)


def known_secrets() -> tuple[str, ...]:
    return tuple(_KNOWN)


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
    for value in known:
        if value and len(value) >= 4:
            text = text.replace(value, MASK)
    return mask_secrets(text)


def install_log_redaction(
    logger: logging.Logger, known: Callable[[], Iterable[str]] = known_secrets
) -> None:
    """Add a `RedactingFilter` to every handler of `logger` (handler filters see child loggers'
    records too, logger filters do not)."""
    for handler in logger.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter(known))
