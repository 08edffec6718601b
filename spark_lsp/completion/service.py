"""Per-document completion flow: cache first, then debounce, supersede and one model call.

- A request answered from the cache makes no model call (typed-through, backspace-and-retype).
- One generation per document: a newer request cancels the older one's task, which closes its
  model stream at once, and sends nothing until that stream's connection is closed, so at most
  one request per document is in flight to the model (a server that is slower than the keys
  never has a queue of prompts nobody will see). Two exceptions: a request for the very same
  place joins the running generation, and so does one whose typing agrees with what the model
  has streamed so far (typed-through a suggestion still on its way); it is then served the rest.
- `$/cancelRequest` cancels the handler; the generation it started is cancelled (and its stream
  closed) before the cancellation goes on, unless another request still waits for it.
- With a deadline (`textDocument/completion`), the answer is whatever text is ready by then; the
  generation goes on in the background to fill the cache, until superseded. Without one (inline
  completion), a generation still streaming after `FIRST_ANSWER_MS` answers with its first whole
  lines and goes on the same way.
- A model fault becomes "no suggestion" in one place: `no_suggestion_after`.
- A generation works on a `CompletionRequest` frozen when it starts (document, settings, model
  route, context engine state): nothing read after the debounce can change what it does.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from spark_lsp.completion.cache import Cached, SuggestionCache, text_before
from spark_lsp.completion.debounce import Debouncer
from spark_lsp.completion.pipeline import Progress, generate, prepare_request
from spark_lsp.completion.postprocess import postprocess
from spark_lsp.completion.types import (
    Answer,
    CompletionJob,
    CompletionRequest,
    Source,
    Suggestion,
    word_before,
)
from spark_lsp.documents.text import line_body, utf16_len, utf16_to_index
from spark_lsp.models.base import ModelError
from spark_lsp.models.health import CircuitOpen
from spark_lsp.settings import Settings

log = logging.getLogger(__name__)

MAX_TYPED_AHEAD = 64  # characters typed while a generation streams that it may still serve
FIRST_ANSWER_MS = 250
"""An inline request whose generation still streams this long after the request came is answered
as soon as the streamed text holds a whole line; the generation goes on and fills the cache (the
rest is served as the user types along or accepts). Ghost text must show within a word pause
(300-800 ms), and a small model that does not end its statement keeps its answer back until
`max_tokens` (SmolLM2 on llama-server: about 1.8 s, issue 17). 250 ms is llama.vim's budget for
its quick first request (`t_max_predict_ms` when it has no suggestion yet)."""


def holds_whole_line(text: str) -> bool:
    """Whether streamed text holds a whole line of code (a line end after something shown)."""
    return "\n" in text.lstrip()


def no_suggestion_after(error: Exception) -> Suggestion | None:
    """The one place where a model fault (or a model configuration error) becomes "no
    suggestion". Users are told about faults by the backend guard; here it is only logged."""
    if isinstance(error, CircuitOpen):
        log.debug("completion skipped: %s", error)  # per keystroke while paused: not news
    elif isinstance(error, ModelError):
        log.warning("completion failed (%s): %s", error.kind, error)
    else:
        log.warning("completion failed: %s", error)
    return None


def _log_failure(task: asyncio.Task[Suggestion | None]) -> None:
    """A generation nobody waits for any more (after a deadline answer) still reports a bug."""
    if not task.cancelled() and task.exception() is not None:
        log.error("completion failed", exc_info=task.exception())


@dataclass(frozen=True)
class _Place:
    """Where a request stands, in the terms the cache uses."""

    line: int
    index: int
    character: int
    before: str  # the document's text just before the cursor (`SuggestionCache.span` of it)
    line_suffix: str


@dataclass
class _Generation:
    """One running (or finished) generation for a document."""

    place: _Place
    key: tuple[str, str]
    task: asyncio.Task[Suggestion | None]
    progress: Progress
    job: list[CompletionJob] = field(default_factory=list)  # set once prepared
    waiters: int = 0


class CompletionService:
    """Completions for all documents of a session (see the module docstring)."""

    def __init__(self, cache_size: int = 256) -> None:
        self.cache = SuggestionCache(cache_size)
        self.debouncer = Debouncer()
        self._generations: dict[str, _Generation] = {}
        self._closing: dict[str, asyncio.Task[Suggestion | None]] = {}  # cancelled, not yet done
        self._made_with: object = None
        self.model_calls = 0

    @property
    def inflight(self) -> int:
        return sum(1 for g in self._generations.values() if not g.task.done())

    def _place(self, lines: Sequence[str], line: int, character: int) -> _Place:
        line = max(0, min(line, len(lines) - 1))
        raw = lines[line]
        index = utf16_to_index(raw, character)
        return _Place(line, index, utf16_len(raw[:index]),
                      text_before(lines, line, index, self.cache.span), line_body(raw)[index:])

    def _key(self, place: _Place) -> tuple[str, str]:
        return place.before[-self.cache.key_chars :], place.line_suffix

    async def complete(
        self,
        uri: str,
        lines: Sequence[str],
        begin: Callable[[], CompletionRequest],
        line: int,
        character: int,
        settings: Settings,
        deadline_ms: float | None = None,
        started: float | None = None,
    ) -> Answer:
        """Answer one request: from the cache, or from the model (joined, or a new generation).

        `lines` is the document's text now (read before any await); `begin` freezes what a new
        generation works on (it may reparse, and raise ModelError/ValueError when the model
        cannot be reached): called only when the cache cannot answer, so a typed-through
        keystroke costs no reparse."""
        started = time.perf_counter() if started is None else started
        place = self._place(lines, line, character)
        model = settings.fast.model or settings.fast.provider

        def answer(suggestion: Suggestion | None, source: Source, superseded: bool = False
                   ) -> Answer:
            elapsed = (time.perf_counter() - started) * 1000
            return Answer(suggestion, source if suggestion else "none", model,
                          latency_ms=elapsed, superseded=superseded)

        self._settings_changed(settings)
        wait = self.debouncer.delay_for(uri, settings.completion.debounce_ms / 1000)
        hit = self.cache.lookup(uri, place.before, place.line_suffix)
        if hit is not None:
            self.cancel(uri)  # the user moved on: a generation for an older place is stale
            return answer(self._from_cache(hit, place), "cache")
        key = self._key(place)
        generation = self._generations.get(uri)
        typed = self._typed_ahead(generation, place) if generation is not None else None
        # A generation cancelled when its last waiter left is still closing its stream: it
        # will give nothing, so it is not joined.
        if generation is None or generation.task.done() or generation.task.cancelling() \
                or (generation.key != key and typed is None):
            self.cancel(uri)
            try:
                request = begin()
            except (ModelError, ValueError) as exc:  # no route to a model (its settings)
                return answer(no_suggestion_after(exc), "none")
            generation = self._start(request, place, wait, key)
            typed = ""
        suggestion = await self._wait(generation, deadline_ms, started)
        if generation.task.cancelled():
            return answer(None, "none", superseded=True)
        if typed:  # the generation was for where the user stood before typing `typed`
            suggestion = self._rest_after(typed, suggestion, place)
        return answer(suggestion, "model")

    def _settings_changed(self, settings: Settings) -> None:
        """Suggestions made with another model, context or mode are not served any more."""
        self.cache.size = settings.completion.cache_size
        made_with = (settings.fast, settings.context, settings.completion.multiline)
        if made_with != self._made_with:
            self.cache.clear()
            self._made_with = made_with

    # -- joining a generation that the user is typing along with ----------------------------

    def _typed_ahead(self, generation: _Generation, place: _Place) -> str | None:
        """What the user typed since `generation` started, when that agrees with the text the
        model has streamed so far ("" for the very same place); None otherwise."""
        if generation.key == self._key(place):
            return ""
        old = generation.place
        if old.line_suffix != place.line_suffix:
            return None
        streamed = generation.progress.text.lstrip(" \t")
        if not streamed:
            return None  # nothing to agree with yet: a fresh generation is the better bet
        for count in range(1, min(MAX_TYPED_AHEAD, len(place.before)) + 1):
            typed = place.before[-count:]
            if place.before[:-count][-self.cache.key_chars :] == generation.key[0]:
                bare = typed.lstrip(" \t")
                agrees = streamed.startswith(bare) or bare.startswith(streamed)
                return typed if agrees else None
        return None

    def _rest_after(self, typed: str, suggestion: Suggestion | None, place: _Place
                    ) -> Suggestion | None:
        """The part of a suggestion made before `typed` was typed that is still to come."""
        if suggestion is None:
            return None
        text = suggestion.text
        if not text.startswith(typed) or not text[len(typed) :].strip():
            return None
        return Suggestion(text=text[len(typed) :], line=place.line, character=place.character,
                          replace_end_character=place.character
                          + (suggestion.replace_end_character - suggestion.character),
                          word_prefix=word_before(place.before))

    # -- generations -------------------------------------------------------------------------

    def _from_cache(self, hit: Cached, place: _Place) -> Suggestion:
        return Suggestion(text=hit.text, line=place.line, character=place.character,
                          replace_end_character=place.character
                          + utf16_len(place.line_suffix[: hit.replaces]),
                          source="cache", word_prefix=word_before(place.before))

    def _start(self, request: CompletionRequest, place: _Place, wait: float,
               key: tuple[str, str]) -> _Generation:
        progress = Progress()
        prepared: list[CompletionJob] = []
        uri = request.document.uri
        previous = self._closing.pop(uri, None)
        task = asyncio.ensure_future(
            self._run(request, place, wait, progress, prepared, previous))
        task.add_done_callback(_log_failure)
        generation = _Generation(place, key, task, progress, prepared)
        self._generations[uri] = generation
        return generation

    async def _run(self, request: CompletionRequest, place: _Place, wait: float,
                   progress: Progress, prepared: list[CompletionJob],
                   previous: asyncio.Task[Suggestion | None] | None) -> Suggestion | None:
        if wait > 0:
            await asyncio.sleep(wait)  # a newer keystroke cancels us meanwhile
        if previous is not None and not previous.done():
            await asyncio.wait({previous})  # its stream closes (see GuardedBackend)
        job = prepare_request(request, place.line, place.character)
        prepared.append(job)
        try:
            self.model_calls += 1
            suggestion = await generate(job, request.route.backend, request.settings, progress)
        except (ModelError, ValueError) as exc:
            return no_suggestion_after(exc)
        if suggestion is not None:
            replaces = len(place.line_suffix[: utf16_to_index(
                place.line_suffix, suggestion.replace_end_character - suggestion.character)])
            self.cache.put(request.document.uri, place.before, place.line_suffix,
                           Cached(suggestion.text, replaces))
        return suggestion

    async def _wait(self, generation: _Generation, deadline_ms: float | None, started: float
                    ) -> Suggestion | None:
        """The generation's result (None when it was superseded); by the deadline, what it has
        streamed so far; without one, its first whole lines once `FIRST_ANSWER_MS` are past.
        Cancelling the caller cancels the generation unless others wait."""
        generation.waiters += 1
        task = generation.task
        try:
            if deadline_ms is not None:
                await asyncio.wait({task}, timeout=deadline_ms / 1000)
            else:
                await self._first_lines(generation, started + FIRST_ANSWER_MS / 1000)
        except asyncio.CancelledError:
            generation.waiters -= 1
            if generation.waiters == 0 and not task.done():
                task.cancel()
                await asyncio.wait({task})  # its streams are closed when this returns
            raise
        generation.waiters -= 1
        if not task.done():
            return self._partial(generation, whole_lines=deadline_ms is None)
        if task.cancelled():
            return None
        return task.result()

    @staticmethod
    async def _first_lines(generation: _Generation, after: float) -> None:
        """Until the generation ends or, from `after` (a perf_counter time) on, its text holds
        a whole line."""
        task = generation.task
        if (wait := after - time.perf_counter()) > 0:
            await asyncio.wait({task}, timeout=wait)
        while not task.done() and not holds_whole_line(generation.progress.text):
            grown = generation.progress.grown()
            try:
                await asyncio.wait((task, grown), return_when=asyncio.FIRST_COMPLETED)
            finally:
                grown.cancel()

    def _partial(self, generation: _Generation, whole_lines: bool = False) -> Suggestion | None:
        text = generation.progress.text
        if whole_lines and holds_whole_line(text):
            text = text[: text.rindex("\n")]
        if not generation.job or not text:
            return None
        return postprocess(text, generation.job[0])

    def cancel(self, uri: str) -> None:
        """Stop the document's running generation (its model stream closes at once)."""
        generation = self._generations.pop(uri, None)
        if generation is not None and not generation.task.done():
            generation.task.cancel()
            self._closing[uri] = generation.task
            generation.task.add_done_callback(
                lambda task: self._closing.pop(uri, None) if self._closing.get(uri) is task
                else None)

    def document_closed(self, uri: str) -> None:
        """Forget a closed document: its generation is cancelled (cached text stays, LRU)."""
        self.cancel(uri)
        self.debouncer.forget(uri)

    async def aclose(self) -> None:
        """Cancel every generation and wait until their streams are closed."""
        tasks = [g.task for g in self._generations.values() if not g.task.done()]
        self._generations.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
