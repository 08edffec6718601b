"""FIM templates: the auto table, each family's layout and stop tokens, chat instructions."""

from __future__ import annotations

import pytest

from spark_lsp.context.types import PromptContext
from spark_lsp.model_request import Snippet
from spark_lsp.prompts.build import completion_request
from spark_lsp.prompts.fim import TEMPLATES, resolve_template
from spark_lsp.settings import ModelSettings

CTX = PromptContext(
    path="src/app.py",
    language="python",
    comment="#",
    prefix="def add(a, b):\n    ",
    suffix="\n\nprint(add(1, 2))\n",
    snippets=(Snippet("src/util.py", "def helper(x: int) -> int: ..."),),
)


@pytest.mark.parametrize(
    ("model", "template"),
    [
        ("qwen2.5-coder:1.5b", "qwen"),
        ("Qwen/Qwen2.5-Coder-7B", "qwen"),
        ("deepseek-coder-6.7b-base", "deepseek"),
        ("bigcode/starcoder2-3b", "starcoder2"),
        ("codellama:7b-code", "codellama"),
        ("CodeLlama-13b", "codellama"),
        ("codestral-latest", "codestral"),
        ("codegemma:2b", "codegemma"),
        ("SmolLM2-135M-Instruct", "prefix"),
    ],
)
def test_auto_table(model: str, template: str) -> None:
    found = resolve_template("auto", model, None)
    assert found is not None and found.name == template


def test_auto_unknown_model_uses_api_fields_or_default() -> None:
    assert resolve_template("auto", "my-private-model", None) is None
    default = resolve_template("auto", "my-private-model", "prefix")
    assert default is not None and default.name == "prefix"


def test_explicit_and_unknown_template_names() -> None:
    assert resolve_template("starcoder2", "whatever", None) is TEMPLATES["starcoder2"]
    assert resolve_template("none", "qwen", None) is None
    with pytest.raises(ValueError, match="unknown fim_template 'gpt'"):
        resolve_template("gpt", "x", None)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_template_keeps_prefix_order_and_labels_paths(name: str) -> None:
    text = TEMPLATES[name].render(CTX)
    assert CTX.prefix in text
    assert "src/util.py" in text and "def helper" in text and "src/app.py" in text
    assert text.index("def helper") < text.index(CTX.prefix)
    if TEMPLATES[name].uses_suffix:
        assert CTX.suffix in text
    else:
        assert "print(add(1, 2))" not in text
    assert TEMPLATES[name].stop, "a template owns its stop tokens"


def test_qwen_layout_exactly() -> None:
    text = TEMPLATES["qwen"].render(CTX)
    assert text.endswith(f"<|fim_prefix|>{CTX.prefix}<|fim_suffix|>{CTX.suffix}<|fim_middle|>")
    assert text.startswith("<|file_sep|>src/util.py\n")


def test_codestral_puts_suffix_first() -> None:
    text = TEMPLATES["codestral"].render(CTX)
    assert text.startswith(f"[SUFFIX]{CTX.suffix}[PREFIX]")


def test_request_shapes_per_style() -> None:
    chat = completion_request(CTX, "chat", ModelSettings(provider="openai", model="gpt"))
    assert chat.messages and "<CURSOR>" in chat.messages[0].content and chat.system
    fields = completion_request(CTX, "fim_fields", ModelSettings(provider="ollama", model="q"))
    assert fields.suffix == CTX.suffix and fields.prefix.endswith(CTX.prefix)
    assert "src/util.py" in fields.prefix and not fields.prompt
    llama = completion_request(CTX, "fim_fields", ModelSettings(provider="llamacpp"))
    assert llama.snippets == CTX.snippets and "def helper" not in llama.prefix
    templ = completion_request(
        CTX,
        "fim_template",
        ModelSettings(provider="openai-completions", model="qwen2.5-coder"),
        stop=("\n",),
    )
    assert templ.prompt.endswith("<|fim_middle|>") and templ.stop[0] == "\n"
    assert "<|endoftext|>" in templ.stop
    local = completion_request(CTX, "fim_template", ModelSettings(provider="local"))
    assert local.prompt.endswith(CTX.prefix) and local.suffix == ""


def test_a_guessed_prompt_layout_is_said_once_where_the_settings_leave_it_open() -> None:
    from spark_lsp.prompts.build import template_note
    from spark_lsp.settings import ModelSettings

    empty = template_note(ModelSettings(provider="openai-completions", url="http://h/v1"))
    assert empty is not None and "fast.model is empty" in empty
    none = template_note(ModelSettings(provider="openai-completions", url="http://h/v1",
                                       model="qwen2.5-coder", fim_template="none"))
    assert none is not None and "ignores" in none and "llamacpp" in none
    assert template_note(ModelSettings(provider="openai-completions", url="http://h/v1",
                                       model="qwen2.5-coder")) is None
    assert template_note(ModelSettings(provider="openai", url="http://h/v1")) is None
