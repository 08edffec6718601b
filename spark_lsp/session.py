"""Session state: open documents, effective settings, model routes. Request handling reads from it.

Quick handlers (didOpen/didChange/didClose, configuration) change it on the event loop; request
handlers take a snapshot of what they need before their first await.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spark_lsp import settings as settings_mod
from spark_lsp.completion.pipeline import prepare
from spark_lsp.completion.service import CompletionService
from spark_lsp.completion.types import Suggestion
from spark_lsp.documents.store import DocumentStore
from spark_lsp.models.router import Router
from spark_lsp.settings import Settings, SettingsResult

log = logging.getLogger(__name__)


class Session:
    def __init__(self) -> None:
        self.workspace_root: Path | None = None
        self.initialization_options: Mapping[str, Any] | None = None
        self.client_configuration: Mapping[str, Any] | None = None
        self.settings_result = SettingsResult(settings=Settings())
        self.documents = DocumentStore()
        self.router = Router(self.settings_result.settings)
        self.completions = CompletionService()

    @property
    def settings(self) -> Settings:
        return self.settings_result.settings

    def reload_settings(self) -> SettingsResult:
        """Re-read every source; returns the result so the caller can report its problems."""
        result = settings_mod.load(
            self.workspace_root, self.initialization_options, self.client_configuration
        )
        self.settings_result = result
        self.documents.max_parse_bytes = result.settings.completion.max_document_bytes
        self.router.update(result.settings)
        for problem in result.problems:
            log.warning("settings: %s", problem)
        return result

    async def inline_completion(self, uri: str, line: int, character: int) -> Suggestion | None:
        snapshot = self.documents.snapshot(uri)
        if snapshot is None:
            raise KeyError(f"document not open: {uri}")
        if snapshot.is_binary:
            return None
        settings = self.settings
        job = prepare(snapshot, line, character, settings)
        route = self.router.route("fast")
        return await self.completions.complete(job, route, settings)

    async def aclose(self) -> None:
        await self.router.aclose()
