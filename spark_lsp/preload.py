"""Load a tier's model ahead of its first request, so that request's time limit (`timeout_ms`)
covers the answer, not the loading (the embedded model takes a second or more to load; more on a
busy machine)."""

from __future__ import annotations

import logging

from spark_lsp.models.base import Backend, ModelError

log = logging.getLogger(__name__)


async def load_model_of(backend: Backend) -> None:
    """Load the model behind `backend` now, when it has one to load (the embedded model); at
    once otherwise. A failure is left for the request to report."""
    inner = getattr(backend, "inner", backend)  # a GuardedBackend's own backend
    load = getattr(inner, "load", None)
    if load is None:
        return
    try:
        await load()
    except ModelError as exc:
        log.debug("preloading the model failed: %s", exc)
