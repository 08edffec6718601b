"""The two-tier router: which backend serves a request, created lazily and reused.

Inline completions stay on the fast tier. Actions go to the strong tier when their kind or score
asks for it; with no strong tier configured, the fast tier serves them and says so.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from spark_lsp.models.base import Backend
from spark_lsp.models.guarded import GuardedBackend
from spark_lsp.settings import ModelSettings, Settings

log = logging.getLogger(__name__)

Tier = Literal["fast", "strong"]


@dataclass(frozen=True)
class Route:
    tier: Tier
    backend: Backend
    settings: ModelSettings
    fell_back: bool = False  # asked for strong, got fast


# Which tier each code action asks for (keyed by the last part of its LSP kind). Routine code
# goes to the fast tier; "ask stronger model" is the user asking for the strong one. A kind not
# listed here goes by its complexity score.
ACTION_TIERS: dict[str, Tier] = {
    "generateFunction": "fast",
    "fillTemplate": "fast",
    "askStronger": "strong",
}


def tier_for_action(kind: str, score: float, threshold: float) -> Tier:
    """The tier an action asks for: by its kind, else strong when its code scores at or above
    the threshold."""
    tier = ACTION_TIERS.get(kind.rsplit(".", 1)[-1])
    if tier is not None:
        return tier
    return "strong" if score >= threshold else "fast"


def offers_stronger(score: float, threshold: float) -> bool:
    """Whether code of this score is hard enough to offer "ask stronger model"."""
    return score >= threshold


class Router:
    """Owns one backend per tier; settings changes replace (and close) the affected backends."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._backends: dict[Tier, Backend] = {}
        self._closing: list[Backend] = []
        # Closes the backends a settings change replaced (kept so the task is not collected).
        self._retiring: asyncio.Task[None] | None = None
        # Set by the server once the client is ready: shows a message (window/showMessage).
        self.show_message: Callable[[str], None] | None = None

    def update(self, settings: Settings) -> None:
        tiers: tuple[Tier, ...] = ("fast", "strong")
        for tier in tiers:
            old = self._model_settings(self._settings, tier)
            new = self._model_settings(settings, tier)
            if old != new and tier in self._backends:
                self._closing.append(self._backends.pop(tier))
        self._settings = settings
        for backend in self._backends.values():
            if isinstance(backend, GuardedBackend):
                backend.mask_secrets = settings.context.mask_secrets
        if self._closing:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return  # no loop (the CLI): aclose() closes them
            self._retiring = loop.create_task(self.close_retired())

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
            from spark_lsp.prompts.build import template_note

            if tier == "fast" and (note := template_note(model)) is not None:
                log.warning("%s", note)
            # Every backend is guarded: secrets masked, breaker, deadline, one message per fault.
            backend = GuardedBackend(
                create_backend(model), model, name=f"{tier} model ({model.provider})",
                show=self._show, mask_secrets=self._settings.context.mask_secrets,
            )
            self._backends[tier] = backend
        return backend

    def _show(self, text: str) -> None:
        if self.show_message is not None:
            self.show_message(text)

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

    def route_for_action(self, kind: str, score: float = 0.0,
                         threshold: float = float("inf")) -> Route:
        """The route for a code action (see `tier_for_action`); without a strong tier configured
        the fast tier serves it and `fell_back` says so."""
        return self.route(tier_for_action(kind, score, threshold))

    def open_connections(self, busy_only: bool = False) -> int:
        """Open (or busy) HTTP connections of all live backends (a debug figure for the soak)."""
        return sum(b.open_connections(busy_only) for b in self._backends.values()
                   if isinstance(b, GuardedBackend))

    async def aclose(self) -> None:
        pending = self._closing + list(self._backends.values())
        self._closing, self._backends = [], {}
        for backend in pending:
            try:
                await backend.aclose()
            except Exception:  # closing must never fail shutdown
                log.debug("error closing backend", exc_info=True)

    async def close_retired(self) -> None:
        """Close the backends a settings change replaced (their connections, their streams)."""
        retired, self._closing = self._closing, []
        for backend in retired:
            try:
                await backend.aclose()
            except Exception:  # a failing close must not break the settings change
                log.debug("error closing backend", exc_info=True)
