"""FIM templates for the model families people run locally; each owns its sentinels and stop tokens.

`auto` picks a template from the model name through one explicit, ordered table (tested), never
by a substring check scattered in code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from spark_lsp.context import layout
from spark_lsp.context.types import PromptContext


def comment_header(ctx: PromptContext) -> str:
    """Snippets as comment-labelled blocks, then the current file's label (as the context
    builder measured it: `context.layout`)."""
    return layout.header(ctx.comment, ctx.snippets, ctx.path)


def _file_sep_snippets(sep: str) -> Callable[[PromptContext], str]:
    def render(ctx: PromptContext) -> str:
        parts = [f"{sep}{s.path}\n{s.text.rstrip()}\n" for s in ctx.snippets]
        parts.append(f"{sep}{ctx.path}\n")
        return "".join(parts)

    return render


@dataclass(frozen=True)
class FimTemplate:
    """How one model family wants prefix, suffix and context laid out."""

    name: str
    render_prompt: Callable[[PromptContext, str], str]
    stop: tuple[str, ...]
    uses_suffix: bool = True

    def render(self, ctx: PromptContext) -> str:
        return self.render_prompt(ctx, self.header(ctx))

    def header(self, ctx: PromptContext) -> str:
        return _HEADERS.get(self.name, comment_header)(ctx)


_HEADERS: dict[str, Callable[[PromptContext], str]] = {
    "qwen": _file_sep_snippets("<|file_sep|>"),
    "starcoder2": _file_sep_snippets("<file_sep>"),
    "codegemma": _file_sep_snippets("<|file_separator|>"),
}

TEMPLATES: dict[str, FimTemplate] = {
    "qwen": FimTemplate(
        "qwen",
        lambda c, h: f"{h}<|fim_prefix|>{c.prefix}<|fim_suffix|>{c.suffix}<|fim_middle|>",
        (
            "<|endoftext|>",
            "<|fim_prefix|>",
            "<|fim_suffix|>",
            "<|fim_middle|>",
            "<|file_sep|>",
            "<|repo_name|>",
            "<|im_start|>",
            "<|im_end|>",
        ),
    ),
    "deepseek": FimTemplate(
        "deepseek",
        lambda c, h: f"<｜fim▁begin｜>{h}{c.prefix}<｜fim▁hole｜>{c.suffix}<｜fim▁end｜>",
        ("<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>", "<|end▁of▁sentence|>", "<|EOT|>"),
    ),
    "starcoder2": FimTemplate(
        "starcoder2",
        lambda c, h: f"{h}<fim_prefix>{c.prefix}<fim_suffix>{c.suffix}<fim_middle>",
        ("<|endoftext|>", "<file_sep>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>"),
    ),
    "codellama": FimTemplate(
        "codellama",
        lambda c, h: f"<PRE> {h}{c.prefix} <SUF>{c.suffix} <MID>",
        ("<EOT>", "<PRE>", "<SUF>", "<MID>", "</s>"),
    ),
    "codestral": FimTemplate(
        "codestral",
        lambda c, h: f"[SUFFIX]{c.suffix}[PREFIX]{h}{c.prefix}",
        ("[PREFIX]", "[SUFFIX]", "[MIDDLE]", "</s>"),
    ),
    "codegemma": FimTemplate(
        "codegemma",
        lambda c, h: f"{h}<|fim_prefix|>{c.prefix}<|fim_suffix|>{c.suffix}<|fim_middle|>",
        (
            "<|file_separator|>",
            "<|fim_prefix|>",
            "<|fim_suffix|>",
            "<|fim_middle|>",
            "<end_of_turn>",
            "<eos>",
        ),
    ),
    # Models without FIM training (the embedded SmolLM2): continue the prefix, no suffix.
    "prefix": FimTemplate(
        "prefix",
        lambda c, h: f"{h}{c.prefix}",
        ("<|endoftext|>", "<|im_end|>", "<|im_start|>"),
        uses_suffix=False,
    ),
}

# Ordered: the first pattern that matches the model name wins. Keep specific names first.
AUTO_TABLE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"codegemma", re.I), "codegemma"),
    (re.compile(r"codestral|mistral", re.I), "codestral"),
    (re.compile(r"deepseek", re.I), "deepseek"),
    (re.compile(r"starcoder", re.I), "starcoder2"),
    (re.compile(r"code-?llama", re.I), "codellama"),
    (re.compile(r"qwen", re.I), "qwen"),
    (re.compile(r"smollm|tinyllama|phi|gpt2", re.I), "prefix"),
)


def resolve_template(setting: str, model_name: str, default: str | None) -> FimTemplate | None:
    """The template for a `fim_template` setting; `auto` looks the model name up in AUTO_TABLE.

    Returns None when `auto` finds nothing and there is no default (the backend then sends
    prefix and suffix as API fields and the server formats them).
    """
    if setting != "auto":
        if setting in ("none", ""):
            return None
        if setting not in TEMPLATES:
            raise ValueError(
                f"unknown fim_template {setting!r}; known: auto, none, {', '.join(TEMPLATES)}"
            )
        return TEMPLATES[setting]
    for pattern, name in AUTO_TABLE:
        if pattern.search(model_name):
            return TEMPLATES[name]
    return TEMPLATES[default] if default else None
