"""The six HTTP backends against the real fake model server on loopback: the wire each puts on the
network, the text it streams back, typed errors for every fault, timeouts, early close, no key leak.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from email.utils import formatdate

import pytest

from spark_lsp.model_request import Message, ModelRequest, Snippet
from spark_lsp.models.base import (
    ModelBadResponse,
    ModelError,
    ModelRateLimited,
    ModelServerError,
    ModelTimeout,
    ModelUnreachable,
)
from spark_lsp.models.factory import create_backend
from spark_lsp.models.http import HttpBackend, ssl_context
from spark_lsp.settings import ModelSettings
from tests.fakemodel import FakeModelServer, RecordedRequest

KEY = "sk-test-0123456789-SECRET"
KEY_ENV = "SPARK_TEST_API_KEY"

# provider → (path the fake sees, whether the url carries /v1)
ROUTES = {
    "openai": ("/v1/chat/completions", True),
    "openai-completions": ("/v1/completions", True),
    "ollama": ("/api/generate", False),
    "llamacpp": ("/infill", False),
    "mistral": ("/v1/fim/completions", True),
    "anthropic": ("/v1/messages", True),
}
PROVIDERS = list(ROUTES)

REQUEST = ModelRequest(
    prefix="def add(a, b):\n    ",
    suffix="\n\nprint(add(1, 2))\n",
    snippets=(Snippet("util.py", "def sub(a, b): ..."),),
    prompt="",
    system="You complete code.",
    messages=(Message("user", "Complete add()."),),
    max_tokens=64,
    stop=("\n\n", "\ndef", "\nclass", "\nif", "\nprint"),
    temperature=0.2,
)


@pytest.fixture(autouse=True)
def api_key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)


def model_settings(provider: str, fake: FakeModelServer, **changes: object) -> ModelSettings:
    v1 = ROUTES[provider][1]
    values: dict[str, object] = {
        "provider": provider,
        "url": fake.url + ("/v1" if v1 else ""),
        "model": "fake-model",
        "api_key_env": KEY_ENV,
        "timeout_ms": 2000,
    }
    values.update(changes)
    return ModelSettings(**values)  # type: ignore[arg-type]


async def run(provider: str, fake: FakeModelServer, request: ModelRequest = REQUEST,
              **changes: object) -> tuple[str, RecordedRequest]:
    backend = create_backend(model_settings(provider, fake, **changes))
    try:
        text = "".join([chunk async for chunk in backend.stream(request)])
    finally:
        await backend.aclose()
    return text, fake.requests[-1]


async def failure(provider: str, fake: FakeModelServer, **changes: object) -> ModelError:
    with pytest.raises(ModelError) as caught:
        await run(provider, fake, REQUEST, **changes)
    return caught.value


# -- the happy path: text, path, headers --------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_streams_the_reply_reassembled(provider: str, fake_model: FakeModelServer) -> None:
    fake_model.reply = "return a + b  # with ünïcode ✓\n" * 3
    fake_model.chunk_size = 3
    text, received = await run(provider, fake_model)
    assert text == fake_model.reply
    assert received.path == ROUTES[provider][0]
    assert received.body["stream"] is True
    assert fake_model.tokens_sent == -(-len(fake_model.reply) // 3)


@pytest.mark.parametrize("provider", [p for p in PROVIDERS if p != "anthropic"])
async def test_bearer_key_from_the_env_var(provider: str, fake_model: FakeModelServer) -> None:
    _, received = await run(provider, fake_model)
    assert received.headers["authorization"] == f"Bearer {KEY}"
    assert "x-api-key" not in received.headers


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_no_key_no_auth_header(provider: str, fake_model: FakeModelServer) -> None:
    _, received = await run(provider, fake_model, api_key_env=None)
    assert "authorization" not in received.headers
    assert "x-api-key" not in received.headers


async def test_empty_reply_is_an_empty_stream(fake_model: FakeModelServer) -> None:
    fake_model.reply = ""
    text, _ = await run("openai", fake_model)
    assert text == ""


async def test_connection_is_reused_across_requests(fake_model: FakeModelServer) -> None:
    backend = create_backend(model_settings("ollama", fake_model))
    try:
        for _ in range(3):
            assert "".join([c async for c in backend.stream(REQUEST)]) == fake_model.reply
    finally:
        await backend.aclose()
    assert len(fake_model.requests) == 3


# -- the body each provider sends ----------------------------------------------------------------


async def test_openai_body(fake_model: FakeModelServer) -> None:
    _, received = await run("openai", fake_model)
    assert received.body == {
        "model": "fake-model",
        "messages": [
            {"role": "system", "content": "You complete code."},
            {"role": "user", "content": "Complete add()."},
        ],
        "max_tokens": 64,
        "temperature": 0.2,
        "stop": ["\n\n", "\ndef", "\nclass", "\nif"],  # OpenAI takes at most four
        "stream": True,
    }


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_chat_falls_back_to_one_user_message(
    provider: str, fake_model: FakeModelServer
) -> None:
    request = ModelRequest(prefix="def add(a, b):\n    ", suffix="\nprint(1)\n")
    _, received = await run(provider, fake_model, request)
    [message] = received.body["messages"]
    assert message["role"] == "user"
    assert "def add(a, b):\n    <CURSOR>\nprint(1)\n" in message["content"]


async def test_openai_completions_sends_the_template_prompt(fake_model: FakeModelServer) -> None:
    request = ModelRequest(prompt="<PRE> x <SUF> y <MID>", prefix="ignored", suffix="ignored",
                           max_tokens=16, stop=("<EOT>",))
    _, received = await run("openai-completions", fake_model, request)
    assert received.body == {
        "model": "fake-model", "prompt": "<PRE> x <SUF> y <MID>", "max_tokens": 16,
        "temperature": 0.0, "stop": ["<EOT>"], "stream": True,
    }


async def test_openai_completions_sends_prefix_and_suffix(fake_model: FakeModelServer) -> None:
    _, received = await run("openai-completions", fake_model)
    assert received.body["prompt"] == REQUEST.prefix
    assert received.body["suffix"] == REQUEST.suffix
    assert received.body["stop"] == list(REQUEST.stop)


async def test_ollama_body(fake_model: FakeModelServer) -> None:
    _, received = await run("ollama", fake_model)
    assert received.body == {
        "model": "fake-model", "prompt": REQUEST.prefix, "suffix": REQUEST.suffix, "raw": False,
        "stream": True,
        "options": {"num_predict": 64, "temperature": 0.2, "stop": list(REQUEST.stop)},
    }


async def test_ollama_raw_prompt(fake_model: FakeModelServer) -> None:
    request = ModelRequest(prompt="<|fim_prefix|>x<|fim_suffix|>y<|fim_middle|>", prefix="p")
    _, received = await run("ollama", fake_model, request)
    assert received.body["raw"] is True
    assert received.body["prompt"] == request.prompt
    assert "suffix" not in received.body


async def test_llamacpp_body(fake_model: FakeModelServer) -> None:
    _, received = await run("llamacpp", fake_model)
    assert received.body == {
        "input_prefix": REQUEST.prefix, "input_suffix": REQUEST.suffix,
        "input_extra": [{"filename": "util.py", "text": "def sub(a, b): ..."}],
        "n_predict": 64, "temperature": 0.2, "stop": list(REQUEST.stop), "stream": True,
        "model": "fake-model", "cache_prompt": True,
    }


async def test_mistral_body(fake_model: FakeModelServer) -> None:
    _, received = await run("mistral", fake_model)
    assert received.body == {
        "model": "fake-model", "prompt": REQUEST.prefix, "suffix": REQUEST.suffix,
        "max_tokens": 64, "temperature": 0.2, "stop": list(REQUEST.stop), "stream": True,
    }


async def test_anthropic_body_and_headers(fake_model: FakeModelServer) -> None:
    request = ModelRequest(
        system="Be terse.",
        messages=(Message("system", "Python 3.12."), Message("user", "Write add()."),
                  Message("assistant", "def add"), Message("user", "Go on.")),
        max_tokens=300, stop=("\n\n\n", "  ", "```"),
    )
    _, received = await run("anthropic", fake_model, request)
    assert received.headers["x-api-key"] == KEY
    assert received.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in received.headers
    assert received.body == {
        "model": "fake-model",
        "system": [{"type": "text", "text": "Be terse.\n\nPython 3.12.",
                    "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": "Write add()."},
                     {"role": "assistant", "content": "def add"},
                     {"role": "user", "content": "Go on."}],
        "max_tokens": 300, "temperature": 0.0,
        "stop_sequences": ["```"],  # whitespace-only stop sequences are refused by the API
        "stream": True,
    }


# -- faults → typed errors -----------------------------------------------------------------------

FAULTS: list[tuple[str, type[ModelError]]] = [
    ("500", ModelServerError),
    ("503", ModelServerError),
    ("429", ModelRateLimited),
    ("garbage", ModelBadResponse),
    ("cut", ModelBadResponse),
    ("truncated", ModelBadResponse),
    ("error-event", ModelServerError),
    ("refuse", ModelUnreachable),
]


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(("fault", "error"), FAULTS)
async def test_fault_gives_typed_error(provider: str, fault: str, error: type[ModelError],
                                       fake_model: FakeModelServer) -> None:
    fake_model.reply = "return a + b\n" * 4
    fake_model.fault = fault
    caught = await failure(provider, fake_model)
    assert type(caught) is error, caught
    assert provider in str(caught)
    if fault.isdigit():
        assert isinstance(caught, ModelServerError | ModelRateLimited)
        assert str(fault) in str(caught)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_status_is_carried(provider: str, fake_model: FakeModelServer) -> None:
    fake_model.fault = "503"
    caught = await failure(provider, fake_model)
    assert isinstance(caught, ModelServerError) and caught.status == 503


async def test_anthropic_error_event_keeps_its_status(fake_model: FakeModelServer) -> None:
    fake_model.fault = "error-event"
    caught = await failure("anthropic", fake_model)
    assert isinstance(caught, ModelServerError) and caught.status == 529


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_retry_after_seconds(provider: str, fake_model: FakeModelServer) -> None:
    fake_model.fault, fake_model.retry_after = "429", 7
    caught = await failure(provider, fake_model)
    assert isinstance(caught, ModelRateLimited) and caught.retry_after == 7.0


async def test_retry_after_http_date(fake_model: FakeModelServer) -> None:
    fake_model.fault = "429"
    fake_model.retry_after = formatdate(time.time() + 30, usegmt=True)
    caught = await failure("openai", fake_model)
    assert isinstance(caught, ModelRateLimited)
    assert caught.retry_after is not None and 27 <= caught.retry_after <= 31


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_timeout_ms_is_honoured(provider: str, fake_model: FakeModelServer) -> None:
    fake_model.fault = "hang"
    started = time.monotonic()
    caught = await failure(provider, fake_model, timeout_ms=150)
    assert isinstance(caught, ModelTimeout)
    assert "150 ms" in str(caught)
    assert time.monotonic() - started < 1.5


async def test_slow_stream_between_chunks_times_out(fake_model: FakeModelServer) -> None:
    fake_model.reply, fake_model.chunk_size, fake_model.chunk_delay = "abcdefgh", 2, 0.5
    caught = await failure("llamacpp", fake_model, timeout_ms=150)
    assert isinstance(caught, ModelTimeout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_nobody_listening_is_unreachable(provider: str, fake_model: FakeModelServer) -> None:
    caught = await failure(provider, fake_model, url=f"http://127.0.0.1:{free_port()}")
    assert isinstance(caught, ModelUnreachable)
    assert "cannot connect" in str(caught)


# -- closing the stream closes the HTTP response -------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_closing_the_stream_disconnects(provider: str, fake_model: FakeModelServer) -> None:
    fake_model.reply, fake_model.chunk_size, fake_model.chunk_delay = "x" * 400, 4, 0.01
    backend = create_backend(model_settings(provider, fake_model))
    stream = backend.stream(REQUEST)
    assert await anext(stream) == "xxxx"
    await stream.aclose()  # type: ignore[attr-defined]
    started = time.monotonic()
    assert fake_model.wait_for_disconnect(2.0)
    assert time.monotonic() - started < 2.0
    assert fake_model.tokens_sent < 50
    await backend.aclose()


async def test_cancelling_the_consumer_disconnects(fake_model: FakeModelServer) -> None:
    fake_model.reply, fake_model.chunk_size, fake_model.chunk_delay = "y" * 400, 4, 0.01
    backend = create_backend(model_settings("openai", fake_model))
    first = asyncio.Event()

    async def consume() -> None:
        async for _ in backend.stream(REQUEST):
            first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(fake_model.wait_for_disconnect, 2.0)
    assert fake_model.tokens_sent < 50
    await backend.aclose()


# -- the key never leaks ----------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("fault", ["401", "429", "error-event", "garbage", "hang", None])
async def test_key_never_in_errors_or_logs(provider: str, fault: str | None,
                                           fake_model: FakeModelServer,
                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake_model.fault = fault
    fake_model.error_message = f"invalid key {KEY} given"  # servers do echo keys back
    try:
        await run(provider, fake_model, timeout_ms=150)
    except ModelError as exc:
        assert KEY not in str(exc) and KEY not in repr(exc)
        if fault == "401":
            assert isinstance(exc, ModelServerError) and exc.status == 401
            assert KEY_ENV in str(exc) and "***" in str(exc)
    else:
        assert fault is None
    records = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    assert KEY not in records
    assert caplog.records, "expected some debug logging to check"


# -- ping --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "path", "expected"),
    [
        ("openai", "/v1/models", "'fake-model' listed"),
        ("openai-completions", "/v1/models", "'fake-model' listed"),
        ("mistral", "/v1/models", "'fake-model' listed"),
        ("anthropic", "/v1/models", "'fake-model' listed as 'fake-model'"),
        ("ollama", "/api/tags", "'fake-model' pulled"),
        ("llamacpp", "/health", ": ok, /infill works"),
    ],
)
async def test_ping(provider: str, path: str, expected: str, fake_model: FakeModelServer) -> None:
    backend = create_backend(model_settings(provider, fake_model))
    try:
        answer = await backend.ping()
        assert expected in answer and provider in answer
        gets = [r for r in fake_model.requests if r.method == "GET"]
        assert gets[-1].path == path
        if provider == "llamacpp":  # and an /infill that generates nothing
            assert fake_model.requests[-1].path == "/infill"
            assert fake_model.requests[-1].body["n_predict"] == 0
        fake_model.fault = "500"
        with pytest.raises(ModelServerError):
            await backend.ping()
    finally:
        await backend.aclose()


async def test_doctor_tells_a_model_without_fim_tokens(fake_model: FakeModelServer) -> None:
    """llama-server's /health is fine when /infill cannot work: the ping tries /infill too."""
    backend = create_backend(model_settings("llamacpp", fake_model))
    fake_model.fault = "501"
    fake_model.error_message = "Infill is not supported by this model: prefix token is missing."
    try:
        with pytest.raises(ModelServerError, match="no FIM tokens"):
            await backend.ping()
    finally:
        await backend.aclose()


async def test_ping_names_an_unlisted_model(fake_model: FakeModelServer) -> None:
    backend = create_backend(model_settings("openai", fake_model, model="gpt-nope"))
    assert "'gpt-nope' unlisted (the server has 'fake-model')" in await backend.ping()
    await backend.aclose()


@pytest.mark.parametrize(("model", "found"), [
    ("SmolLM2-135M-Instruct", "/models/SmolLM2-135M-Instruct.Q4_1.gguf"),
    ("smollm2-135m-instruct.q4_1.gguf", "/models/SmolLM2-135M-Instruct.Q4_1.gguf"),
    ("SmolLM2-135M", None),  # a prefix of another model's name is not that model
    ("qwen", None),
])
def test_a_model_file_served_by_its_path_is_found_by_its_name(model: str, found: str | None
                                                               ) -> None:
    from spark_lsp.models.server_words import listed_as
    names = ["/models/SmolLM2-135M-Instruct.Q4_1.gguf", "/models/other.gguf"]
    assert listed_as(model, names) == found


# -- construction ---------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_http_provider_without_url_is_a_clear_error(provider: str) -> None:
    with pytest.raises(ValueError, match=f"provider '{provider}' needs a url"):
        create_backend(ModelSettings(provider=provider, url=None))  # type: ignore[arg-type]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_factory_gives_the_provider(provider: str, fake_model: FakeModelServer) -> None:
    backend = create_backend(model_settings(provider, fake_model))
    assert isinstance(backend, HttpBackend)
    assert backend.provider == provider
    assert backend.prompt_style == ("chat" if provider in ("openai", "anthropic") else
                                    "fim_template" if provider == "openai-completions" else
                                    "fim_fields")


def test_missing_ca_bundle_is_a_clear_error(fake_model: FakeModelServer) -> None:
    with pytest.raises(ValueError, match="ca_bundle"):
        create_backend(model_settings("openai", fake_model, ca_bundle="/nonexistent/ca.pem"))


def test_local_needs_no_url() -> None:
    backend = create_backend(ModelSettings(provider="local"))
    assert backend.provider == "local" and backend.prompt_style == "fim_template"


def test_tls_verification_is_always_on() -> None:
    import certifi

    for context in (ssl_context(None), ssl_context(certifi.where())):
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
