"""Imports the server makes at start-up that would otherwise wait for the first completion: the
model backends' modules (httpx and the HTTP clients, ~50 ms) and the asyncio backend httpcore
picks on its first request (~15-50 ms). Start-up, before `initialize` is answered, pays."""

from __future__ import annotations

import contextlib


def import_now() -> None:
    import spark_lsp.models.factory
    import spark_lsp.prompts.build  # noqa: F401

    with contextlib.suppress(ImportError):  # (anyio's layout: a newer one may differ)
        import anyio._backends._asyncio  # noqa: F401
