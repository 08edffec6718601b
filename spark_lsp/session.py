"""Session state: open documents, effective settings, model routes. Request handling reads from it.

Quick handlers (didOpen/didChange/didClose, configuration) change it on the event loop; request
handlers take a snapshot of what they need before their first await.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lsprotocol import types

from spark_lsp import settings as settings_mod
from spark_lsp.actions.kinds import ActionData, Pos
from spark_lsp.actions.service import ActionService, Offer, Outcome, ProgressSink
from spark_lsp.completion.service import CompletionService
from spark_lsp.completion.types import Answer, CompletionRequest
from spark_lsp.context.engine import ContextEngine
from spark_lsp.documents.store import DocumentStore, uri_to_path
from spark_lsp.models.base import ModelError
from spark_lsp.models.router import Router
from spark_lsp.preload import load_model_of
from spark_lsp.settings import Settings, SettingsResult

log = logging.getLogger(__name__)


def settle_memory() -> None:
    """Move every object alive now out of the collector's sight (`gc.freeze`): the modules,
    the index's outlines — what the server keeps — are then not walked again by each full
    collection, a pause of ~60 ms that a keystroke would wait for (latency.py --workspace)."""
    gc.freeze()


class Session:
    def __init__(self) -> None:
        self.workspace_root: Path | None = None
        self.initialization_options: Mapping[str, Any] | None = None
        self.client_configuration: Mapping[str, Any] | None = None
        self.settings_result = SettingsResult(settings=Settings())
        self.documents = DocumentStore()
        self.router = Router(self.settings_result.settings)
        self.completions = CompletionService()
        self.actions = ActionService()
        # Outlines, workspace index, ignore rules and token counter for the context builder.
        self.context = ContextEngine(self.documents, self.settings.context)
        self._index_task: asyncio.Task[object] | None = None
        self.serves_items = True  # completion items; see choose_items
        # Per document: the place and text of the suggestion the last status was sent for.
        self._shown: dict[str, tuple[int, int, str]] = {}
        self._preload: asyncio.Task[None] | None = None

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
        self.context.update_settings(result.settings.context)
        for problem in result.problems:
            log.warning("settings: %s", problem)
        return result

    def preload_model(self) -> None:
        """Start loading the fast tier's model (the embedded one takes a while), so the first
        request does not spend its time limit on it."""
        if self._preload is not None and not self._preload.done():
            return
        try:
            backend = self.router.route("fast").backend
        except (ModelError, ValueError):
            return  # a request reports it
        self._preload = asyncio.ensure_future(load_model_of(backend))

    def choose_items(self, capabilities: types.ClientCapabilities) -> None:
        """Whether this editor gets completion items: without inline completion always, with
        it only when `completion.items` is "always" (it would show the suggestion twice)."""
        document = capabilities.text_document
        inline = document is not None and document.inline_completion is not None
        self.serves_items = not inline or self.settings.completion.items == "always"

    async def answer_completion(self, uri: str, line: int, character: int,
                                deadline_ms: float | None = None) -> Answer:
        """A suggestion at a place (cache or fast model), with what the status bar shows."""
        started = time.perf_counter()
        if self._preload is not None and not self._preload.done():
            await asyncio.shield(self._preload)  # loading is not part of the request's limit
        document = self.documents.get(uri)
        if (document is not None and document.path is not None
                and not self.context.rules.known(document.path)):
            await self.context.rules.prepare(document.path)  # its ignore files, off the loop
            document = self.documents.get(uri)
        if document is None:
            raise KeyError(f"document not open: {uri}")
        settings = self.settings
        lines = document.buffer.lines
        if (document.is_binary or len(lines[min(line, len(lines) - 1)])
                > settings.completion.max_line_chars or self.context.is_excluded(document.path)):
            return Answer(None, "none", settings.fast.model or settings.fast.provider)

        def begin() -> CompletionRequest:  # only on a cache miss: it may reparse
            route = self.router.route("fast")  # raises when the model cannot be reached
            snapshot = self.documents.snapshot(uri, typing_row=line)
            assert snapshot is not None
            return CompletionRequest(snapshot, settings, route,
                                     self.context.view(snapshot, route.backend))

        return await self.completions.complete(uri, lines, begin, line, character, settings,
                                               deadline_ms=deadline_ms, started=started)

    def status_to_send(self, uri: str, answer: Answer) -> dict[str, object] | None:
        """The `spark/status` params for an inline answer, or None when there is nothing new to
        say: a superseded answer, or the editor asking again for the suggestion it shows (from
        the cache in 0 ms: the status keeps saying how long the model took to make it)."""
        if answer.superseded:
            return None
        s = answer.suggestion
        place = (s.line, s.character, s.text) if s is not None else None
        if place is not None and answer.source == "cache" and self._shown.get(uri) == place:
            return None
        if place is None:
            self._shown.pop(uri, None)
        else:
            self._shown[uri] = place
        return {**answer.status(), "model": settings_mod.model_label(self.settings.fast)}

    def document_closed(self, uri: str) -> None:
        self.documents.close(uri)
        self.context.document_closed(uri)
        self.completions.document_closed(uri)
        self._shown.pop(uri, None)

    def code_actions(self, uri: str, start: Pos, end: Pos) -> list[Offer]:
        """The code actions at a cursor or selection (no model call); none for unknown documents."""
        snapshot = self.documents.snapshot(uri)
        if snapshot is None:
            return []
        return self.actions.offers(snapshot, start, end, self.settings, self.router.has_strong)

    async def run_action(self, data: ActionData, progress: ProgressSink | None = None,
                         request_id: Any = None) -> Outcome:
        def current_version() -> int | None:
            document = self.documents.get(data.uri)
            return document.version if document is not None else None

        snapshot = self.documents.snapshot(data.uri)
        context = None if snapshot is None else self.context.view(snapshot, self._fast_backend())
        return await self.actions.run(data, snapshot, current_version, self.settings,
                                      self.router, progress, request_id, context=context)

    def _fast_backend(self) -> object | None:
        """The fast tier's backend (its tokenizer budgets the actions' context too), if any."""
        try:
            return self.router.route("fast").backend
        except (ModelError, ValueError):  # a request reports it
            return None

    def debug_stats(self) -> dict[str, int]:
        """Figures for leak checks (`spark/debugStats`): live asyncio tasks other than the
        caller, in-flight completions, open documents, open (and busy) model connections."""
        current = asyncio.current_task()
        return {
            "tasks": sum(1 for t in asyncio.all_tasks() if t is not current and not t.done()),
            "inflight": self.completions.inflight,
            "documents": len(self.documents),
            "connections": self.router.open_connections(),
            "busy_connections": self.router.open_connections(busy_only=True),
        }

    def set_workspace_folders(self, folders: list[str]) -> None:
        """The folders to index (call before `index_workspace`)."""
        self.context.set_roots(folders)

    def index_workspace(self) -> None:
        """Index the workspace folders in the background (a worker thread)."""
        if self._index_task is None or self._index_task.done():
            settle_memory()  # what start-up made lives as long as the server
            self._index_task = asyncio.ensure_future(self.context.build_index())
            self._index_task.add_done_callback(lambda _: settle_memory())

    async def file_saved(self, uri: str, text: str | None) -> None:
        await self.context.file_saved(uri_to_path(uri), text)

    async def files_changed(self, changes: list[tuple[str, bool]]) -> None:
        """Watched-file events: (uri, deleted)."""
        paths = [(path, deleted) for uri, deleted in changes
                 if (path := uri_to_path(uri)) is not None]
        await self.context.files_changed(paths)

    async def aclose(self) -> None:
        self.context.close()
        await self.completions.aclose()
        await self.router.aclose()
