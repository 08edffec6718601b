"""The literal secret values this process holds (the API keys read from the environment): masked
wherever they appear, in requests to a model and in log records."""

from __future__ import annotations

_KNOWN: set[str] = set()


def remember_secret(value: str | None) -> None:
    """Register a literal secret (an API key read from the environment) for redaction."""
    if value and len(value) >= 4:
        _KNOWN.add(value)


def known_secrets() -> tuple[str, ...]:
    return tuple(_KNOWN)
