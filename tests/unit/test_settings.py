"""Settings: precedence of sources, typing once, and messages that name the bad key."""

from __future__ import annotations

from pathlib import Path

import pytest

from spark_lsp import settings as s


@pytest.mark.parametrize(
    ("sources", "key", "expected", "origin"),
    [
        ([], "fast.max_tokens", 128, "default"),
        (
            [("user spark.toml", {"fast": {"max_tokens": 64}})],
            "fast.max_tokens",
            64,
            "user spark.toml",
        ),
        (
            [
                ("user spark.toml", {"fast": {"max_tokens": 64, "model": "a"}}),
                ("workspace spark.toml", {"fast": {"max_tokens": 32}}),
            ],
            "fast.model",
            "a",
            "user spark.toml",
        ),
        (
            [
                ("workspace spark.toml", {"fast": {"max_tokens": 32}}),
                ("initializationOptions", {"fast": {"maxTokens": 16}}),
                ("workspace/configuration", {"fast": {"max_tokens": 8}}),
            ],
            "fast.max_tokens",
            8,
            "workspace/configuration",
        ),
        (
            [("initializationOptions", {"completion": {"debounceMs": 0}})],
            "completion.debounce_ms",
            0,
            "initializationOptions",
        ),
    ],
)
def test_precedence_lowest_first(sources, key, expected, origin) -> None:
    result = s.resolve(sources)
    section, name = key.split(".")
    assert getattr(getattr(result.settings, section), name) == expected
    assert result.origins.get(key, "default") == origin
    assert result.problems == ()


def test_bad_value_names_its_key_and_keeps_the_rest() -> None:
    result = s.resolve(
        [("initializationOptions", {"fast": {"max_tokens": "lots", "model": "qwen2.5-coder"}})]
    )
    assert result.settings.fast.max_tokens == 128
    assert result.settings.fast.model == "qwen2.5-coder"
    assert any(p.startswith("fast.max_tokens:") and "integer" in p for p in result.problems)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"fast": {"provider": "gpt-magic"}}, "fast.provider: expected one of"),
        ({"context": {"exclude": "*.env"}}, "context.exclude: expected a list of strings"),
        ({"completion": {"debounce_ms": -5}}, "completion.debounce_ms: must not be negative"),
        ({"fats": {}}, "fats: unknown setting"),
        ({"strong": 3}, "strong: expected"),
        ({"actions": {"stronger_threshold": "high"}}, "actions.stronger_threshold"),
    ],
)
def test_problems_name_the_key(raw, fragment) -> None:
    result = s.resolve([("initializationOptions", raw)])
    assert any(fragment in p for p in result.problems), result.problems


def test_strong_tier_absent_by_default_and_typed_when_given() -> None:
    assert s.resolve([]).settings.strong is None
    strong = s.resolve([("x", {"strong": {"provider": "anthropic", "model": "m"}})]).settings.strong
    assert strong is not None and strong.provider == "anthropic" and strong.max_tokens == 128


def test_toml_files_user_then_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config"
    (config / "spark-lsp").mkdir(parents=True)
    (config / "spark-lsp" / "spark.toml").write_text('[fast]\nmodel = "user"\nmax_tokens = 10\n')
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "spark.toml").write_text('[fast]\nmodel = "workspace"\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    result = s.load(workspace, {"context": {"max_prompt_tokens": 256}})
    assert result.settings.fast.model == "workspace"
    assert result.settings.fast.max_tokens == 10
    assert result.settings.context.max_prompt_tokens == 256
    assert result.origins["fast.model"] == "workspace spark.toml"


def test_unreadable_toml_is_a_problem_not_a_crash(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "none"))
    (tmp_path / "spark.toml").write_text("[fast\nmodel=")
    result = s.load(tmp_path)
    assert result.settings == s.Settings()
    assert any("spark.toml" in p for p in result.problems)


def test_api_key_comes_from_the_named_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", "sekrit")
    assert s.api_key(s.ModelSettings(api_key_env="MY_KEY")) == "sekrit"
    assert s.api_key(s.ModelSettings()) is None
