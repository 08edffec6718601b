"""Backend health: a circuit breaker with backoff, and the notifier that tells the user once.

The breaker stops requests to an endpoint that keeps failing (closed → open after N consecutive
failures, or at once on HTTP 429 until Retry-After; then one half-open probe at a time). The
notifier turns a stream of failures into one message per failure kind until the backend
recovers, then one "recovered" log line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from spark_lsp.models.base import ModelError, ModelRateLimited, ModelServerError, ModelUnreachable

log = logging.getLogger(__name__)

State = Literal["closed", "open", "half-open"]
Clock = Callable[[], float]


class CircuitOpen(ModelUnreachable):
    """Refused without a network call: the breaker is open (the last failure is attached)."""

    kind = "circuit-open"

    def __init__(self, message: str, retry_in: float, cause: ModelError | None) -> None:
        super().__init__(message)
        self.retry_in = retry_in
        self.cause = cause


@dataclass(frozen=True)
class BreakerPolicy:
    failure_threshold: int = 3
    base_backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    max_retry_after_s: float = 600.0  # a server asking for more than this is capped
    # After an answer that will not change by asking again (`ModelServerError.permanent`): one
    # probe every 5 minutes, in case the server was changed (new settings make a new breaker).
    permanent_backoff_s: float = 300.0


class CircuitBreaker:
    """closed: requests pass; `failure_threshold` consecutive failures (or one 429) open it.
    open: requests are refused until the backoff (or Retry-After) has passed.
    half-open: one probe passes; success closes, failure re-opens with a doubled backoff.
    """

    def __init__(self, policy: BreakerPolicy | None = None, clock: Clock = time.monotonic) -> None:
        self.policy = policy or BreakerPolicy()
        self._clock = clock
        self.state: State = "closed"
        self.consecutive_failures = 0
        self.opened_count = 0  # times opened since the last success: drives the backoff
        self.open_until = 0.0
        self.last_error: ModelError | None = None
        self._probe_out = False

    def retry_in(self) -> float:
        return max(0.0, self.open_until - self._clock()) if self.state == "open" else 0.0

    def allow(self) -> bool:
        """May a request go out now? In half-open, only one probe at a time."""
        if self.state == "closed":
            return True
        if self.state == "open":
            if self._clock() < self.open_until:
                return False
            self.state = "half-open"
            self._probe_out = False
        if self._probe_out:
            return False
        self._probe_out = True
        return True

    def record_success(self) -> None:
        self.state = "closed"
        self.consecutive_failures = 0
        self.opened_count = 0
        self.last_error = None
        self._probe_out = False

    def record_failure(self, error: ModelError) -> None:
        self.consecutive_failures += 1
        self.last_error = error
        if isinstance(error, ModelRateLimited):
            self._open(error.retry_after)
        elif isinstance(error, ModelServerError) and error.permanent:
            self._open(self.policy.permanent_backoff_s)
        elif (
            self.state == "half-open"
            or self.consecutive_failures >= self.policy.failure_threshold
        ):
            self._open(None)

    def record_abandoned(self) -> None:
        """The request was cancelled before it told us anything: free the probe slot."""
        if self.state == "half-open":
            self._probe_out = False

    def _open(self, retry_after: float | None) -> None:
        self.opened_count += 1
        if retry_after is not None:
            delay = min(max(retry_after, 0.0), self.policy.max_retry_after_s)
        else:
            delay = min(self.policy.base_backoff_s * 2 ** (self.opened_count - 1),
                        self.policy.max_backoff_s)
        self.state = "open"
        self.open_until = self._clock() + delay
        self._probe_out = False


class FailureNotifier:
    """One user-visible message per failure kind while failures persist, then one "recovered"
    log line. Transient failures (the breaker still closed) are only logged.

    `show` receives the message text (the server turns it into window/showMessage); while it is
    None (no client yet) the message is only logged.
    """

    def __init__(self, name: str, show: Callable[[str], None] | None = None) -> None:
        self.name = name
        self.show = show
        self.shown: set[str] = set()
        self.failures = 0

    def failure(self, error: ModelError, persistent: bool, retry_in: float = 0.0) -> None:
        if isinstance(error, CircuitOpen):
            log.debug("%s: %s", self.name, error)  # the failure it stands for was told already
            return
        self.failures += 1
        if not persistent or error.kind in self.shown:
            log.info("%s: request failed (%s): %s", self.name, error.kind, error)
            return
        self.shown.add(error.kind)
        log.warning("%s failed (%s): %s", self.name, error.kind, error)
        what = _DESCRIPTIONS.get(error.kind, error.kind)
        text = f"spark-lsp: the {self.name} is failing ({what})"
        if isinstance(error, ModelServerError) and error.permanent:
            text = f"spark-lsp: the {self.name} refuses the request: {error}"  # its own words
        if retry_in >= 1:
            text += f"; retrying in {retry_in:.0f} s"
        text += ". Details are in the log."
        if self.show is not None:
            try:
                self.show(text)
            except Exception:  # telling the user must never break a request
                log.debug("showMessage failed", exc_info=True)

    def success(self) -> None:
        if self.shown:
            log.info("%s recovered after %d failed request(s)", self.name, self.failures)
        self.shown.clear()
        self.failures = 0


_DESCRIPTIONS = {
    "unreachable": "cannot connect",
    "timeout": "no answer in time",
    "rate-limited": "rate-limited by the server",
    "server-error": "the server answers with an error",
    "bad-response": "unreadable answers",
    "not-installed": "the embedded model is not installed",
}
