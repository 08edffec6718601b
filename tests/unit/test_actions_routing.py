"""One router decides the tier: actions by kind and score, completions on the fast tier, the fast
tier (and a note) when no strong tier is configured."""

from __future__ import annotations

import pytest

from spark_lsp.actions.kinds import ASK_STRONGER, FILL_TEMPLATE, GENERATE_FUNCTION
from spark_lsp.models.router import Router, offers_stronger, tier_for_action
from spark_lsp.settings import ActionsSettings, ModelSettings, Settings

FAST = ModelSettings(provider="openai", url="http://127.0.0.1:9/v1", model="fast-model")
STRONG = ModelSettings(provider="anthropic", url="http://127.0.0.1:9/v1", model="strong-model")


@pytest.mark.parametrize(("kind", "score", "tier"), [
    (GENERATE_FUNCTION, 0.0, "fast"),
    (GENERATE_FUNCTION, 99.0, "fast"),
    (FILL_TEMPLATE, 99.0, "fast"),
    (ASK_STRONGER, 0.0, "strong"),
    ("refactor.rewrite.spark.somethingElse", 3.0, "fast"),
    ("refactor.rewrite.spark.somethingElse", 12.0, "strong"),
])
def test_tier_by_kind_then_score(kind: str, score: float, tier: str) -> None:
    assert tier_for_action(kind, score, threshold=10.0) == tier


def test_offer_threshold() -> None:
    assert offers_stronger(10.0, 10.0) and not offers_stronger(9.9, 10.0)


async def test_routes_with_and_without_a_strong_tier() -> None:
    router = Router(Settings(fast=FAST, strong=STRONG))
    try:
        route = router.route_for_action(ASK_STRONGER, 20.0, 10.0)
        assert (route.tier, route.settings.model, route.fell_back) == ("strong", "strong-model",
                                                                       False)
        assert router.route_for_action(GENERATE_FUNCTION).settings.model == "fast-model"
        assert router.route("fast").tier == "fast"  # completions
        router.update(Settings(fast=FAST))
        fallback = router.route_for_action(ASK_STRONGER, 20.0, 10.0)
        assert (fallback.tier, fallback.settings.model, fallback.fell_back) == (
            "fast", "fast-model", True)
    finally:
        await router.aclose()


async def test_actions_share_the_tier_backend_and_carry_their_own_deadline() -> None:
    """One connection pool and one health record per tier; the action's whole-answer limit
    (`actions.timeout_ms`) travels with its request."""
    router = Router(Settings(fast=FAST, strong=STRONG, actions=ActionsSettings(timeout_ms=60_000)))
    try:
        completion = router.route("fast").backend
        assert router.route_for_action(GENERATE_FUNCTION).backend is completion
        assert router.route_for_action(ASK_STRONGER, 20.0, 10.0).backend \
            is router.route("strong").backend
    finally:
        await router.aclose()
