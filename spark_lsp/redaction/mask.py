"""Find and mask secret-looking strings (API keys, tokens, passwords, private-key blocks) in text
before it leaves the machine for a model.

The text around the cursor is masked as one text before it is split (`mask_split`), so a
token the cursor cuts is masked whole. Own patterns rather than detect-secrets' plugins: they
run on every keystroke's prompt (detect-secrets scans line by line at ~57 µs a line for five
plugins, imports `requests`, gives values rather than spans, and its AWS and Basic-auth plugins
miss a secret key with no telling name and an `Authorization: Basic` header).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import math
import re
from collections.abc import Iterable, Iterator

from spark_lsp.model_request import Message, ModelRequest, Snippet
from spark_lsp.redaction.known import known_secrets

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

# `Authorization: Basic dXNlcjpwYXNz`: the value when it decodes to `user:password`.
_BASIC = re.compile(r"(?i)(?P<head>\bbasic\s+)(?P<value>[A-Za-z0-9+/]{8,}={0,2})(?![\w+/=])")
# An AWS secret access key: 40 characters of base64, whatever the name it is assigned to.
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{40}(?![A-Za-z0-9+/=])")
# A quoted high-entropy string assigned to a name that looks secret in a looser sense.
_LOOSE_WORD = re.compile(r"(?i)key|auth|salt|seed|sig|cred|pass|priv|cert|session|cookie|hmac")
_LOOSE_ASSIGNMENT = re.compile(
    r"""(?ix)
    (?P<head>["']?\b[A-Za-z0-9_.\-]*(?:key|auth|salt|seed|sig|cred|pass|priv|cert|session|cookie
       |hmac)[A-Za-z0-9_.\-]*["']?\s*(?::\s*[A-Za-z_][\w\[\], ]*)?\s*(?:=|:|:=|=>)\s*[rbu]?)
    (?P<quote>["'`])(?P<value>[A-Za-z0-9+/=_\-.~]{16,})(?P=quote)
    """
)


def entropy(text: str) -> float:
    """Shannon entropy of `text`, in bits per character."""
    counts = [text.count(ch) for ch in set(text)]
    return -sum(c / len(text) * math.log2(c / len(text)) for c in counts) if text else 0.0


def _random_looking(value: str) -> bool:
    if not (any(ch.isdigit() for ch in value) and any(ch.isalpha() for ch in value)):
        return False
    hexadecimal = all(ch in "0123456789abcdefABCDEF" for ch in value)
    return entropy(value) >= (3.0 if hexadecimal else 3.5)


def _mask_basic(match: re.Match[str]) -> str:
    try:
        decoded = base64.b64decode(match.group("value") + "==", validate=False)
    except (binascii.Error, ValueError):
        return match.group()
    return f"{match.group('head')}{MASK}" if b":" in decoded else match.group()


def _mask_aws_secret(match: re.Match[str]) -> str:
    value = match.group()
    mixed = (any(ch.isupper() for ch in value) and any(ch.islower() for ch in value)
             and any(ch.isdigit() for ch in value))
    return MASK if mixed and entropy(value) >= 4.0 else value


def _mask_loose(match: re.Match[str]) -> str:
    return _keep_head(match) if _random_looking(match.group("value")) else match.group()


def _more_shapes(text: str) -> str:
    """Basic credentials, AWS secret keys, high-entropy values of secret-looking names."""
    if re.search(r"(?i)basic\s", text):
        text = _BASIC.sub(_mask_basic, text)
    text = _AWS_SECRET.sub(_mask_aws_secret, text)
    if _LOOSE_WORD.search(text):
        text = "".join(_LOOSE_ASSIGNMENT.sub(_mask_loose, line) if _LOOSE_WORD.search(line)
                       else line for line in text.splitlines(keepends=True))
    return text


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
    return _more_shapes(text)


def mask_split(prefix: str, suffix: str) -> tuple[str, str]:
    """`prefix` and `suffix` masked as the one text they are, split again where the cursor
    was: a secret the cursor cuts (`ghp_abc█def…`) is masked whole, and the cursor then sits
    before its mask."""
    left, right = mask_secrets(prefix), mask_secrets(suffix)
    if not prefix or not suffix:
        return left, right
    # What can cross the cursor lies near it: look there first (the whole text costs more).
    tail, head = prefix[_near_start(prefix):], suffix[:_near_end(suffix)]
    if mask_secrets(tail + head) == mask_secrets(tail) + mask_secrets(head):
        return left, right
    whole = mask_secrets(prefix + suffix)
    if whole == left + right:
        return left, right
    cut = min(_common_prefix(whole, left), len(whole) - _common_suffix(whole, right))
    return whole[:cut], whole[cut:]


_NEAR_CHARS = 4_000
_NEAR_LINES = ASSIGNMENT_REACH + 2  # non-blank lines: a secret's name and where its value is


def _near_start(prefix: str) -> int:
    start, found = len(prefix), 0
    floor = max(0, len(prefix) - _NEAR_CHARS)
    while start > floor and found < _NEAR_LINES:
        line_start = prefix.rfind("\n", floor, start - 1) + 1
        found += bool(prefix[line_start:start].strip())
        start = max(line_start, floor)
    return start


def _near_end(suffix: str) -> int:
    end, found = 0, 0
    ceiling = min(len(suffix), _NEAR_CHARS)
    while end < ceiling and found < _NEAR_LINES:
        line_end = suffix.find("\n", end, ceiling)
        line_end = ceiling if line_end < 0 else line_end + 1
        found += bool(suffix[end:line_end].strip())
        end = line_end
    return end


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    lo, hi = 0, n  # binary search on slices: C-speed comparisons
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[len(a) - mid :] == b[len(b) - mid :]:
            lo = mid
        else:
            hi = mid - 1
    return lo


# The cursor mark of chat prompts (`prompts.chat.CURSOR`): the text on its two sides is one.
_CURSOR_MARKS = ("<CURSOR>",)


def _mask_at_marks(text: str) -> str:
    for mark in _CURSOR_MARKS:
        before, found, after = text.partition(mark)
        if found:
            before, after = mask_split(before, after)
            return before + mark + _mask_at_marks(after)
    return mask_secrets(text)


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


def mask_known(text: str, values: Iterable[str]) -> str:
    """`text` with each of the literal secret `values` replaced wherever it appears (values
    under four characters are left: they would mask ordinary text)."""
    for value in values:
        if value and len(value) >= 4:
            text = text.replace(value, MASK)
    return text


def mask_request(request: ModelRequest, known: Iterable[str] | None = None) -> ModelRequest:
    """The request with every text field masked, and the `known` literal secrets (by default
    the API keys the backends read) replaced wherever they appear. Prefix and suffix are
    masked as one text (`mask_split`), in their own fields and where a prompt holds them."""
    literals = tuple(known_secrets() if known is None else known)

    def literal(text: str) -> str:
        return mask_known(text, literals)

    raw_prefix, raw_suffix = literal(request.prefix), literal(request.suffix)
    prefix, suffix = mask_split(raw_prefix, raw_suffix)
    prompt = literal(request.prompt)
    if raw_prefix and prefix != raw_prefix:
        prompt = prompt.replace(raw_prefix, prefix, 1)
    if raw_suffix and suffix != raw_suffix:
        prompt = prompt.replace(raw_suffix, suffix, 1)
    return dataclasses.replace(
        request,
        prefix=prefix,
        suffix=suffix,
        prompt=mask_secrets(prompt),
        system=mask_secrets(literal(request.system)),
        messages=tuple(Message(m.role, _mask_at_marks(literal(m.content)))
                       for m in request.messages),
        snippets=tuple(Snippet(s.path, mask_secrets(literal(s.text))) for s in request.snippets),
    )
