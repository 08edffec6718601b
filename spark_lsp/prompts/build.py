"""Shape a PromptContext into the ModelRequest a backend of a given prompt style sends."""

from __future__ import annotations

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
    limit = max_tokens if max_tokens is not None else model.max_tokens
    common = {"max_tokens": limit, "temperature": model.temperature}
    if style == "chat":
        system, messages = completion_messages(ctx)
        return ModelRequest(system=system, messages=messages, stop=stop, **common)  # type: ignore[arg-type]
    template = resolve_template(model.fim_template, model.model or model.model_path or "smollm",
                                _DEFAULT_TEMPLATE.get(model.provider))
    if style == "fim_template" and template is not None:
        return ModelRequest(
            prompt=template.render(ctx),
            prefix=ctx.prefix,
            suffix=ctx.suffix if template.uses_suffix else "",
            stop=tuple(dict.fromkeys(stop + template.stop)),
            **common,  # type: ignore[arg-type]
        )
    if model.provider == "llamacpp":
        # llama.cpp takes the snippets through `input_extra` itself.
        return ModelRequest(prefix=f"{ctx.comment} Path: {ctx.path}\n{ctx.prefix}",
                            suffix=ctx.suffix, snippets=ctx.snippets, stop=stop, **common)  # type: ignore[arg-type]
    return ModelRequest(prefix=comment_header(ctx) + ctx.prefix, suffix=ctx.suffix,
                        stop=stop, **common)  # type: ignore[arg-type]
