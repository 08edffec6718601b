"""Each stop condition alone: what it keeps, where it cuts, and that it closes what it wraps."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable

import pytest

from spark_lsp.completion import stops


class Source:
    """A chunk stream that records how far it was read and whether it was closed."""

    def __init__(self, chunks: list[str], block_after: bool = False) -> None:
        self.chunks = chunks
        self.block_after = block_after
        self.read = 0
        self.closed = False

    async def stream(self) -> AsyncIterator[str]:
        try:
            for chunk in self.chunks:
                self.read += 1
                yield chunk
            if self.block_after:
                await asyncio.Event().wait()  # a model still generating
        finally:
            self.closed = True


async def run(wrapper: Callable[[stops.TextStream], stops.TextStream], chunks: list[str]
              ) -> tuple[list[str], Source]:
    source = Source(chunks)
    out: list[str] = []
    stream = wrapper(source.stream())
    async with stops.closing(stream):
        async for chunk in stream:
            out.append(chunk)
    return out, source


def sequences(*seqs: str) -> Callable[[stops.TextStream], stops.TextStream]:
    return functools.partial(stops.stop_at_sequences, sequences=seqs)


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        (["abc<|end", "oftext|>def"], "abc"),  # split across chunks
        (["abc<|e", "nd"], "abc<|end"),  # looked like a stop, was not
        (["<|endoftext|>x"], ""),
        (["no stop here"], "no stop here"),
        (["a<", "<|endoftext|>"], "a<"),
    ],
)
async def test_stop_sequences(chunks: list[str], expected: str) -> None:
    out, source = await run(sequences("<|endoftext|>"), chunks)
    assert "".join(out) == expected
    assert source.closed


async def test_stop_sequences_hold_back_only_a_possible_stop() -> None:
    out, _ = await run(sequences("<|endoftext|>"), ["abc<", "|x"])
    assert out == ["abc", "<|x"]


async def test_no_sequences_passes_everything_through() -> None:
    out, _ = await run(sequences(), ["a", "b"])
    assert out == ["a", "b"]


async def test_line_end_cuts_at_the_first_newline_and_stops_reading() -> None:
    out, source = await run(stops.stop_at_line_end, ["ab", "c\nd", "ef", "gh"])
    assert "".join(out) == "abc"
    assert source.read == 2 and source.closed


async def test_leading_newline_gives_nothing() -> None:
    out, _ = await run(stops.stop_at_line_end, ["\nabc"])
    assert out == []


async def test_repeated_line_stops_before_the_repeat() -> None:
    out, source = await run(stops.stop_at_repeated_line,
                            ["x = foo()\n", "y = bar()\n", "y = bar()\n", "z\n"])
    assert "".join(out) == "x = foo()\ny = bar()\n"
    assert source.read == 3 and source.closed


async def test_short_repeated_lines_are_fine() -> None:
    out, _ = await run(stops.stop_at_repeated_line, ["}\n", "}\n", "end"])
    assert "".join(out) == "}\n}\nend"


async def test_existing_line_stops_where_the_model_catches_up_with_the_document() -> None:
    wrap = functools.partial(stops.stop_at_existing_line, existing="    return total\n")
    out, _ = await run(wrap, ["total += 1\n    ret", "urn total\n    more\n"])
    assert "".join(out) == "total += 1\n"


async def test_existing_line_ignores_lines_without_substance() -> None:
    wrap = functools.partial(stops.stop_at_existing_line, existing="}")
    out, _ = await run(wrap, ["a;\n", "}\n", "b"])
    assert "".join(out) == "a;\n}\nb"


class Rule:
    """A LineRule that completes after `complete_after` lines and rejects lines starting 'X'."""

    def __init__(self, complete_after: int = 99) -> None:
        self.complete_after = complete_after
        self.lines = 0
        self.heads: list[str] = []

    def complete(self, text: str) -> bool:
        self.lines += 1
        return self.lines >= self.complete_after

    def continues(self, text: str, head: str) -> bool | None:
        self.heads.append(head)
        if head.strip().startswith("M"):
            return None if len(head.strip()) < 3 else head.strip().startswith("MMM")
        return not head.strip().startswith("X")


async def test_unit_end_stops_right_after_the_completing_line() -> None:
    rule = Rule(complete_after=2)
    wrap = functools.partial(stops.stop_at_unit_end, rule=rule)
    out, source = await run(wrap, ["a\nb", "\nc\n", "d\n"])
    assert "".join(out) == "a\nb\n"
    assert source.read == 2 and source.closed


async def test_unit_end_stops_before_a_line_that_does_not_belong() -> None:
    rule = Rule()
    wrap = functools.partial(stops.stop_at_unit_end, rule=rule)
    out, source = await run(wrap, ["a\n   ", " ", " X", "yz\n"])
    assert "".join(out) == "a\n"
    assert rule.heads == ["     X"]  # asked once the first character arrived, not before
    assert source.read == 3


async def test_unit_end_asks_again_when_the_rule_cannot_tell_yet() -> None:
    rule = Rule()
    wrap = functools.partial(stops.stop_at_unit_end, rule=rule)
    out, _ = await run(wrap, ["a\nM", "M", "M ok\n", "MMx\n"])
    assert "".join(out) == "a\nMMM ok\n"
    assert rule.heads[:3] == ["M", "MM", "MMM ok\n"]  # a whole line comes with its newline


async def test_unit_end_keeps_blank_lines_and_the_final_partial_line() -> None:
    rule = Rule()
    wrap = functools.partial(stops.stop_at_unit_end, rule=rule)
    out, _ = await run(wrap, ["a\n\n", "b"])
    assert "".join(out) == "a\n\nb"


async def test_wrappers_in_a_list_close_the_model_stream_when_any_stops() -> None:
    source = Source(["x = 1\n", "y = 2\n"], block_after=True)
    stream = stops.apply_stops(source.stream(), [sequences("<|end|>"), stops.stop_at_line_end])
    async with stops.closing(stream):
        got = [chunk async for chunk in stream]
    assert got == ["x = 1"]
    assert source.closed and source.read == 1


async def test_cancelling_the_reader_closes_the_model_stream() -> None:
    source = Source(["a"], block_after=True)
    stream = stops.apply_stops(source.stream(), [sequences("<|end|>"), stops.stop_at_repeated_line])

    async def read() -> None:
        async with stops.closing(stream):
            async for _ in stream:
                pass

    task = asyncio.ensure_future(read())
    while source.read == 0:
        await asyncio.sleep(0)
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert source.closed


# -- a model stuck in a loop within one line ----------------------------------------------------


@pytest.mark.parametrize(("chunks", "expected"), [
    (["x = v", *["*v"] * 100], "x = v*v*v"),  # ran to max_tokens before
    (["total(", *[")"] * 80], "total())"),
    (["print(", '"=', "=" * 60, '")'], 'print("=='),
])
async def test_a_runaway_repetition_is_cut_and_the_stream_closed(chunks: list[str],
                                                                  expected: str) -> None:
    out, source = await run(stops.stop_at_repetition, chunks)
    assert source.closed and source.read < len(chunks)
    assert stops.cut_repetition("".join(out)) == expected


async def test_text_passes_the_repetition_check_at_once() -> None:
    """Nothing is held back: what has streamed so far serves deadline answers and typing
    along with a suggestion still on its way."""
    source = Source(["comp", "ute(", "a, b"], block_after=True)
    stream = stops.stop_at_repetition(source.stream())
    assert [await anext(stream) for _ in range(3)] == ["comp", "ute(", "a, b"]
    await stream.aclose()  # type: ignore[attr-defined]


@pytest.mark.parametrize("text", [
    "values = [0, 0, 0, 0]\n",
    'assert line == "-" * 40\n',
    "matrix = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]\n",
    "a" * 30 + "\n" + "a" * 30 + "\n",
])
async def test_ordinary_repeats_pass_whole(text: str) -> None:
    out, _ = await run(stops.stop_at_repetition, list(text))
    assert stops.cut_repetition("".join(out)) == text
