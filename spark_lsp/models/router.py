"""The two-tier router: which backend serves a request, created lazily and reused.

Inline completions stay on the fast tier. Actions go to the strong tier when their kind or score
asks for it; with no strong tier configured, the fast tier serves them and says so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from spark_lsp.models.base import Backend
from spark_lsp.settings import ModelSettings, Settings

log = logging.getLogger(__name__)

Tier = Literal["fast", "strong"]


@dataclass(frozen=True)
class Route:
    tier: Tier
    backend: Backend
    settings: ModelSettings
    fell_back: bool = False  # asked for strong, got fast


class Router:
    """Owns one backend per tier; settings changes replace (and close) the affected backends."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._backends: dict[Tier, Backend] = {}
        self._closing: list[Backend] = []

    def update(self, settings: Settings) -> None:
        tiers: tuple[Tier, ...] = ("fast", "strong")
        for tier in tiers:
            old = self._model_settings(self._settings, tier)
            new = self._model_settings(settings, tier)
            if old != new and tier in self._backends:
                self._closing.append(self._backends.pop(tier))
        self._settings = settings

    @staticmethod
    def _model_settings(settings: Settings, tier: Tier) -> ModelSettings | None:
        return settings.fast if tier == "fast" else settings.strong

    @property
    def has_strong(self) -> bool:
        return self._settings.strong is not None

    def _backend(self, tier: Tier, model: ModelSettings) -> Backend:
        backend = self._backends.get(tier)
        if backend is None:
            from spark_lsp.models.factory import create_backend

            backend = create_backend(model)
            self._backends[tier] = backend
        return backend

    def route(self, tier: Tier) -> Route:
        if tier == "strong" and self._settings.strong is not None:
            return Route(
                "strong", self._backend("strong", self._settings.strong), self._settings.strong
            )
        return Route(
            "fast",
            self._backend("fast", self._settings.fast),
            self._settings.fast,
            fell_back=tier == "strong",
        )

    async def aclose(self) -> None:
        pending = self._closing + list(self._backends.values())
        self._closing, self._backends = [], {}
        for backend in pending:
            try:
                await backend.aclose()
            except Exception:  # closing must never fail shutdown
                log.debug("error closing backend", exc_info=True)

    async def close_retired(self) -> None:
        retired, self._closing = self._closing, []
        for backend in retired:
            await backend.aclose()
