"""Shape a PromptContext into the ModelRequest a backend of a given prompt style sends."""

from __future__ import annotations

import dataclasses

from spark_lsp.context import layout
from spark_lsp.context.types import PromptContext
from spark_lsp.model_request import ModelRequest, PromptStyle
from spark_lsp.prompts.chat import completion_messages
from spark_lsp.prompts.fim import comment_header, resolve_template
from spark_lsp.settings import ModelSettings

# The embedded model is not FIM-trained: unknown names there default to plain continuation.
_DEFAULT_TEMPLATE = {"local": "prefix"}


def template_note(model: ModelSettings) -> str | None:
    """What a user should know about how completion prompts will be laid out for `model`,
    when the settings leave it to a guess; None when they are plain."""
    if model.provider not in ("openai-completions", "ollama", "llamacpp", "mistral"):
        return None
    if model.fim_template == "auto" and not (model.model or model.model_path) \
            and model.provider == "openai-completions":
        return ("fast.model is empty: completions use the prefix-only prompt (no text after the"
                " cursor, as for SmolLM2); set fast.model to the server's model, or"
                " fast.fim_template, to use its FIM template")
    if model.fim_template == "none" and model.provider == "openai-completions":
        return ("fim_template 'none': the text after the cursor goes in the API's `suffix`"
                " field, which llama.cpp's llama-server ignores and llama-cpp-python's server"
                " wraps in FIM tokens a model without them does not have (use provider"
                " 'llamacpp' for llama-server's /infill with a FIM model)")
    return None


def completion_request(
    ctx: PromptContext,
    style: PromptStyle,
    model: ModelSettings,
    stop: tuple[str, ...] = (),
    max_tokens: int | None = None,
) -> ModelRequest:
    """The request for an inline completion at the context's cursor."""
    base = ModelRequest(
        max_tokens=max_tokens if max_tokens is not None else model.max_tokens,
        temperature=model.temperature,
        stop=stop,
        cache_key=ctx.path,
    )
    if style == "chat":
        system, messages = completion_messages(ctx)
        return dataclasses.replace(base, system=system, messages=messages)
    template = resolve_template(
        model.fim_template,
        model.model or model.model_path or "smollm",
        _DEFAULT_TEMPLATE.get(model.provider),
    )
    if style == "fim_template" and template is not None:
        return dataclasses.replace(
            base,
            prompt=template.render(ctx),
            prefix=ctx.prefix,
            suffix=ctx.suffix if template.uses_suffix else "",
            stop=tuple(dict.fromkeys(stop + template.stop)),
        )
    if model.provider == "llamacpp":
        # llama.cpp takes the snippets through `input_extra` itself.
        return dataclasses.replace(
            base,
            prefix=layout.label_line(ctx.comment, ctx.path) + ctx.prefix,
            suffix=ctx.suffix,
            snippets=ctx.snippets,
        )
    return dataclasses.replace(base, prefix=comment_header(ctx) + ctx.prefix, suffix=ctx.suffix)
