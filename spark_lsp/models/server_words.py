"""What a model server's answers say, read for people: the message inside an error body, what
to do about it, a Retry-After header in seconds, and which listed model is the configured one.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime

# Error type names (Anthropic, OpenAI) → the HTTP status they stand for.
ERROR_TYPES = {
    "invalid_request_error": 400, "authentication_error": 401, "permission_error": 403,
    "not_found_error": 404, "request_too_large": 413, "rate_limit_error": 429,
    "rate_limit_exceeded": 429, "api_error": 500, "server_error": 500, "overloaded_error": 529,
}


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Parse a Retry-After header (delay in seconds, or an HTTP date) into seconds from now."""
    if not value or not value.strip():
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, seconds) if math.isfinite(seconds) else None


def listed_as(model: str, names: list[str]) -> str | None:
    """The server's name for `model`: itself, or a model file it serves by that name
    (llama-server and llama-cpp-python list a GGUF by its path:
    `/models/SmolLM2-135M-Instruct.Q4_1.gguf` for `SmolLM2-135M-Instruct`); None if none."""
    if model in names:
        return model
    wanted = model.lower().removesuffix(".gguf")
    for name in names:
        stem = name.replace("\\", "/").rsplit("/", 1)[-1].lower().removesuffix(".gguf")
        if stem == wanted or stem.startswith(wanted + ".") or stem.startswith(wanted + "-q"):
            return name
    return None


def status_hint(status: int, detail: str) -> str:
    """What to do about an error answer whose cause the server's words make plain."""
    lowered = detail.lower()
    if status == 501 and "infill" in lowered:
        return ("this model has no FIM tokens: use provider 'openai-completions' with this"
                " server, or a FIM model")
    if status == 404 and "model" in lowered:
        return "check the model name: `spark-lsp doctor` lists what the server has"
    if status == 404:
        return "check the url: the client appends the provider's path to it"
    return ""


def error_detail(text: str) -> str:
    """The human message inside an error body of any of the wire formats, else the raw text."""
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if isinstance(data, Mapping):
        error = data.get("error")
        if isinstance(error, Mapping):
            data = error
        elif isinstance(error, str):
            return error
        for key in ("message", "detail"):
            if isinstance(data.get(key), str):
                return str(data[key])
    return text
