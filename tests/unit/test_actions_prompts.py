"""Instruction prompts for the actions, shaped per prompt style."""

from __future__ import annotations

from spark_lsp.actions import generate
from spark_lsp.actions.detect import generate_targets
from spark_lsp.actions.syntax import Source
from spark_lsp.context.types import PromptContext
from spark_lsp.model_request import Snippet
from spark_lsp.prompts.actions import (
    ACTION_SYSTEM,
    EXPLAIN_SYSTEM,
    HERE,
    action_request,
    fill_prompt,
    generate_body_prompt,
    stronger_prompt,
)
from spark_lsp.settings import ModelSettings, Settings
from tests.unit.test_actions_detect import snapshot

CODE = "def f(x):\n    pass\n"
CTX = PromptContext(path="/w/m.py", language="python", comment="#",
                    prefix="import os\n\n", suffix=CODE + "\nprint(f(1))\n",
                    snippets=(Snippet("/w/util.py", "def helper(a: int) -> int: ..."),))


def test_chat_request_has_task_code_and_labelled_context() -> None:
    prompt = generate_body_prompt("f", "python", "/w/m.py", CODE.rstrip(), "Doubles x.",
                                  ("line 4: print(f(1))",), CTX)
    request = action_request(prompt, "chat", ModelSettings(temperature=0.2), 900)
    assert request.system == ACTION_SYSTEM and request.max_tokens == 900
    assert request.temperature == 0.2
    (message,) = request.messages
    text = message.content
    assert "Implement the function `f`" in text and "Doubles x." in text
    assert "line 4: print(f(1))" in text
    assert "# Path: /w/util.py\ndef helper(a: int) -> int: ..." in text
    assert f"import os\n\n# {HERE}\n\nprint(f(1))" in text  # the code itself is cut out
    assert "```python\ndef f(x):\n    pass\n```" in text


def test_completion_style_request_is_a_commented_prompt() -> None:
    prompt = fill_prompt("python", "/w/m.py", CODE.rstrip(), ["line 2: pass"], "function `f`",
                         CTX)
    request = action_request(prompt, "fim_template", ModelSettings(), 300)
    assert request.prompt == request.prefix and not request.messages
    assert request.prompt.startswith("# Path: /w/m.py\n")
    assert "# This python code (function `f`) is a skeleton" in request.prompt
    assert request.prompt.endswith("# Original:\ndef f(x):\n    pass\n# Result:\n")


def test_explain_uses_its_own_system_text() -> None:
    prompt = stronger_prompt("explain", "python", "/w/m.py", CODE, "function `f`", "#", None)
    request = action_request(prompt, "chat", ModelSettings(), 300)
    assert request.system == EXPLAIN_SYSTEM
    assert "each starting with `#`" in request.messages[0].content


def test_fill_in_the_middle_backends_get_the_stub_as_a_hole() -> None:
    text = "import os\n\n\ndef f(x):\n    █pass\n\n\nprint(f(1))\n"
    snap, loc = snapshot(text, "python")
    assert snap.tree is not None
    (target,) = generate_targets(snap.tree, Source(snap), loc)
    model = ModelSettings(provider="ollama", url="http://x", model="qwen2.5-coder:1.5b")
    request, fim = generate.request(target, snap, Settings(), "fim_fields", model)
    assert fim
    assert request.prefix.endswith("def f(x):\n    ")
    assert request.suffix.startswith("\n\n\nprint(f(1))")
    assert "pass" not in request.prefix + request.suffix
    assert request.max_tokens == Settings().actions.max_tokens
