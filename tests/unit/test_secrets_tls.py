"""TLS verification stays on: a self-signed endpoint is refused unless its CA is given with
`ca_bundle`, and there is no setting that turns verification off."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from spark_lsp.model_request import ModelRequest
from spark_lsp.models.base import ModelUnreachable
from spark_lsp.models.guarded import GuardedBackend
from spark_lsp.models.ollama import OllamaBackend
from spark_lsp.settings import ModelSettings, build_settings
from tests.fakemodel import FakeModelServer

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


@pytest.fixture
def https_fake(tmp_path: Path) -> Iterator[tuple[FakeModelServer, Path]]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with FakeModelServer() as fake:
        server = fake._server
        assert server is not None
        server.socket = context.wrap_socket(server.socket, server_side=True)
        yield fake, cert


def https(fake: FakeModelServer) -> str:
    return fake.url.replace("http://", "https://")


async def collect(settings: ModelSettings) -> str:
    backend = GuardedBackend(OllamaBackend(settings), settings)
    try:
        stream = backend.stream(ModelRequest(prefix="def f():\n    "))
        return "".join([chunk async for chunk in stream])
    finally:
        await backend.aclose()


@needs_openssl
async def test_a_self_signed_endpoint_is_refused_by_default(
    https_fake: tuple[FakeModelServer, Path],
) -> None:
    fake, _ = https_fake
    with pytest.raises(ModelUnreachable) as info:
        await collect(ModelSettings(provider="ollama", url=https(fake), model="m"))
    assert "CERTIFICATE_VERIFY_FAILED" in str(info.value)
    assert "ca_bundle" in str(info.value)


@needs_openssl
async def test_ca_bundle_makes_the_custom_ca_trusted(
    https_fake: tuple[FakeModelServer, Path],
) -> None:
    fake, cert = https_fake
    fake.reply = "return 42"
    settings = ModelSettings(provider="ollama", url=https(fake), model="m", ca_bundle=str(cert))
    assert await collect(settings) == "return 42"


@pytest.mark.parametrize("key", ["verify", "verify_ssl", "insecure", "tls_verify"])
def test_there_is_no_setting_to_turn_verification_off(key: str) -> None:
    settings, problems = build_settings({"fast": {"provider": "ollama", key: False}})
    assert any(key in problem and "unknown" in problem for problem in problems)
    assert not hasattr(settings.fast, key)
