"""The prompt layout is defined once (`context.layout`): every prompt labels files with it, and
the builder's reserve covers what each FIM template adds around the context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from spark_lsp.context import layout
from spark_lsp.context.types import PromptContext
from spark_lsp.model_request import Snippet
from spark_lsp.prompts.actions import ActionPrompt, render_completion_prompt, user_message
from spark_lsp.prompts.build import completion_request
from spark_lsp.prompts.chat import completion_messages
from spark_lsp.prompts.fim import TEMPLATES
from spark_lsp.settings import ModelSettings
from tests.unit import test_prompts as prompts_case

# test_prompts' context with a second snippet
CTX = replace(prompts_case.CTX, snippets=(
    *prompts_case.CTX.snippets, Snippet("src/models.py", "class Point:\n    x: int\n    y: int")))
ACTION = ActionPrompt(task="Fix the bugs.", language="python", path="src/app.py",
                      code="return a - b", context=CTX)

# Every prompt that labels a file with a comment line (the file-separator templates put their
# token there instead).
LABELLED: dict[str, Callable[[PromptContext], str]] = {
    **{f"fim {name}": template.render for name, template in TEMPLATES.items()
       if name not in ("qwen", "starcoder2", "codegemma")},
    "chat": lambda ctx: completion_messages(ctx)[1][0].content,
    "llama.cpp infill": lambda ctx: completion_request(
        ctx, "fim_fields", ModelSettings(provider="llamacpp")).prefix,
    "ollama without a template": lambda ctx: completion_request(
        ctx, "fim_fields", ModelSettings(provider="ollama", fim_template="none")).prefix,
    "action, chat": lambda ctx: user_message(ACTION),
    "action, completion": lambda ctx: render_completion_prompt(ACTION, ctx.comment),
}


@pytest.mark.parametrize("name", LABELLED)
def test_every_prompt_labels_files_with_the_layout(name: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """With the layout's label changed, no prompt writes the old one: none has its own copy."""
    before = LABELLED[name](CTX)
    assert "# Path: " in before
    monkeypatch.setattr(layout, "file_label", lambda comment, path: f"{comment} FILE<{path}>")
    after = LABELLED[name](CTX)
    assert "Path: " not in after
    assert after == before.replace("# Path: src/util.py", "# FILE<src/util.py>") \
        .replace("# Path: src/models.py", "# FILE<src/models.py>") \
        .replace("# Path: src/app.py", "# FILE<src/app.py>")


@pytest.mark.parametrize("name", TEMPLATES)
def test_the_template_reserve_covers_what_each_template_adds(name: str) -> None:
    """A FIM template adds to the header, prefix and suffix only its sentinels (and spaces),
    no more of them than `TEMPLATE_RESERVE`."""
    template = TEMPLATES[name]
    rest = template.render(CTX).replace(template.header(CTX), "", 1).replace(CTX.prefix, "", 1)
    if template.uses_suffix:
        rest = rest.replace(CTX.suffix, "", 1)
    sentinels = 0
    for token in sorted(template.stop, key=len, reverse=True):
        sentinels += rest.count(token)
        rest = rest.replace(token, "")
    assert rest.strip() == ""
    assert sentinels <= layout.TEMPLATE_RESERVE


def test_the_comment_header_is_the_layout() -> None:
    assert layout.header("#", CTX.snippets, CTX.path) == (
        "# Path: src/util.py\ndef helper(x: int) -> int: ...\n\n"
        "# Path: src/models.py\nclass Point:\n    x: int\n    y: int\n\n"
        "# Path: src/app.py\n")
    assert layout.elision_marker("python", "#") == "..."
    assert layout.elision_marker("rust", "//") == "// ..."
