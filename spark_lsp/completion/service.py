"""Per-document completion flow: supersede older requests, debounce, and survive model faults."""

from __future__ import annotations

import asyncio
import logging

from spark_lsp.completion.pipeline import generate
from spark_lsp.completion.types import CompletionJob, Suggestion
from spark_lsp.models.base import ModelError
from spark_lsp.models.router import Route
from spark_lsp.settings import Settings

log = logging.getLogger(__name__)


class CompletionService:
    """One in-flight completion per document; a newer request cancels the older one."""

    def __init__(self) -> None:
        self._inflight: dict[str, asyncio.Task[object]] = {}

    @property
    def inflight(self) -> int:
        return sum(1 for task in self._inflight.values() if not task.done())

    def supersede(self, uri: str) -> None:
        task = asyncio.current_task()
        previous = self._inflight.get(uri)
        if previous is not None and previous is not task and not previous.done():
            previous.cancel()
        if task is not None:
            self._inflight[uri] = task

    def finish(self, uri: str) -> None:
        if self._inflight.get(uri) is asyncio.current_task():
            del self._inflight[uri]

    async def complete(self, job: CompletionJob, route: Route, settings: Settings) -> Suggestion | None:
        uri = job.snapshot.uri
        self.supersede(uri)
        try:
            if settings.completion.debounce_ms > 0:
                await asyncio.sleep(settings.completion.debounce_ms / 1000)
            return await generate(job, route.backend, settings)
        except ModelError as exc:
            log.warning("completion failed (%s): %s", exc.kind, exc)
            return None
        finally:
            self.finish(uri)
