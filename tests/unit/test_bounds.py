"""Bounds and sanitising of model answers alone, and the stream wrapper that enforces them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from spark_lsp.completion import stops
from spark_lsp.completion.bounds import (
    INLINE,
    AnswerTooLong,
    Bounds,
    ChunkCleaner,
    sanitize,
    within,
)
from spark_lsp.completion.postprocess import postprocess
from tests.unit.test_completion_cases import job_for


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a\x00b", "ab"),
        ("\x1b[31mred\x1b[0m", "red"),
        ("\x1b]0;title\x07x", "x"),
        ("x\u202e = 1\u2066\u2069", "x = 1"),
        ("a\ud800b", "ab"),  # a lone surrogate
        ("\ud83d\ude00", "\U0001f600"),  # a pair split into two escapes is one character
        ("a\r\nb\rc", "a\nb\nc"),
        ("\tdef f():\n\t\treturn 1", "\tdef f():\n\t\treturn 1"),
        ("x\x7f\x85\x9by", "xy"),
        ("naïve → ok ✓", "naïve → ok ✓"),
    ],
)
def test_sanitize_keeps_code_and_drops_what_the_editor_must_not_draw(raw: str, clean: str
                                                                     ) -> None:
    assert sanitize(raw) == clean
    assert sanitize(clean) == clean


def test_within_keeps_the_whole_lines_that_fit() -> None:
    bounds = Bounds(chars=10, lines=3)
    assert within("a\nb\nc", bounds) == "a\nb\nc"
    assert within("a\nb\nc\nd\ne", bounds) == "a\nb\nc"
    assert within("1234\n5678\n90ab", bounds) == "1234\n5678"
    assert within("x" * 50, bounds) == ""  # a cut line is not code


def test_the_chunk_cleaner_holds_back_what_the_next_chunk_may_finish() -> None:
    cleaner = ChunkCleaner()
    chunks = ["ab\x1b", "[3", "1mc\ud83d", "\ude00d", "\x1b]0;t", "itle\x07e"]
    out = "".join(cleaner.feed(c) for c in chunks) + cleaner.flush()
    assert out == "abc\U0001f600de"


async def _endless(sent: list[int], piece: str = "x = 1\n") -> AsyncIterator[str]:
    try:
        while True:
            sent[0] += 1
            yield piece
            await asyncio.sleep(0)
    finally:
        sent.append(-1)  # closed


async def test_an_endless_stream_is_closed_as_soon_as_it_passes_the_bounds() -> None:
    sent = [0]
    stream = stops.stop_at_bounds(_endless(sent), Bounds(chars=1_000, lines=50))
    text = "".join([chunk async for chunk in stream])
    assert sent[-1] == -1 and sent[0] <= 51
    assert text.count("\n") == 50  # one line past the bounds: `within` cuts it back
    assert within(text, Bounds(chars=1_000, lines=50)).count("\n") == 49


async def test_one_huge_line_is_cut_at_the_character_bound() -> None:
    sent = [0]
    stream = stops.stop_at_bounds(_endless(sent, "y" * 4096), Bounds(chars=10_000, lines=50))
    text = "".join([chunk async for chunk in stream])
    assert len(text) == 10_001 and sent[-1] == -1 and sent[0] == 3
    assert within(text, Bounds(chars=10_000, lines=50)) == ""


async def test_with_refuse_the_stream_fails_instead_of_being_cut() -> None:
    sent = [0]
    stream = stops.stop_at_bounds(_endless(sent), Bounds(chars=100, lines=10), refuse=True)
    with pytest.raises(AnswerTooLong):
        async for _ in stream:
            pass
    await stream.aclose()
    assert sent[-1] == -1


def test_postprocess_drops_a_suggestion_that_is_one_megabyte_line() -> None:
    job = job_for("x = █\n")
    assert postprocess("1" + "0" * 1_000_000, job) is None
    suggestion = postprocess("compute(\x1b[1m1\x00)\u202e", job)
    assert suggestion is not None and suggestion.text == "compute(1)"
    assert postprocess("f(" + "1, " * (INLINE.chars // 3) + ")", job) is None
