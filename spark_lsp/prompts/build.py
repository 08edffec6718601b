"""Shape a PromptContext into the ModelRequest a backend of a given prompt style sends."""

from __future__ import annotations

import dataclasses

from spark_lsp.context.types import PromptContext
from spark_lsp.models.base import ModelRequest, PromptStyle
from spark_lsp.prompts.chat import completion_messages
from spark_lsp.prompts.fim import comment_header, resolve_template
from spark_lsp.settings import ModelSettings

# The embedded model is not FIM-trained: unknown names there default to plain continuation.
_DEFAULT_TEMPLATE = {"local": "prefix"}


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
            prefix=f"{ctx.comment} Path: {ctx.path}\n{ctx.prefix}",
            suffix=ctx.suffix,
            snippets=ctx.snippets,
        )
    return dataclasses.replace(base, prefix=comment_header(ctx) + ctx.prefix, suffix=ctx.suffix)
