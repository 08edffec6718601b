"""Clean a model's raw completion so it can be inserted as-is at the cursor."""

from __future__ import annotations

from spark_lsp.completion.types import CompletionJob


def _common_indent(lines: list[str]) -> str:
    indents = [line[: len(line) - len(line.lstrip())] for line in lines if line.strip()]
    if not indents:
        return ""
    shortest = min(indents, key=len)
    while shortest and not all(i.startswith(shortest) for i in indents):
        shortest = shortest[:-1]
    return shortest


def fix_indentation(text: str, job: CompletionJob) -> str:
    """Continuation lines keep their shape, re-based on the cursor line's indentation."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    cursor_indent = job.line_prefix[: len(job.line_prefix) - len(job.line_prefix.lstrip())]
    if job.line_prefix.strip():
        return text  # mid-line: the model's own continuation indentation is relative already
    rest = lines[1:]
    first_indent = lines[0][: len(lines[0]) - len(lines[0].lstrip())]
    base = _common_indent([first_indent + "x", *rest]) if lines[0].strip() else _common_indent(rest)
    fixed = [lines[0].lstrip() if not job.line_prefix else lines[0][len(first_indent):]
             if lines[0].startswith(first_indent) else lines[0]]
    for line in rest:
        if not line.strip():
            fixed.append("")
        elif line.startswith(base):
            fixed.append(cursor_indent + line[len(base):])
        else:
            fixed.append(cursor_indent + line.lstrip())
    return "\n".join(fixed)


def trim_suffix_overlap(text: str, line_suffix: str, following: str) -> str:
    """Drop the end of the suggestion that repeats what already follows the cursor."""
    rest_of_line = line_suffix.strip()
    if rest_of_line and text.rstrip().endswith(rest_of_line):
        text = text.rstrip()[: -len(rest_of_line)]
    following = following.lstrip()
    if following:
        # Longest tail of the suggestion that is a head of the following text (≥ 1 line).
        stripped = text.rstrip()
        for cut in range(len(stripped)):
            tail = stripped[cut:]
            if "\n" in tail.strip() or len(tail.strip()) >= 12:
                if following.startswith(tail.strip()) and tail.strip():
                    return stripped[:cut].rstrip(" \t")
            else:
                break
    return text


def clean(raw: str, job: CompletionJob) -> str | None:
    """The text to show, or None when nothing useful is left."""
    text = raw.replace("\r\n", "\n")
    if job.mode == "line":
        text = text.split("\n", 1)[0]
    text = text.rstrip()
    if not text.strip():
        return None
    if not job.line_prefix.strip() and not job.line_prefix == "":
        text = text.lstrip() if job.line_prefix.endswith((" ", "\t")) else text
    text = fix_indentation(text, job)
    following = "".join(job.snapshot.lines[job.line + 1 : job.line + 6])
    text = trim_suffix_overlap(text, job.line_suffix, job.line_suffix + "\n" + following)
    if not text.strip():
        return None
    previous = job.snapshot.line_text(job.line - 1).strip()
    if previous and text.strip() == previous:
        return None
    return text
