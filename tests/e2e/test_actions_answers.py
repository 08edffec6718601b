"""Answers in shapes the server must not apply as they come, through the real server with a model
on loopback: junk is refused with its reason (and a retry on the strong tier is offered), a new
body alone is applied, the block that defines the target is the one taken, the action's own
deadline is the one that counts, and what is offered does not depend on the cursor's column.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_lsp import LanguageClient

from tests.e2e.lsp import lsp_session, shown_messages
from tests.e2e.test_actions_support import (
    FILL,
    GENERATE,
    action_session,
    apply_edit,
    kinds,
    list_actions,
    one,
    open_file,
    position_of,
    resolve,
    user_prompt,
)
from tests.fakemodel import FakeModelServer

TEXT = '''import math


def render(rows: list[dict[str, str]]) -> str:
    """Rows as a Markdown table."""
    header = list(rows[0])
    # TODO: build the header line and the separator
    lines = ...
    # TODO: one line per row
    return "\\n".join(lines)


def area(radius: float) -> float:
    """Area of a circle of the given radius."""
    ...


def helper(rows: list[dict[str, str]]) -> int:
    return len(rows)
'''
TODO = position_of(TEXT, "# TODO: build", 2)
STUB = position_of(TEXT, "def area", 2)
BODY = ('    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]\n'
        '    for row in rows:\n'
        '        lines.append("| " + " | ".join(row[h] for h in header) + " |")\n'
        '    return "\\n".join(lines)')


@pytest.fixture
def tiers() -> Iterator[tuple[FakeModelServer, FakeModelServer]]:
    with FakeModelServer() as fast, FakeModelServer() as strong:
        yield fast, strong


def _messages(client: LanguageClient) -> list[str]:
    return shown_messages(client)


async def _refused(client: LanguageClient, uri: str, at: tuple[int, int], kind: str,
                   reply: str, fast: FakeModelServer) -> str:
    """Run the action with this answer; it must be refused: the message."""
    fast.reply = reply
    resolved = await resolve(client, one(await list_actions(client, uri, at), kind))
    assert resolved.get("edit") is None
    (message,) = [m for m in _messages(client) if "not applied" in m][-1:]
    return message


@pytest.mark.parametrize(("reply", "reason"), [
    # The embedded model's junk on a `...` body: a comment, a line, 166 top-level comments.
    ("# Add your code here\nreturn [line]\n" + "# Add your code here\n" * 166,
     "repeats one line"),
    # ... and on a `# TODO` body: 256 lines of one comment.
    ("    # # TODO\n" * 256, "repeats one line"),
    ("```python\n# build the header\n# then the separator\n# then the rows\nlines = []\n```",
     "mostly comments"),
    ("```python\n" + "\n".join(f"x{i} = {i}" for i in range(200)) + "\n```", "far longer"),
])
async def test_junk_is_refused_with_its_reason_and_the_retry_is_offered(
        tiers: tuple[FakeModelServer, FakeModelServer], tmp_path: Path, reply: str,
        reason: str) -> None:
    fast, strong = tiers
    async with action_session(fast, strong, tmp_path) as client:
        uri = open_file(client, tmp_path, "table.py", TEXT, "python")
        message = await _refused(client, uri, TODO, FILL, reply, fast)
        assert reason in message and "Retry with stronger model" in message
        retry = [a for a in await list_actions(client, uri, TODO)
                 if a["title"].startswith("Spark: Retry with stronger model")]
        assert len(retry) == 1 and retry[0]["kind"] == FILL
        assert retry[0]["data"]["tier"] == "strong" and reason in retry[0]["data"]["note"]


async def test_an_answer_that_is_only_the_new_body_is_applied(
        tiers: tuple[FakeModelServer, FakeModelServer], tmp_path: Path) -> None:
    fast, strong = tiers
    async with action_session(fast, strong, tmp_path) as client:
        uri = open_file(client, tmp_path, "table.py", TEXT, "python")
        fast.reply = "```python\n    header = list(rows[0])\n" + BODY + "\n```"
        resolved = await resolve(client, one(await list_actions(client, uri, TODO), FILL))
        after = apply_edit(TEXT, resolved["edit"], uri, 1)
        assert '    """Rows as a Markdown table."""\n    header = list(rows[0])\n' + BODY + \
            "\n\n\ndef area" in after


async def test_an_answer_that_also_defines_another_function_is_refused(
        tiers: tuple[FakeModelServer, FakeModelServer], tmp_path: Path) -> None:
    fast, strong = tiers
    async with action_session(fast, strong, tmp_path) as client:
        uri = open_file(client, tmp_path, "table.py", TEXT, "python")
        reply = ("```python\ndef render(rows: list[dict[str, str]]) -> str:\n"
                 "    header = list(rows[0])\n" + BODY + "\n\n\n"
                 "def helper(rows):\n    return 0\n```")
        message = await _refused(client, uri, TODO, FILL, reply, fast)
        assert "also defines `helper`" in message and "shadow" in message


async def test_an_answer_that_echoes_the_file_is_refused(
        tiers: tuple[FakeModelServer, FakeModelServer], tmp_path: Path) -> None:
    fast, strong = tiers
    async with action_session(fast, strong, tmp_path) as client:
        uri = open_file(client, tmp_path, "table.py", TEXT, "python")
        echoed = TEXT.replace("    ...\n", "    return math.pi * radius ** 2\n")
        message = await _refused(client, uri, STUB, GENERATE, f"```python\n{echoed}```", fast)
        assert "repeats the file" in message


async def test_of_two_blocks_the_one_that_defines_the_function_is_taken(
        tiers: tuple[FakeModelServer, FakeModelServer], tmp_path: Path) -> None:
    fast, strong = tiers
    async with action_session(fast, strong, tmp_path) as client:
        uri = open_file(client, tmp_path, "table.py", TEXT, "python")
        fast.reply = ("Use it like this:\n```python\nprint(area(2.0))\nprint(area(3.5))\n"
                      "assert area(0) == 0\nassert abs(area(1.0) - math.pi) < 1e-9\n"
                      "for r in (1.0, 2.0, 3.0):\n    print(r, area(r))\n```\n"
                      "The function:\n```python\n"
                      "def area(radius: float) -> float:\n    return math.pi * radius ** 2\n```")
        resolved = await resolve(client, one(await list_actions(client, uri, STUB), GENERATE))
        after = apply_edit(TEXT, resolved["edit"], uri, 1)
        assert '"""Area of a circle of the given radius."""\n    return math.pi * radius ** 2\n' \
            in after


async def test_the_retry_goes_to_the_strong_tier_with_what_went_wrong(
        tiers: tuple[FakeModelServer, FakeModelServer], tmp_path: Path) -> None:
    fast, strong = tiers
    async with action_session(fast, strong, tmp_path) as client:
        uri = open_file(client, tmp_path, "table.py", TEXT, "python")
        await _refused(client, uri, STUB, GENERATE, "```python\n" + "# area\n" * 30 + "```",
                       fast)
        retry = one([a for a in await list_actions(client, uri, STUB)
                     if a["title"].startswith("Spark: Retry")], GENERATE)
        strong.reply = "```python\ndef area(radius: float) -> float:\n" \
                       "    return math.pi * radius ** 2\n```"
        resolved = await resolve(client, retry)
        after = apply_edit(TEXT, resolved["edit"], uri, 1)
        assert "    return math.pi * radius ** 2\n" in after
        assert len(strong.requests) == 1 and len(fast.requests) == 1
        assert "was refused because" in user_prompt(strong.requests[0].body)
        (annotation,) = resolved["edit"]["changeAnnotations"].values()
        assert annotation["needsConfirmation"] is True  # the strong tier's: never silent
        # Done: no retry is offered any more for that target.
        assert not [a for a in await list_actions(client, uri, STUB)
                    if a["title"].startswith("Spark: Retry")]


async def test_without_strong_tier_the_retry_is_the_fast_tier_with_a_longer_budget(
        tiers: tuple[FakeModelServer, FakeModelServer], tmp_path: Path) -> None:
    fast, _ = tiers
    async with action_session(fast, None, tmp_path) as client:
        uri = open_file(client, tmp_path, "table.py", TEXT, "python")
        await _refused(client, uri, STUB, GENERATE, "```python\n" + "# area\n" * 30 + "```",
                       fast)
        retry = one([a for a in await list_actions(client, uri, STUB)
                     if a["title"].startswith("Spark: Retry")], GENERATE)
        assert "longer budget" in retry["title"]
        fast.reply = "```python\ndef area(radius: float) -> float:\n    return 1.0\n```"
        resolved = await resolve(client, retry)
        assert resolved.get("edit") is not None
        assert fast.requests[1].body["max_tokens"] == 2 * fast.requests[0].body["max_tokens"]


async def test_the_action_deadline_not_the_fast_tier_read_timeout_governs(
        tmp_path: Path) -> None:
    with FakeModelServer() as fast:
        # The first token comes after 1.5 s: past the tier's 300 ms, well inside the action's.
        fast.first_chunk_delay = 1.5
        fast.reply = "```python\ndef area(radius: float) -> float:\n    return 2.0\n```"
        settings: dict[str, Any] = {
            "fast": {"provider": "openai", "url": fast.url + "/v1", "model": "m",
                     "timeout_ms": 300},
            "actions": {"timeout_ms": 30000},
        }
        async with lsp_session(settings, tmp_path) as client:
            uri = open_file(client, tmp_path, "table.py", TEXT, "python")
            resolved = await resolve(client, one(await list_actions(client, uri, STUB),
                                                 GENERATE))
            assert resolved.get("edit") is not None, _messages(client)
            assert "    return 2.0\n" in apply_edit(TEXT, resolved["edit"], uri, 1)


SKELETON = '''class Totals:
    def total(self, xs: list[int]) -> int:
        """Sum of xs."""
        # TODO: add them up
        pass


def mean(xs: list[float]) -> float:
    # TODO: the mean of xs
'''


async def test_what_is_offered_does_not_depend_on_the_column(
        tiers: tuple[FakeModelServer, FakeModelServer], tmp_path: Path) -> None:
    fast, strong = tiers
    async with action_session(fast, strong, tmp_path) as client:
        uri = open_file(client, tmp_path, "total.py", SKELETON, "python")
        lines = SKELETON.split("\n")

        async def offered(row: int) -> list[list[str]]:
            return [kinds(await list_actions(client, uri, (row, col)))
                    for col in range(len(lines[row]) + 1)]

        for row in (1, 2, 3, 4):  # the method, from its `def` to its last line
            for col, found in enumerate(await offered(row)):
                assert GENERATE in found and FILL in found, (row, col, found)
        # A body that is only a TODO comment (the tree leaves it outside the function).
        assert all(GENERATE in found and FILL in found for found in await offered(7))
        assert all(FILL in found for found in await offered(8))
        # A selection of the two body lines: Fill for what it covers.
        selected = await list_actions(client, uri, (3, 0), (4, 12))
        assert "2 holes in lines 4-5" in one(selected, FILL)["title"]
        assert fast.requests == []


async def test_the_refusal_message_has_a_retry_button_that_runs_the_strong_tier(
        tiers: tuple[FakeModelServer, FakeModelServer], tmp_path: Path) -> None:
    fast, strong = tiers
    async with action_session(fast, strong, tmp_path) as client:
        client.message_choice = "Retry with stronger model"  # type: ignore[attr-defined]
        uri = open_file(client, tmp_path, "table.py", TEXT, "python")
        strong.reply = "```python\ndef area(radius: float) -> float:\n" \
                       "    return math.pi * radius ** 2\n```"
        fast.reply = "```python\n" + "# area\n" * 30 + "```"
        resolved = await resolve(client, one(await list_actions(client, uri, STUB), GENERATE))
        assert resolved.get("edit") is None
        for _ in range(500):  # the button's retry runs after the resolve has its answer
            if client.applied_edits:  # type: ignore[attr-defined]
                break
            await asyncio.sleep(0.02)
        (request,) = client.message_requests  # type: ignore[attr-defined]
        assert "not applied" in request.message and "repeats one line" in request.message
        assert [a.title for a in request.actions] == ["Retry with stronger model"]
        (applied,) = client.applied_edits  # type: ignore[attr-defined]
        edit = client.protocol._converter.unstructure(applied.edit)
        assert "    return math.pi * radius ** 2\n" in apply_edit(TEXT, edit, uri, 1)
        assert len(strong.requests) == 1
