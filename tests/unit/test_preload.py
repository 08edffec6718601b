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
