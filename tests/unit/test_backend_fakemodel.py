"""The fake model server itself: whole (non-stream) answers, routing, recording, clean shutdown,
and the pure helpers of the shared HTTP client (Retry-After, chat fallback)."""

from __future__ import annotations

import threading
import time
from email.utils import formatdate

import httpx
import pytest

from spark_lsp.model_request import Message, ModelRequest
from spark_lsp.models.http import chat_messages
from spark_lsp.models.server_words import retry_after_seconds
from tests.fakemodel import POST_ROUTES, FakeModelServer

WHOLE_TEXT = {
    "/v1/chat/completions": lambda d: d["choices"][0]["message"]["content"],
    "/v1/completions": lambda d: d["choices"][0]["text"],
    "/api/generate": lambda d: d["response"],
    "/infill": lambda d: d["content"],
    "/v1/fim/completions": lambda d: d["choices"][0]["message"]["content"],
    "/v1/messages": lambda d: d["content"][0]["text"],
}


@pytest.mark.parametrize("path", list(POST_ROUTES))
def test_whole_json_answer_when_not_streaming(path: str, fake_model: FakeModelServer) -> None:
    fake_model.reply = "x = 1"
    response = httpx.post(fake_model.url + path, json={"model": "m", "stream": False})
    assert response.headers["content-type"] == "application/json"
    assert WHOLE_TEXT[path](response.json()) == "x = 1"
    assert fake_model.tokens_sent == 0


def test_ollama_streams_by_default(fake_model: FakeModelServer) -> None:
    response = httpx.post(fake_model.url + "/api/generate", json={"model": "m"})
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.text.count("\n") == 4  # three chunks of "return a + b", then done


def test_unknown_route_is_404_and_recorded(fake_model: FakeModelServer) -> None:
    response = httpx.post(fake_model.url + "/chat/completions", json={}, headers={"X-A": "b"})
    assert response.status_code == 404
    [received] = fake_model.requests
    assert received.path == "/chat/completions" and received.headers["x-a"] == "b"


def test_reset_clears_requests_counters_and_fault(fake_model: FakeModelServer) -> None:
    httpx.post(fake_model.url + "/infill", json={"stream": True})
    fake_model.fault = "500"
    assert fake_model.requests and fake_model.tokens_sent == 3
    fake_model.reset()
    assert (fake_model.requests, fake_model.tokens_sent, fake_model.disconnects) == ([], 0, 0)
    assert fake_model.fault is None


def test_closes_promptly_while_a_request_hangs() -> None:
    fake = FakeModelServer().start()
    fake.fault = "hang"
    errors: list[Exception] = []

    def call() -> None:
        try:
            httpx.post(fake.url + "/v1/completions", json={}, timeout=30)
        except httpx.HTTPError as exc:
            errors.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    while not fake.requests:
        time.sleep(0.01)
    started = time.monotonic()
    fake.close()
    caller.join(5)
    assert time.monotonic() - started < 1.0
    assert errors and not caller.is_alive()
    assert not [t for t in threading.enumerate() if t.name.startswith("fake-model")]


def test_wait_for_disconnect_times_out_without_one(fake_model: FakeModelServer) -> None:
    assert fake_model.wait_for_disconnect(0.05) is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [("5", 5.0), ("0.5", 0.5), (" 12 ", 12.0), ("-3", 0.0), ("", None), (None, None),
     ("soon", None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)
def test_retry_after_seconds(value: str | None, expected: float | None) -> None:
    assert retry_after_seconds(value) == expected


def test_retry_after_http_date_in_the_future() -> None:
    now = time.time()
    header = formatdate(now + 60, usegmt=True)
    assert retry_after_seconds(header, now=now) == pytest.approx(60, abs=1)


def test_chat_messages_folds_system_roles() -> None:
    request = ModelRequest(system="A", messages=(Message("system", "B"), Message("user", "hi")))
    assert chat_messages(request) == ("A\n\nB", [{"role": "user", "content": "hi"}])


def test_chat_messages_from_a_prompt_or_a_prefix() -> None:
    assert chat_messages(ModelRequest(prompt="do it"))[1] == [{"role": "user", "content": "do it"}]
    [only] = chat_messages(ModelRequest(prefix="x = "))[1]
    assert only["content"].endswith("\n\nx = ")
