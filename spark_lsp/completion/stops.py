"""Stop conditions: small async-generator wrappers around the model's token stream.

Each takes a stream of text chunks and yields the part worth keeping; when it decides the rest is
not wanted it returns, and closing it closes the stream it wraps, down to the model's HTTP
response (or in-process generation), so the model stops generating at once. They are applied in
a list (`apply_stops`) and each is tested alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Protocol

from spark_lsp.completion.bounds import AnswerTooLong, Bounds, ChunkCleaner

TextStream = AsyncIterator[str]
StreamWrapper = Callable[[TextStream], TextStream]


class LineRule(Protocol):
    """What `stop_at_unit_end` asks (see `completion.unit.UnitRule`)."""

    def complete(self, text: str) -> bool: ...

    def continues(self, text: str, head: str) -> bool | None: ...


async def close_stream(stream: TextStream) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()


@asynccontextmanager
async def closing(stream: TextStream) -> AsyncIterator[TextStream]:
    """Close `stream` on the way out, however we leave (stop, error, cancellation)."""
    try:
        yield stream
    finally:
        await close_stream(stream)


def apply_stops(stream: TextStream, wrappers: Iterable[StreamWrapper]) -> TextStream:
    """Wrap `stream` in each wrapper in turn (the first listed sees the model's chunks first)."""
    for wrap in wrappers:
        stream = wrap(stream)
    return stream


async def stop_at_sequences(source: TextStream, sequences: Iterable[str]) -> TextStream:
    """Cut before the first stop sequence, even one split across chunks (held back until sure)."""
    stops = [s for s in sequences if s]
    async with closing(source):
        if not stops:
            async for chunk in source:
                yield chunk
            return
        buffer = ""
        async for chunk in source:
            buffer += chunk
            hits = [i for i in (buffer.find(s) for s in stops) if i >= 0]
            if hits:
                if min(hits):
                    yield buffer[: min(hits)]
                return
            keep = max((k for s in stops for k in range(1, len(s)) if buffer.endswith(s[:k])),
                       default=0)
            if len(buffer) > keep:
                yield buffer[: len(buffer) - keep]
                buffer = buffer[len(buffer) - keep :]
        if buffer:
            yield buffer


async def stop_at_line_end(source: TextStream) -> TextStream:
    """Keep the text before the first newline (finishing the cursor's line)."""
    async with closing(source):
        async for chunk in source:
            cut = chunk.find("\n")
            if cut >= 0:
                if cut:
                    yield chunk[:cut]
                return
            yield chunk


# A model stuck in a loop within one line (`v*v*v*v*…`, `)))))…`) repeats a short unit: once
# the text ends in one unit of up to MAX_REPEAT_UNIT characters repeated to REPEAT_LIMIT
# characters (and at least MIN_REPEATS times) the stream is closed, and the run is cut back to
# KEPT_REPEATS units. Real code rarely repeats a unit that long on a line ("-" * 40 is written
# that way; a 48-character run of the same few characters is a loop).
MAX_REPEAT_UNIT = 16
REPEAT_LIMIT = 48
MIN_REPEATS = 4
KEPT_REPEATS = 2


def repeated_run(text: str) -> tuple[int, int] | None:
    """(start, unit length) of a run at the end of `text` that is one unit repeated past the
    limits above, else None."""
    for unit in range(1, MAX_REPEAT_UNIT + 1):
        if len(text) < max(REPEAT_LIMIT, unit * MIN_REPEATS):
            break
        start = len(text) - unit
        while start >= unit and text[start - unit : start] == text[start : start + unit]:
            start -= unit
        if len(text) - start >= max(REPEAT_LIMIT, unit * MIN_REPEATS):
            return start, unit
    return None


async def stop_at_repetition(source: TextStream) -> TextStream:
    """Close the stream once the text ends in a runaway repetition (`cut_repetition` trims the
    run from the answer). Text passes at once: holding it back would starve the readers of
    what has streamed so far (a deadline answer, typing along with a suggestion)."""
    async with closing(source):
        line = ""  # the current line so far
        async for chunk in source:
            yield chunk
            line = (line + chunk).rsplit("\n", 1)[-1]
            if repeated_run(line) is not None:
                return


def cut_repetition(text: str) -> str:
    """`text` with a runaway repetition at its end cut back to `KEPT_REPEATS` units."""
    last = text.rpartition("\n")[2]
    run = repeated_run(last)
    if run is None:
        return text
    start, unit = run
    return text[: len(text) - len(last) + start + unit * KEPT_REPEATS]


def _substantial(line: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= 4 and any(ch.isalnum() for ch in stripped)


async def _drop_line_equal_to(source: TextStream, target: Callable[[], str]) -> TextStream:
    """Yield text until a whole line equals `target()` (stripped); stop before that line.

    Text is held back only while the current line could still turn out to be that line, so
    the wrappers after this one see the rest at once.
    """
    async with closing(source):
        held = ""  # start of the current line, held while it may still be rejected
        passing = False  # the current line is known not to be rejected
        async for chunk in source:
            while chunk:
                cut = chunk.find("\n")
                piece, chunk = (chunk, "") if cut < 0 else (chunk[: cut + 1], chunk[cut + 1 :])
                if passing:
                    yield piece
                else:
                    held += piece
                    wanted = target()
                    line = held.strip()
                    if held.endswith("\n"):
                        if line and line == wanted:
                            return
                        yield held
                        held = ""
                    elif not (line and wanted.startswith(line)) and line:
                        passing = True
                        yield held
                        held = ""
                if piece.endswith("\n"):
                    passing = False
                    held = ""
        if held and held.strip() != target():
            yield held


def stop_at_repeated_line(source: TextStream) -> TextStream:
    """Stop before a line that repeats the line just before it (a model stuck in a loop)."""
    previous = [""]

    async def remember(inner: TextStream) -> TextStream:
        async with closing(inner):
            line = ""
            async for chunk in inner:
                yield chunk
                line += chunk
                while "\n" in line:
                    done, line = line.split("\n", 1)
                    if done.strip():
                        previous[0] = done.strip()

    def target() -> str:
        return previous[0] if _substantial(previous[0]) else "\0"

    return remember(_drop_line_equal_to(source, target))


def stop_at_existing_line(source: TextStream, existing: str) -> TextStream:
    """Stop before a line equal to `existing`, the document's next line after the cursor: the
    model has caught up with code that is already there."""
    wanted = existing.strip() if _substantial(existing) else "\0"
    return _drop_line_equal_to(source, lambda: wanted)


async def stop_at_unit_end(source: TextStream, rule: LineRule) -> TextStream:
    """Stop as soon as the text completes the unit (statement or block) that `rule` judges:
    after a line that completes it, or before a line that no longer belongs to it."""
    async with closing(source):
        text = ""  # yielded so far: whole lines
        pending = ""  # received, not yet yielded
        decided = True  # whether the line in `pending` is known to belong to the unit
        async for chunk in source:
            pending += chunk
            while True:
                if not decided:
                    line_so_far = pending.split("\n", 1)[0]
                    if line_so_far.strip():
                        head = line_so_far + ("\n" if "\n" in pending else "")
                        verdict = rule.continues(text, head)
                        if verdict is False:
                            return
                        if verdict is None:
                            break  # need more of this line
                    elif "\n" not in pending:
                        break  # only indentation so far
                    decided = True
                cut = pending.find("\n")
                if cut < 0:
                    break
                line, pending = pending[: cut + 1], pending[cut + 1 :]
                text += line
                yield line
                if rule.complete(text):
                    return
                decided = False
        if pending and (decided or rule.continues(text, pending) is not False):
            yield pending


async def stop_at_bounds(source: TextStream, bounds: Bounds, refuse: bool = False) -> TextStream:
    """Sanitise the text (`bounds.sanitize`) and close the stream the moment it passes `bounds`
    (a model that ignores `max_tokens`): what it yields then passes them by a character or a
    line, so `bounds.within` cuts it back to whole lines. With `refuse`, `AnswerTooLong`
    instead (a code action must not apply a cut answer)."""
    cleaner = ChunkCleaner()
    size = newlines = 0
    async with closing(source):
        async for chunk in source:
            text = cleaner.feed(chunk)
            if size + len(text) > bounds.chars or newlines + text.count("\n") >= bounds.lines:
                if refuse:
                    raise AnswerTooLong(f"the answer passed {bounds.chars:,} characters or "
                                        f"{bounds.lines:,} lines")
                keep = bounds.chars + 1 - size
                if newlines + text.count("\n") >= bounds.lines:
                    at = -1
                    for _ in range(bounds.lines - newlines):  # to the newline that passes them
                        at = text.find("\n", at + 1)
                    keep = min(keep, at + 1)
                yield text[:keep]
                return
            size, newlines = size + len(text), newlines + text.count("\n")
            if text:
                yield text
        tail = cleaner.flush()
        if tail:
            yield tail
