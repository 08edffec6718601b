"""Circuit breaker and failure notifier, on a fake clock."""

from __future__ import annotations

import logging

import pytest

from spark_lsp.models.base import (
    ModelBadResponse,
    ModelRateLimited,
    ModelServerError,
    ModelTimeout,
    ModelUnreachable,
)
from spark_lsp.models.health import BreakerPolicy, CircuitBreaker, CircuitOpen, FailureNotifier


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock, threshold: int = 3) -> CircuitBreaker:
    return CircuitBreaker(BreakerPolicy(failure_threshold=threshold, base_backoff_s=1.0,
                                        max_backoff_s=8.0), clock=clock)


def test_opens_after_consecutive_failures_and_probes_once_after_the_backoff() -> None:
    clock = Clock()
    b = breaker(clock)
    for _ in range(2):
        assert b.allow()
        b.record_failure(ModelServerError("500", 500))
    assert b.state == "closed"
    assert b.allow()
    b.record_failure(ModelServerError("500", 500))
    assert b.state == "open"
    assert not b.allow()
    assert b.retry_in() == pytest.approx(1.0)
    clock.now += 1.0
    assert b.allow()  # the probe
    assert b.state == "half-open"
    assert not b.allow()  # only one probe at a time
    b.record_success()
    assert b.state == "closed" and b.allow()


def test_a_success_resets_the_count() -> None:
    clock = Clock()
    b = breaker(clock)
    for _ in range(10):
        b.record_failure(ModelTimeout("t"))
        b.record_failure(ModelTimeout("t"))
        b.record_success()
    assert b.state == "closed"


def test_backoff_doubles_while_probes_fail_and_is_capped() -> None:
    clock = Clock()
    b = breaker(clock, threshold=1)
    delays = []
    for _ in range(6):
        assert b.allow()
        b.record_failure(ModelUnreachable("down"))
        delays.append(b.retry_in())
        clock.now += b.retry_in()
    assert delays == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_429_opens_at_once_for_retry_after() -> None:
    clock = Clock()
    b = breaker(clock, threshold=5)
    b.record_failure(ModelRateLimited("429", retry_after=7.5))
    assert b.state == "open"
    assert b.retry_in() == pytest.approx(7.5)
    clock.now += 7.4
    assert not b.allow()
    clock.now += 0.1
    assert b.allow()


def test_429_without_retry_after_uses_the_backoff_and_huge_values_are_capped() -> None:
    clock = Clock()
    b = breaker(clock)
    b.record_failure(ModelRateLimited("429", retry_after=None))
    assert b.retry_in() == pytest.approx(1.0)
    b.record_failure(ModelRateLimited("429", retry_after=1e9))
    assert b.retry_in() == pytest.approx(600.0)


def test_an_abandoned_probe_frees_the_slot() -> None:
    clock = Clock()
    b = breaker(clock, threshold=1)
    b.record_failure(ModelBadResponse("garbage"))
    clock.now += 1
    assert b.allow()
    b.record_abandoned()
    assert b.allow()


def test_notifier_shows_once_per_kind_and_logs_recovery_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    shown: list[str] = []
    notifier = FailureNotifier("fast model", shown.append)
    caplog.set_level(logging.INFO, logger="spark_lsp")
    notifier.failure(ModelTimeout("slow"), persistent=False)
    assert shown == []  # transient: logged only
    for _ in range(5):
        notifier.failure(ModelServerError("HTTP 500", 500), persistent=True, retry_in=4)
    notifier.failure(ModelUnreachable("down"), persistent=True)
    notifier.failure(CircuitOpen("paused", 1.0, None), persistent=True)
    assert len(shown) == 2
    assert "server answers with an error" in shown[0] and "retrying in 4 s" in shown[0]
    assert "cannot connect" in shown[1]
    notifier.success()
    notifier.success()
    recovered = [r for r in caplog.records if "recovered" in r.getMessage()]
    assert len(recovered) == 1
    assert "7 failed request" in recovered[0].getMessage()
    notifier.failure(ModelServerError("HTTP 500", 500), persistent=True)
    assert len(shown) == 3  # after recovery, a new failure is news again


def test_notifier_survives_a_failing_show() -> None:
    def broken(_: str) -> None:
        raise RuntimeError("client gone")

    FailureNotifier("fast model", broken).failure(ModelTimeout("t"), persistent=True)


@pytest.mark.parametrize("status", [400, 401, 404, 422, 501])
def test_an_answer_that_will_not_change_is_not_retried_every_few_seconds(status: int) -> None:
    clock = Clock()
    b = breaker(clock)
    b.record_failure(ModelServerError("no", status))
    assert b.state == "open"  # at once, not after `failure_threshold` tries
    clock.now += 60
    assert not b.allow()
    clock.now += BreakerPolicy().permanent_backoff_s
    assert b.allow()


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503])
def test_a_passing_fault_is_retried_after_the_usual_backoff(status: int) -> None:
    clock = Clock()
    b = breaker(clock)
    b.record_failure(ModelServerError("busy", status))
    assert b.state == "closed"


def test_a_refusal_is_shown_in_the_servers_own_words() -> None:
    shown: list[str] = []
    FailureNotifier("fast model", shown.append).failure(
        ModelServerError("llamacpp at http://h:1: HTTP 501: Infill is not supported by this"
                         " model (this model has no FIM tokens: use …)", 501), persistent=True)
    assert len(shown) == 1
    assert "refuses the request" in shown[0] and "no FIM tokens" in shown[0]
