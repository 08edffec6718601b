"""Loading a tier's model ahead of its first request (so its time limit covers the answer)."""

from __future__ import annotations

from typing import Any

from spark_lsp.models.base import ModelNotInstalled
from spark_lsp.parent import alive
from spark_lsp.preload import load_model_of


class _Inner:
    def __init__(self, fail: bool = False) -> None:
        self.loads = 0
        self.fail = fail

    async def load(self) -> None:
        self.loads += 1
        if self.fail:
            raise ModelNotInstalled("no model here")


class _Guarded:
    def __init__(self, inner: Any) -> None:
        self.inner = inner


async def test_loads_the_model_behind_a_guarded_backend() -> None:
    inner = _Inner()
    await load_model_of(_Guarded(inner))  # type: ignore[arg-type]
    assert inner.loads == 1


async def test_a_backend_without_a_model_to_load_is_left_alone() -> None:
    await load_model_of(_Guarded(object()))  # type: ignore[arg-type]


async def test_a_failed_load_is_left_for_the_request_to_report() -> None:
    inner = _Inner(fail=True)
    await load_model_of(_Guarded(inner))  # type: ignore[arg-type]
    assert inner.loads == 1


def test_alive_tells_a_running_process_from_a_gone_one() -> None:
    import os
    import subprocess
    import sys

    assert alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not alive(child.pid)


async def test_the_first_request_waits_for_the_preload_outside_its_time_limit(
    monkeypatch: Any,
) -> None:
    """The session's first completion starts its model call (and so its timeout_ms) only once
    the model is loaded."""
    import asyncio

    from spark_lsp import session as session_mod
    from spark_lsp.completion.types import Answer

    events: list[str] = []

    async def slow_load(backend: Any) -> None:
        await asyncio.sleep(0.2)
        events.append("loaded")

    async def complete(*args: Any, **kwargs: Any) -> Answer:
        events.append("request")
        return Answer(None, "none")

    monkeypatch.setattr(session_mod, "load_model_of", slow_load)
    session = session_mod.Session()
    monkeypatch.setattr(session.completions, "complete", complete)
    session.documents.open("file:///a.py", "python", 1, "x = 1\n")
    session.preload_model()
    await session.answer_completion("file:///a.py", 0, 4)
    assert events == ["loaded", "request"]
    await session.aclose()
