"""Completion-style generation for the actions: a small model continues the code at the body's
indentation, and these stream wrappers end its answer where the block ends.
"""

from __future__ import annotations

import dataclasses
import functools

from spark_lsp.completion import stops
from spark_lsp.completion.stops import StreamWrapper, TextStream, closing
from spark_lsp.model_request import ModelRequest

_EXITS = ("return", "raise")
_OPEN, _CLOSE = "([{", ")]}"


def _leaves_block(line: str, indent: str) -> bool:
    return bool(line.strip()) and len(line) - len(line.lstrip(" \t")) < len(indent)


def _ends_body(line: str, indent: str) -> bool:
    """A complete `return`/`raise` at the body's own indentation: nothing after it runs."""
    stripped = line.strip()
    if len(line) - len(line.lstrip(" \t")) != len(indent) or \
            stripped.split("(", 1)[0].split(" ", 1)[0] not in _EXITS:
        return False
    balance = sum(stripped.count(c) for c in _OPEN) - sum(stripped.count(c) for c in _CLOSE)
    return balance == 0 and not stripped.endswith(("\\", ",", "(", "[", "{"))


def own_indentation(request: ModelRequest) -> tuple[ModelRequest, bool]:
    """A prompt-only continuation (no suffix) ends with the line before the body, without its
    line break or the body's indentation: a small model that sees them starts a new line, often
    at column 0; one that sees the line end writes the break and the indentation itself. The
    answer then starts by ending that line (see `skip_first_line`). Returns the request, and
    whether it did."""
    prompt = request.prompt.rstrip(" \t")
    if request.suffix or not prompt.endswith("\n"):
        return request, False
    prompt = prompt.rstrip("\r\n")
    prefix = request.prefix.rstrip(" \t").rstrip("\r\n")
    return dataclasses.replace(request, prompt=prompt, prefix=prefix), True


async def skip_first_line(source: TextStream) -> TextStream:
    """Drop the answer's text up to its first line break: the end of the prompt's last line
    (a signature, a docstring, a TODO comment), which is not part of the body."""
    async with closing(source):
        skipping = True
        async for chunk in source:
            if skipping:
                cut = chunk.find("\n")
                if cut < 0:
                    continue
                skipping, chunk = False, chunk[cut + 1 :]
            if chunk:
                yield chunk


async def stop_at_block_end(source: TextStream, indent: str, braces: bool,
                            continues_line: bool = True) -> TextStream:
    """Keep the text up to the end of the block that the answer continues: before the first
    line indented less than `indent`, or before the brace that closes the block; in indented
    languages also after a whole `return`/`raise` at `indent`. The answer's first line
    continues the prompt's last line, which already carries `indent` (unless not
    `continues_line`: then it carries its own)."""
    async with closing(source):
        pending = ""
        depth = 0
        first = continues_line
        async for chunk in source:
            pending += chunk
            while "\n" in pending:
                line, pending = pending.split("\n", 1)
                checked = indent + line if first else line
                if not braces and not first and _leaves_block(checked, indent):
                    return
                if braces:
                    for i, ch in enumerate(line):
                        depth += 1 if ch == "{" else -1 if ch == "}" else 0
                        if depth < 0:
                            if line[:i].strip():
                                yield line[:i]
                            return
                yield line + "\n"
                first = False
                if not braces and _ends_body(checked, indent):
                    return
        if pending and not (not braces and not first and _leaves_block(pending, indent)):
            if braces:
                for i, ch in enumerate(pending):
                    depth += 1 if ch == "{" else -1 if ch == "}" else 0
                    if depth < 0:
                        pending = pending[:i]
                        break
            yield pending


async def stop_after_lines(source: TextStream, limit: int) -> TextStream:
    """Stop once the text has more than `limit` lines (it keeps the line past the limit, so the
    answer's check can tell that it was too long)."""
    async with closing(source):
        count = 0
        async for chunk in source:
            yield chunk
            count += chunk.count("\n")
            if count > limit:
                return


async def stop_after_fence(source: TextStream) -> TextStream:
    """Stop after the line that closes the answer's first fenced code block: what a small model
    writes after it (usage, prose, more blocks) is never used."""
    async with closing(source):
        pending, opened = "", False
        async for chunk in source:
            yield chunk
            pending += chunk
            *lines, pending = pending.split("\n")
            for line in lines:
                if line.strip().startswith(("```", "~~~")):
                    if opened:
                        return
                    opened = True


def body_stops(indent: str, braces: bool, limit: int, next_line: str = "",
               continues_line: bool = True) -> list[StreamWrapper]:
    """The stop conditions for a body (or a hole) continued at `indent`, in order."""
    wrappers: list[StreamWrapper] = [] if continues_line else [skip_first_line]
    wrappers += [
        functools.partial(stop_at_block_end, indent=indent, braces=braces,
                          continues_line=continues_line),
        functools.partial(stop_after_lines, limit=limit),
        stops.stop_at_repeated_line,
    ]
    if next_line.strip():
        wrappers.append(functools.partial(stops.stop_at_existing_line, existing=next_line))
    return wrappers
