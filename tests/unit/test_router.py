"""The router keeps one backend per tier and closes the ones a settings change replaces."""

from __future__ import annotations

from spark_lsp.models.guarded import GuardedBackend
from spark_lsp.models.router import Router
from spark_lsp.settings import Settings, resolve


def _settings(url: str, model: str = "m") -> Settings:
    fast = {"provider": "ollama", "url": url, "model": model}
    return resolve([("test", {"fast": fast})]).settings


async def test_same_backend_until_settings_change_then_the_old_one_is_closed() -> None:
    router = Router(_settings("http://127.0.0.1:9"))
    first = router.route("fast").backend
    assert router.route("fast").backend is first
    router.update(_settings("http://127.0.0.1:9"))  # same model settings: kept
    assert router.route("fast").backend is first

    router.update(_settings("http://127.0.0.1:9", model="other"))
    second = router.route("fast").backend
    assert second is not first
    assert router._retiring is not None
    await router._retiring
    assert isinstance(first, GuardedBackend)
    assert first.inner._client.is_closed  # type: ignore[attr-defined]
    assert not second.inner._client.is_closed  # type: ignore[attr-defined]
    await router.aclose()


def test_update_without_a_running_loop_leaves_closing_to_aclose() -> None:
    router = Router(_settings("http://127.0.0.1:9"))
    router.route("fast")
    router.update(_settings("http://127.0.0.1:9", model="other"))
    assert router._retiring is None
