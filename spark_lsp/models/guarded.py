"""`GuardedBackend`: what every request passes through on its way to a model.

It wraps any backend with the reliability and privacy rules that must hold for all of them:
secrets are masked in the request, a circuit breaker refuses calls to an endpoint that keeps
failing, an overall deadline (`timeout_ms`, or the request's own `deadline_ms`) bounds the whole
stream, a fault after some text ends the stream with that text, and failures reach the user once
per kind (see `health.py`).

The inner stream is read by a task of its own (`_Pump`) that is never cancelled from outside:
httpcore (1.0.9) leaves a connection ACTIVE in its pool for good when an asyncio cancellation
lands while a response is being set up or closed (encode/httpcore#1093), and in a server that
cancels on every keystroke those pile up until the pool is exhausted. So a reader that stops
(early stop, supersede, `$/cancelRequest`, the deadline) asks the pump to stop. A stream that
can `abort()` (an HTTP exchange, also one still waiting for the server's headers) has its socket
shut down, so the server frees its slot and stops generating at once — unless its chunks were
coming faster than the reader took them: a model that has already finished has the rest in our
buffers, and reading it to the end keeps the connection for the next request, so such a stream
is read on until its first pause of `DRAIN_GAP_S`. The reader then waits (up to `CLOSE_WAIT_S`)
until that connection is closed, so a request that replaces it is never in flight beside it.
Any other stream is closed cleanly at its next chunk, or when the backend's own timeout ends
the read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

from spark_lsp.model_request import ModelRequest, PromptStyle
from spark_lsp.models.base import Backend, ModelError, ModelTimeout
from spark_lsp.models.health import BreakerPolicy, CircuitBreaker, CircuitOpen, FailureNotifier
from spark_lsp.redaction.known import remember_secret
from spark_lsp.redaction.mask import mask_request
from spark_lsp.settings import ModelSettings, api_key

log = logging.getLogger(__name__)

_END = object()
# A pump asked to stop gets this long past its backend's timeout (or this alone, without one)
# before it is cancelled after all.
STOP_GRACE_S = 5.0
# The pause that ends the reading-on of a stopped HTTP stream: well under a fast model's time
# per token (~1 ms), well over the time to take one buffered chunk through httpx.
DRAIN_GAP_S = 0.0003
# The longest a stopped stream is read on, pause or not: a finished answer in our buffers takes
# well under 1 ms; a stream that never pauses (a model far past its bounds) is cut here.
DRAIN_MAX_S = 0.02
# The most text a stopped stream is read on for, whatever the time: an answer's tail left in our
# buffers is under the inline bound (16,000 characters); on loopback a server that never pauses
# sent 15 MB within DRAIN_MAX_S (tests/e2e/test_hostile.py, a quiet machine).
DRAIN_MAX_CHARS = 65_536
# How long a stopped reader waits for an aborted exchange to close: a shut-down socket ends the
# pending read at once (a few ms on a loaded machine); past this, something is wrong and the
# caller goes on.
CLOSE_WAIT_S = 0.5


class _Pump:
    """Reads one inner stream into a queue, in its own task, until the end or a stop request."""

    def __init__(self, inner: AsyncIterator[str], grace_s: float) -> None:
        self.queue: asyncio.Queue[object] = asyncio.Queue()
        self._stop = False
        self._abort: Callable[[], bool] | None = getattr(inner, "abort", None)
        self._draining = False  # stopped, but reading on while the chunks come without a pause
        self._drained = 0  # characters read on since
        self._drain_timer: asyncio.TimerHandle | None = None
        self._grace_s = grace_s
        self.task = asyncio.ensure_future(self._run(inner))

    async def _run(self, inner: AsyncIterator[str]) -> None:
        try:
            async for chunk in inner:
                if self._stop:
                    if self._draining:
                        self._drained += len(chunk)
                        if self._drained <= DRAIN_MAX_CHARS:
                            self._arm_drain()
                            continue
                        self._end_drain()
                    break
                if chunk:
                    self.queue.put_nowait(chunk)
        except Exception as exc:  # handed to the reader, which raises it
            self.queue.put_nowait(exc)
        finally:
            if self._drain_timer is not None:
                self._drain_timer.cancel()
            try:
                close = getattr(inner, "aclose", None)
                if close is not None:
                    await close()
            finally:
                self.queue.put_nowait(_END)

    @property
    def can_abort(self) -> bool:
        return self._abort is not None

    def stop(self) -> None:
        """End the stream. One that can abort: at once while the model is still generating (the
        reader has taken every chunk that came), else after reading on until a pause; any other
        stream at its next chunk. Never waits."""
        self._stop = True
        if self.task.done():
            return
        if self._abort is not None:
            if self.queue.empty():
                self._abort()
            else:  # chunks came faster than the reader took them: the rest may be here too
                self._draining = True
                self._arm_drain()
                asyncio.get_running_loop().call_later(DRAIN_MAX_S, self._end_drain)
        handle = asyncio.get_running_loop().call_later(self._grace_s, self.task.cancel)
        self.task.add_done_callback(lambda _: handle.cancel())

    def _arm_drain(self) -> None:
        """(Re)start the pause timer of a draining stream."""
        if self._drain_timer is not None:
            self._drain_timer.cancel()
        self._drain_timer = asyncio.get_running_loop().call_later(DRAIN_GAP_S, self._end_drain)

    def _end_drain(self) -> None:
        self._draining = False
        if self._abort is not None and not self.task.done():
            self._abort()


class GuardedBackend:
    """A `Backend` around another one; see the module docstring for what it adds."""

    def __init__(
        self,
        inner: Backend,
        settings: ModelSettings,
        name: str = "model",
        show: Callable[[str], None] | None = None,
        mask_secrets: bool = True,
        policy: BreakerPolicy | None = None,
    ) -> None:
        self.inner = inner
        self.settings = settings
        self.provider: str = inner.provider
        self.prompt_style: PromptStyle = inner.prompt_style
        self.mask_secrets = mask_secrets
        self.breaker = CircuitBreaker(policy)
        self.notifier = FailureNotifier(name, show)
        self._pumps: set[asyncio.Task[None]] = set()
        remember_secret(api_key(settings))

    @property
    def pumps(self) -> int:
        """Streams still being read (stopping ones included)."""
        return len(self._pumps)

    def stream(self, request: ModelRequest) -> AsyncIterator[str]:
        if not self.breaker.allow():
            # Raised from the first __anext__, like any backend error.
            return self._refuse()
        if self.mask_secrets:
            request = mask_request(request)
        return self._guard(request)

    async def _refuse(self) -> AsyncIterator[str]:
        last = self.breaker.last_error
        retry_in = self.breaker.retry_in()
        raise CircuitOpen(
            f"{self.notifier.name}: paused after repeated failures"
            f" ({last.kind if last else 'error'}); next try in {retry_in:.1f} s",
            retry_in,
            last,
        )
        yield ""  # pragma: no cover - makes this an async generator

    async def _guard(self, request: ModelRequest) -> AsyncIterator[str]:
        """The inner stream under the deadline. Health is judged on how a stream ends: normally
        or closed early by its reader (an early stop) is a success; a `ModelError` is a failure;
        a cancellation says nothing."""
        loop = asyncio.get_running_loop()
        limit_ms = self.settings.timeout_ms if request.deadline_ms is None else request.deadline_ms
        limit_s = limit_ms / 1000 if limit_ms > 0 else None
        deadline = loop.time() + limit_s if limit_s is not None else None
        pump = _Pump(self.inner.stream(request), (limit_s or 0.0) + STOP_GRACE_S)
        self._pumps.add(pump.task)
        pump.task.add_done_callback(self._pumps.discard)
        got_text = False
        try:
            while True:
                try:
                    async with asyncio.timeout_at(deadline):
                        item = await pump.queue.get()
                except TimeoutError:
                    if not got_text:
                        raise ModelTimeout(f"{self.notifier.name}: no answer within"
                                           f" {limit_ms} ms") from None
                    log.info("%s: answer cut at the %d ms deadline", self.notifier.name,
                             limit_ms)
                    break
                if item is _END:
                    break
                if isinstance(item, BaseException):
                    raise item
                got_text = True
                yield str(item)
        except ModelError as exc:
            self._failed(exc)
            if got_text:
                log.info("%s: the stream broke after some text (%s); using that text",
                         self.notifier.name, exc.kind)
                return
            raise
        except GeneratorExit:
            self._succeeded()  # the reader had enough
            raise
        except BaseException:
            self.breaker.record_abandoned()  # cancelled: neither success nor failure
            raise
        else:
            self._succeeded()
        finally:
            pump.stop()
            if pump.can_abort:
                await asyncio.wait({pump.task}, timeout=CLOSE_WAIT_S)

    def _succeeded(self) -> None:
        self.breaker.record_success()
        self.notifier.success()

    def _failed(self, error: ModelError) -> None:
        self.breaker.record_failure(error)
        persistent = self.breaker.state == "open"
        self.notifier.failure(error, persistent, self.breaker.retry_in())

    def open_connections(self, busy_only: bool = False) -> int:
        """Connections the inner backend's HTTP pool holds open, or of those the ones not idle
        (0 when it has no pool). A debug figure: it reads httpx/httpcore internals."""
        pool = getattr(getattr(getattr(self.inner, "_client", None), "_transport", None),
                       "_pool", None)
        connections = list(getattr(pool, "connections", ()))
        if busy_only:
            connections = [c for c in connections if not (c.is_idle() or c.is_closed())]
        return len(connections)

    async def ping(self) -> str:
        return await self.inner.ping()

    async def drained(self, timeout: float | None = None) -> bool:
        """Wait until every stream this backend opened is closed; False on timeout."""
        pumps = list(self._pumps)
        if not pumps:
            return True
        _, pending = await asyncio.wait(pumps, timeout=timeout)
        return not pending

    async def aclose(self) -> None:
        await self.inner.aclose()  # ends the pumps' reads
        pumps = list(self._pumps)
        if pumps:
            _, pending = await asyncio.wait(pumps, timeout=1.0)
            for task in pending:
                task.cancel()
