"""Instruction prompts for the code actions, shaped for each backend's prompt style.

Chat backends get a system text and one user message (task, the code, its labelled context);
completion-style backends get the same material rendered as a commented prompt to continue.
"""

from __future__ import annotations

from dataclasses import dataclass

from spark_lsp.context import layout
from spark_lsp.context.types import PromptContext
from spark_lsp.model_request import Message, ModelRequest, PromptStyle
from spark_lsp.settings import ModelSettings

HERE = "<<< the code of the task is here >>>"

ACTION_SYSTEM = (
    "You are an expert programmer working inside a code editor. You are given a task about a "
    "piece of code in a file, and context from the workspace. Follow the file's style, naming "
    "and indentation. Reply with exactly one markdown code block containing only the code the "
    "task asks for: no explanation before or after it."
)

EXPLAIN_SYSTEM = (
    "You are an expert programmer working inside a code editor. You explain code to the people "
    "who maintain it, briefly and precisely, as a comment that goes above the code."
)


@dataclass(frozen=True)
class ActionPrompt:
    """What an action asks: the task, the code it is about, and where that code lives."""

    task: str
    language: str
    path: str
    code: str = ""  # the code of the task (shown in its own block); "" when there is none
    answer: str = ""  # what the reply must consist of
    context: PromptContext | None = None
    explain: bool = False


def _fence(language: str, code: str) -> str:
    return f"```{language}\n{code}\n```"


def _surroundings(prompt: ActionPrompt) -> str:
    """The file around the task's code, with the code itself replaced by a marker."""
    ctx = prompt.context
    if ctx is None:
        return ""
    suffix = ctx.suffix
    marker = ""
    if prompt.code and suffix.startswith(prompt.code):
        suffix = suffix[len(prompt.code):]
        marker = f"{ctx.comment} {HERE}"
    text = (ctx.prefix + marker + suffix).strip("\n")
    return text


def _snippets(ctx: PromptContext | None) -> str:
    if ctx is None or not ctx.snippets:
        return ""
    blocks = [layout.snippet_block(ctx.comment, s) for s in ctx.snippets]
    return "\n\n".join(blocks)


def user_message(prompt: ActionPrompt) -> str:
    parts = [f"File: {prompt.path} ({prompt.language})"]
    snippets = _snippets(prompt.context)
    if snippets:
        parts.append("Context from the workspace:\n" + _fence(prompt.language, snippets))
    around = _surroundings(prompt)
    if around:
        parts.append("The file around the code:\n" + _fence(prompt.language, around))
    parts.append("Task: " + prompt.task)
    if prompt.code:
        parts.append(_fence(prompt.language, prompt.code))
    if prompt.answer:
        parts.append(prompt.answer)
    return "\n\n".join(parts)


def render_completion_prompt(prompt: ActionPrompt, comment: str) -> str:
    """The prompt for a completion-style model: the task as comments, then code to continue."""
    lines = [layout.file_label(comment, prompt.path)]
    around = _surroundings(prompt)
    if around:
        lines.append(around)
        lines.append("")
    lines.extend(f"{comment} {line}" if line else comment for line in prompt.task.split("\n"))
    if prompt.code:
        lines.append(f"{comment} Original:")
        lines.append(prompt.code)
        lines.append(f"{comment} Result:")
    return "\n".join(lines) + "\n"


def action_request(
    prompt: ActionPrompt, style: PromptStyle, model: ModelSettings, max_tokens: int
) -> ModelRequest:
    """The request for an instruction: chat messages, or a rendered prompt / prefix."""
    if style == "chat":
        system = EXPLAIN_SYSTEM if prompt.explain else ACTION_SYSTEM
        return ModelRequest(system=system, messages=(Message("user", user_message(prompt)),),
                            max_tokens=max_tokens, temperature=model.temperature)
    comment = prompt.context.comment if prompt.context is not None else "#"
    text = render_completion_prompt(prompt, comment)
    return ModelRequest(prompt=text, prefix=text, max_tokens=max_tokens,
                        temperature=model.temperature, stop=("\n\n\n\n",))


# -- the tasks ---------------------------------------------------------------------------------

def _listing(title: str, items: tuple[str, ...] | list[str]) -> str:
    return f"\n{title}\n" + "\n".join(f"- {item}" for item in items) if items else ""


def generate_body_prompt(name: str, language: str, path: str, function_text: str,
                         docstring: str, call_sites: tuple[str, ...],
                         context: PromptContext | None) -> ActionPrompt:
    described = f"\nWhat it must do, from its documentation:\n{docstring}" if docstring else ""
    task = (
        f"Implement the function `{name}`. Its body is a stub; write the real body. Keep its "
        f"signature, decorators and documentation exactly as they are.{described}"
        + _listing("It is called like this:", call_sites)
    )
    return ActionPrompt(task=task, language=language, path=path, code=function_text,
                        answer="Reply with the complete function in one code block.",
                        context=context)


def create_function_prompt(name: str, language: str, path: str, call_sites: tuple[str, ...],
                           context: PromptContext | None) -> ActionPrompt:
    task = (
        f"The code calls a function `{name}` that does not exist yet. Write it: infer its "
        f"parameters, their types and its return value from how it is called, and give it a "
        f"short documentation comment." + _listing("The calls:", call_sites)
    )
    return ActionPrompt(task=task, language=language, path=path,
                        answer=f"Reply with only the definition of `{name}` in one code block.",
                        context=context)


def fill_prompt(language: str, path: str, code: str, holes: list[str], label: str,
                context: PromptContext | None) -> ActionPrompt:
    task = (
        f"This {language} code ({label}) is a skeleton with holes. Fill every hole with working "
        "code: TODO/FIXME comments become the code they ask for, stub statements (`...`, `pass`, "
        "`todo!()`, `throw new Error(\"not implemented\")`, ...) and empty bodies become real "
        "code, and `${...}` placeholders become what they name. Keep all other code as it is."
        + _listing("The holes:", holes)
    )
    return ActionPrompt(task=task, language=language, path=path, code=code,
                        answer="Reply with the complete code, every hole filled, in one code "
                               "block.", context=context)


_STRONGER_TASKS = {
    "improve": "Improve this code: make it clearer and simpler, and faster where that matters, "
               "without changing what it does. Keep its public names and signatures.",
    "fix": "Find the bugs in this code and fix them. Change only what the fixes need.",
    "explain": "Explain what this code does and why, for someone about to change it: its "
               "purpose, its inputs and outputs, and anything subtle.",
}


def stronger_prompt(task: str, language: str, path: str, code: str, label: str, comment: str,
                    context: PromptContext | None) -> ActionPrompt:
    if task == "explain":
        answer = (f"Reply with only the comment: a few short lines, each starting with "
                  f"`{comment}`, no code.")
    else:
        answer = "Reply with the complete rewritten code in one code block."
    return ActionPrompt(task=f"{_STRONGER_TASKS[task]} (The code is {label}.)",
                        language=language, path=path, code=code, answer=answer,
                        context=context, explain=task == "explain")
