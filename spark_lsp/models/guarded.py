"""`GuardedBackend`: what every request passes through on its way to a model.

It wraps any backend with the reliability and privacy rules that must hold for all of them:
secrets are masked in the request, a circuit breaker refuses calls to an endpoint that keeps
failing, an overall deadline (`timeout_ms`) bounds the whole stream, a fault after some text ends
the stream with that text, and failures reach the user once per kind (see `health.py`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

from spark_lsp.context.secrets import mask_request, remember_secret
from spark_lsp.models.base import Backend, ModelError, ModelRequest, ModelTimeout, PromptStyle
from spark_lsp.models.health import BreakerPolicy, CircuitBreaker, CircuitOpen, FailureNotifier
from spark_lsp.settings import ModelSettings, api_key

log = logging.getLogger(__name__)


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
        self.deadline_s = settings.timeout_ms / 1000 if settings.timeout_ms > 0 else None
        remember_secret(api_key(settings))

    def stream(self, request: ModelRequest) -> AsyncIterator[str]:
        if not self.breaker.allow():
            # Raised from the first __anext__, like any backend error.
            return self._refuse()
        if self.mask_secrets:
            request = mask_request(request)
        return self._guard(self.inner.stream(request))

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

    async def _guard(self, inner: AsyncIterator[str]) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.deadline_s if self.deadline_s is not None else None
        got_text = False
        try:
            while True:
                try:
                    async with asyncio.timeout_at(deadline):
                        chunk = await anext(inner)
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    if got_text:
                        log.info("%s: answer cut at the %d ms deadline", self.notifier.name,
                                 self.settings.timeout_ms)
                        return
                    raise ModelTimeout(
                        f"{self.notifier.name}: no answer within {self.settings.timeout_ms} ms"
                    ) from None
                if chunk:
                    if not got_text:
                        self._succeeded()
                    got_text = True
                    yield chunk
        except ModelError as exc:
            self._failed(exc)
            if got_text:
                log.info("%s: stream failed after some text (%s); using that text",
                         self.notifier.name, exc.kind)
                return
            raise
        except BaseException:
            if not got_text:
                self.breaker.record_abandoned()  # cancelled: neither success nor failure
            raise
        else:
            if not got_text:
                self._succeeded()  # a well-formed empty answer is still a healthy endpoint
        finally:
            await inner.aclose()  # type: ignore[attr-defined]

    def _succeeded(self) -> None:
        self.breaker.record_success()
        self.notifier.success()

    def _failed(self, error: ModelError) -> None:
        self.breaker.record_failure(error)
        persistent = self.breaker.state == "open"
        self.notifier.failure(error, persistent, self.breaker.retry_in())

    async def ping(self) -> str:
        return await self.inner.ping()

    async def aclose(self) -> None:
        await self.inner.aclose()
