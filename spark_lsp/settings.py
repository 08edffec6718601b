"""The settings object: its typed shape, its sources, their merge, and validation.

Sources stay plain dicts until one recursive merge has run (lowest first: defaults < user
spark.toml < workspace spark.toml < initializationOptions < workspace/configuration). Only then is
the result typed, once. A bad value never stops the server: it gets a message naming its key and
the default is used for that key alone.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

Provider = Literal[
    "openai", "openai-completions", "ollama", "llamacpp", "mistral", "anthropic", "local"
]
PROVIDERS: tuple[str, ...] = get_args(Provider)


@dataclass(frozen=True)
class ModelSettings:
    """One tier's model endpoint."""

    provider: Provider = "local"
    url: str | None = None
    model: str = ""
    api_key_env: str | None = None
    fim_template: str = "auto"
    max_tokens: int = 128
    timeout_ms: int = 5000
    temperature: float = 0.0
    model_path: str | None = None
    ca_bundle: str | None = None
    n_threads: int | None = None


@dataclass(frozen=True)
class ContextSettings:
    max_prompt_tokens: int = 512
    exclude: tuple[str, ...] = ("**/.env*", "**/*.pem", "**/*.key", "**/secrets/**")
    max_index_files: int = 5000
    max_file_bytes: int = 1_000_000
    mask_secrets: bool = True


@dataclass(frozen=True)
class CompletionSettings:
    debounce_ms: int = 30
    multiline: Literal["auto", "always", "never"] = "auto"
    # Completion items (the suggestion as a completion-menu entry): "auto" offers them only to
    # editors without inline completion (Helix), so an editor with ghost text does not show the
    # same suggestion twice; "always" offers both. Read when the editor starts the server.
    items: Literal["auto", "always"] = "auto"
    answer_deadline_ms: int = 800
    cache_size: int = 256
    max_line_chars: int = 10_000
    max_document_bytes: int = 20_000_000


@dataclass(frozen=True)
class ActionsSettings:
    stronger_threshold: float | Literal["auto"] = "auto"
    max_tokens: int = 1024  # per code-action answer (completions use the tier's max_tokens)
    # A whole code action may take this long, for every provider (the tier's timeout_ms, which
    # bounds a completion, does not cut it short).
    timeout_ms: int = 120_000
    # How actions ask the model: "completion" continues the code (small and FIM models),
    # "instruction" asks for a fenced block (chat models); "auto" picks by the provider.
    prompt_shape: Literal["auto", "completion", "instruction"] = "auto"


@dataclass(frozen=True)
class Settings:
    fast: ModelSettings = field(default_factory=ModelSettings)
    strong: ModelSettings | None = None
    context: ContextSettings = field(default_factory=ContextSettings)
    completion: CompletionSettings = field(default_factory=CompletionSettings)
    actions: ActionsSettings = field(default_factory=ActionsSettings)


@dataclass(frozen=True)
class SettingsResult:
    """The typed settings, the problems found on the way, and where each leaf value came from."""

    settings: Settings
    problems: tuple[str, ...] = ()
    origins: Mapping[str, str] = field(default_factory=dict)


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge key by key; dicts merge recursively, anything else in `override` wins."""
    merged: dict[str, Any] = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _record_origins(
    raw: Mapping[str, Any], source: str, origins: dict[str, str], prefix: str = ""
) -> None:
    for key, value in raw.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            _record_origins(value, source, origins, path + ".")
        else:
            origins[path] = source


def _camel_to_snake(name: str) -> str:
    out = []
    for ch in name:
        if ch.isupper():
            out.append("_" + ch.lower())
        else:
            out.append(ch)
    return "".join(out)


def _normalise_keys(raw: Any) -> Any:
    """Accept camelCase keys from editors (VS Code's style): maxTokens → max_tokens."""
    if isinstance(raw, Mapping):
        return {_camel_to_snake(str(k)): _normalise_keys(v) for k, v in raw.items()}
    return raw


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_MISSING = object()


def _convert(value: Any, hint: Any, path: str, problems: list[str]) -> Any:
    """Convert `value` to `hint`; return _MISSING (and record a problem) when it does not fit."""
    origin = get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        options = get_args(hint)
        if value is None and type(None) in options:
            return None
        errors: list[str] = []
        for option in options:
            if option is type(None):
                continue
            converted = _convert(value, option, path, errors)
            if converted is not _MISSING:
                return converted
        expected = " or ".join(_type_name(o) for o in options)
        problems.append(f"{path}: expected {expected}, got {_describe(value)}")
        return _MISSING
    if origin is Literal:
        if value in get_args(hint):
            return value
        choices = ", ".join(repr(a) for a in get_args(hint))
        problems.append(f"{path}: expected one of {choices}, got {_describe(value)}")
        return _MISSING
    if origin is tuple:
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return tuple(value)
        problems.append(f"{path}: expected a list of strings, got {_describe(value)}")
        return _MISSING
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, Mapping):
            problems.append(f"{path}: expected a table/object, got {_describe(value)}")
            return _MISSING
        return _build(hint, value, path, problems)
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            if value < 0:
                problems.append(f"{path}: must not be negative, got {value}")
                return _MISSING
            return value
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif hint is str and isinstance(value, str):
        return value
    problems.append(f"{path}: expected {_type_name(hint)}, got {_describe(value)}")
    return _MISSING


def _type_name(hint: Any) -> str:
    if hint is type(None):
        return "null"
    if get_origin(hint) is Literal:
        return " or ".join(repr(a) for a in get_args(hint))
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    if hint in names:
        return names[hint]
    if dataclasses.is_dataclass(hint):
        return "a table/object"
    return str(hint)


def _build(cls: Any, raw: Mapping[str, Any], path: str, problems: list[str]) -> Any:
    hints = get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        key_path = f"{path}.{key}" if path else key
        if key not in known:
            problems.append(f"{key_path}: unknown setting (ignored)")
            continue
        converted = _convert(value, hints[key], key_path, problems)
        if converted is not _MISSING:
            kwargs[key] = converted
    return cls(**kwargs)


def build_settings(raw: Mapping[str, Any]) -> tuple[Settings, list[str]]:
    """Type a merged raw dict. Returns the settings and human-readable problems (key named)."""
    problems: list[str] = []
    settings = _build(Settings, _normalise_keys(raw), "", problems)
    return settings, problems


def resolve(sources: list[tuple[str, Mapping[str, Any] | None]]) -> SettingsResult:
    """Merge the sources (lowest first, as (name, raw dict or None)), then type them once."""
    merged: dict[str, Any] = {}
    origins: dict[str, str] = {}
    problems: list[str] = []
    for name, raw in sources:
        if raw is None:
            continue
        if not isinstance(raw, Mapping):
            problems.append(f"{name}: expected a settings object, got {_describe(raw)}")
            continue
        normalised = _normalise_keys(raw)
        _record_origins(normalised, name, origins)
        merged = deep_merge(merged, normalised)
    settings, typing_problems = build_settings(merged)
    problems.extend(typing_problems)
    return SettingsResult(settings=settings, problems=tuple(problems), origins=origins)


def user_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "spark-lsp" / "spark.toml"


def read_toml(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """Read a spark.toml; (None, None) when absent, (None, message) when unreadable."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh), None
    except FileNotFoundError:
        return None, None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        return None, f"{path}: cannot read settings ({exc})"


def file_sources(
    workspace_root: Path | None,
) -> tuple[list[tuple[str, dict[str, Any] | None]], list[str]]:
    """The spark.toml sources, lowest first, and any problems reading them."""
    sources: list[tuple[str, dict[str, Any] | None]] = []
    problems: list[str] = []
    paths = [("user spark.toml", user_config_path())]
    if workspace_root is not None:
        paths.append(("workspace spark.toml", workspace_root / "spark.toml"))
    for name, path in paths:
        data, problem = read_toml(path)
        if problem:
            problems.append(problem)
        sources.append((name, data))
    return sources, problems


def load(
    workspace_root: Path | None,
    initialization_options: Mapping[str, Any] | None = None,
    client_configuration: Mapping[str, Any] | None = None,
) -> SettingsResult:
    """All sources in their precedence order, merged and typed."""
    sources, problems = file_sources(workspace_root)
    result = resolve(
        [
            *sources,
            ("initializationOptions", initialization_options),
            ("workspace/configuration", client_configuration),
        ]
    )
    return dataclasses.replace(result, problems=tuple(problems) + result.problems)


EMBEDDED_MODEL = "SmolLM2-135M (embedded)"


def model_label(model: ModelSettings) -> str:
    """A tier's model as a person reads it: its name, the file of a `local` model_path, the
    bundled model for `local` alone, else the provider."""
    if model.model:
        return model.model
    if model.provider == "local":
        return os.path.basename(model.model_path) if model.model_path else EMBEDDED_MODEL
    return model.provider


def api_key(model: ModelSettings) -> str | None:
    """The tier's API key, read from the environment variable the settings name. Never logged."""
    if not model.api_key_env:
        return None
    return os.environ.get(model.api_key_env) or None
