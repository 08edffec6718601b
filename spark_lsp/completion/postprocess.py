"""Turn the model's (already stopped) text into a suggestion that can be shown as-is at the cursor.

Trims what repeats the text typed before the cursor (a chat model answers `return x` after
`ret`), what duplicates the text after the cursor (the rest of the line, closing brackets the
editor already has, following lines), fixes indentation to the cursor's block, drops suggestions
that are empty or repeat the line above, and says which text after the cursor it replaces.
"""

from __future__ import annotations

from spark_lsp.completion.bounds import INLINE, sanitize, within
from spark_lsp.completion.brackets import CLOSERS, depth_of
from spark_lsp.completion.scope import indent_of, indent_width, opens_block
from spark_lsp.completion.stops import cut_repetition
from spark_lsp.completion.types import CompletionJob, Suggestion, word_before
from spark_lsp.documents.text import utf16_len

_CLOSING = set(CLOSERS + "\"'`;:,>")
_FOLLOWING_LINES = 5


def _closing_only(text: str) -> bool:
    stripped = text.replace(" ", "")
    return bool(stripped) and all(ch in _CLOSING for ch in stripped)


def _is_subsequence(needle: str, haystack: str) -> bool:
    it = iter(haystack)
    return all(ch in it for ch in needle)


# -- one line -----------------------------------------------------------------------------------


def fit_line_suffix(text: str, suffix: str) -> tuple[str, int]:
    """(text, number of characters after the cursor it replaces) for a one-line suggestion.

    - the suggestion ends with the rest of the line: drop that end (the editor has it);
    - it ends with the start of a rest made of closing characters (`)`, `]);`): drop that part;
    - it types through the start of such a rest and goes on (`a) + 1` before `)`): replace
      what it types through;
    - otherwise insert before the rest.
    """
    rest = suffix.rstrip()
    wanted = rest.strip()
    if not wanted:
        return text, 0
    if text.strip() == wanted:
        return "", 0
    if text.endswith(wanted):
        cut = text[: len(text) - len(wanted)]
        return (cut.rstrip() if rest[0].isspace() else cut), 0
    if _closing_only(wanted):
        for k in range(len(wanted), 0, -1):
            if text.endswith(wanted[:k]) and _closing_only(wanted[:k]):
                return text[: len(text) - k], 0
        lead = len(rest) - len(rest.lstrip())
        for k in range(len(wanted), 0, -1):
            if _is_subsequence(wanted[:k].replace(" ", ""), text):
                return text, lead + k
    return text, 0


def _next_line(raw: str, job: CompletionJob) -> str:
    """At the end of a line of code, the model's text that begins with a line end: the next
    line with code, as a line end and that line (at least at the cursor line's indentation
    unless it closes a block), or "" when it is the document's next line already or the
    cursor's line again."""
    line = next((x.rstrip() for x in raw.split("\n")[1:] if x.strip()), "")
    following = _following_lines(job)
    if not line or line.strip() in (*following[:1], job.line_prefix.strip()):
        return ""
    indent = indent_of(job.snapshot.line_text(job.line))
    if not indent_of(line) and indent and not _closing_only(line):
        line = indent + line  # the model left the indentation to the editor
    return "\n" + _reindent(line, 0, job.scope.indent_unit)


def _line_mode(raw: str, job: CompletionJob) -> tuple[str, int]:
    if job.scope.at_line_end and not raw.split("\n", 1)[0].strip() and "\n" in raw:
        return _next_line(raw, job), 0
    text = raw.split("\n", 1)[0].rstrip()
    if job.line_prefix.endswith((" ", "\t")):
        text = text.lstrip(" \t")  # the prefix already has the space
    if not text.strip():
        return "", 0
    return fit_line_suffix(text, job.line_suffix)


# -- several lines ------------------------------------------------------------------------------


def _reindent(line: str, shift: int, unit: str) -> str:
    if not line.strip():
        return ""
    ws = indent_of(line)
    width = max(0, indent_width(ws) + shift)
    if shift == 0 and ("\t" in ws) == (unit == "\t"):
        return line
    return _make_indent(width, unit) + line[len(ws) :]


def _make_indent(width: int, unit: str) -> str:
    return "\t" * (width // 4) + " " * (width % 4) if unit == "\t" else " " * width


def fix_indentation(text: str, job: CompletionJob) -> str:
    """Re-base the lines on the cursor's block: the first line starts where the unit starts, the
    others keep their shape relative to it, in the document's indentation style."""
    scope, unit = job.scope, job.scope.indent_unit
    lines = text.split("\n")
    if scope.opens_at_cursor:
        # The body goes on the next lines, one level deeper than the opener.
        body = [x for x in lines if x.strip()]
        if lines[0].strip():
            lines.insert(0, "")
        if not body:
            return ""
        target = indent_width(scope.indent) + indent_width(unit)
        found = indent_width(indent_of(body[0]))
        shift = target - found if found <= indent_width(scope.indent) else 0
        return "\n".join([""] + [_reindent(x, shift, unit) for x in lines[1:]])
    if job.line_prefix.strip():
        return "\n".join([lines[0]] + [_reindent(x, 0, unit) for x in lines[1:]])
    while lines and not lines[0].strip():
        lines.pop(0)  # a blank line before the code is not what the cursor's line wants
    if not lines:
        return ""
    cursor = indent_width(job.line_prefix)
    first_ws = indent_of(lines[0])
    rest = lines[1:]
    if first_ws:
        model_first = indent_width(first_ws)  # the model wrote the line's whole indentation
    else:
        # Continuation lines left of the cursor, or a block body not deeper than its opener:
        # the model wrote them as if the first line were at column 0.
        widths = [indent_width(indent_of(x)) for x in rest if x.strip()]
        relative = bool(widths) and (
            min(widths) < cursor
            or (opens_block(lines[0], job.snapshot.language) and widths[0] <= cursor))
        model_first = 0 if relative else cursor
    target = cursor or model_first
    if scope.mode == "block" and target <= indent_width(scope.indent):
        target = indent_width(scope.indent) + indent_width(unit)
    first = _make_indent(max(0, target - cursor), unit) + lines[0].lstrip()
    shift = target - model_first
    return "\n".join([first] + [_reindent(x, shift, unit) for x in rest])


def _following_lines(job: CompletionJob) -> list[str]:
    out: list[str] = []
    row = job.line + 1
    while row < len(job.snapshot.lines) and len(out) < _FOLLOWING_LINES:
        stripped = job.snapshot.line_text(row).strip()
        if stripped:
            out.append(stripped)
        row += 1
    return out


def trim_following_overlap(text: str, following: list[str], language: str | None) -> str:
    """Drop the suggestion's last lines when they are the document's next lines (the editor
    already has them). Lines of closing brackets only go when the suggestion closes more than
    it opens, so a statement's own closing brace stays."""
    lines = text.split("\n")
    code = [i for i, x in enumerate(lines) if x.strip()]
    for k in range(min(len(code), len(following)), 0, -1):
        tail = [lines[i].strip() for i in code[-k:]]
        if tail != following[:k]:
            continue
        if all(_closing_only(x) for x in tail) and depth_of(text, language) >= 0:
            continue
        return "\n".join(lines[: code[-k]]).rstrip()
    return text


def _previous_line(job: CompletionJob) -> str:
    row = job.line - 1
    while row >= 0:
        stripped = job.snapshot.line_text(row).strip()
        if stripped:
            return stripped
        row -= 1
    return ""


def _repeats_line_above(first_line: str, job: CompletionJob) -> bool:
    above = _previous_line(job)
    return bool(above) and not _closing_only(above) and first_line.strip() == above


def drop_typed_echo(raw: str, line_prefix: str) -> str:
    """The model's text less what it repeats of the cursor's line before the cursor: the whole
    typed statement (`x = fo` → `x = foo()`), or the identifier being typed (`ret` →
    `return x`). One typed letter counts only when the answer goes on with the same word
    (`r` → `return`, not `a` → `a + b`, which may well be meant as `aa + b`)."""
    body = line_prefix.lstrip(" \t")
    answer = raw.lstrip(" \t")
    if len(body) >= 2 and answer.startswith(body) and answer[len(body) :].strip():
        return answer[len(body) :]
    word = word_before(line_prefix)
    rest = raw[len(word) :]
    if word and raw.startswith(word) and rest.strip() and (
            len(word) >= 2 or rest[0].isalnum() or rest[0] == "_"):
        return rest
    return raw


def postprocess(raw: str, job: CompletionJob) -> Suggestion | None:
    """The suggestion to show for the model's text, or None when nothing useful is left."""
    raw = cut_repetition(within(sanitize(raw), INLINE))  # sanitize: also `\r\n`, `\r` to `\n`
    raw = drop_typed_echo(raw, job.line_prefix)
    if job.mode == "line":
        text, replaced = _line_mode(raw, job)
        shown_line = text.strip() if text.startswith("\n") else job.line_prefix + text
    else:
        text = fix_indentation(raw, job).rstrip()
        text = trim_following_overlap(text, _following_lines(job), job.snapshot.language)
        replaced = 0
        first = next((x for x in text.split("\n") if x.strip()), "")
        shown_line = first if job.line_prefix.strip() == "" else job.line_prefix + first
    if not text.strip() or _repeats_line_above(shown_line, job):
        return None
    end = job.character + utf16_len(job.line_suffix[:replaced])
    return Suggestion(text=text, line=job.line, character=job.character,
                      replace_end_character=end, word_prefix=word_before(job.line_prefix))
