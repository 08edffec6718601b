"""A request to a model as the stages before the model build it: `ModelRequest` and its parts.

Below both `context/` and `models/`: the context stage makes the snippets, `prompts/` shapes the
request for a prompt style, a backend in `models/` sends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PromptStyle = Literal["fim_fields", "fim_template", "chat"]


@dataclass(frozen=True)
class Snippet:
    """A labelled piece of context: the path it came from and its text."""

    path: str
    text: str


@dataclass(frozen=True)
class Message:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class ModelRequest:
    """One generation request, already shaped by `prompts/` for the backend's prompt style.

    - `fim_fields` backends (ollama, llamacpp, mistral) send `prefix`/`suffix` as the API's own
      fields, and `snippets` where the API has a channel for them (llama.cpp's `input_extra`);
      otherwise the snippets are already folded into `prefix`.
    - `fim_template` backends (openai-completions, local) send `prompt` verbatim.
    - `chat` backends (openai, anthropic) send `system` and `messages`.
    """

    prefix: str = ""
    suffix: str = ""
    snippets: tuple[Snippet, ...] = ()
    prompt: str = ""
    system: str = ""
    messages: tuple[Message, ...] = ()
    max_tokens: int = 128
    stop: tuple[str, ...] = ()
    temperature: float = 0.0
    # The whole answer's time limit for this request (code actions have their own); None: the
    # model's `timeout_ms`, 0: none.
    deadline_ms: int | None = None
    # Which document the prompt is for: servers with a prompt cache per slot (llama.cpp) keep
    # each document's prompts in one slot.
    cache_key: str = ""
