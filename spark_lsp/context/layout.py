"""How a prompt lays out its context: the line that labels a file, the labelled blocks of other
files, the line standing for rows left out, and the room a template's own tokens take.

Defined once, here: the builder measures the prompt with these functions and `prompts/` renders
with them, so the budget counts what is sent. Templates with a file-separator token
(`prompts.fim`) put that token where the label line would be; `SEPARATOR_TOKENS` is its room.
"""

from __future__ import annotations

from collections.abc import Sequence

from spark_lsp.model_request import Snippet

# The sentinels a FIM template puts around the header, prefix and suffix: at most three in each
# template of `prompts.fim`, one token each in its model's vocabulary, with room to spare.
TEMPLATE_RESERVE = 8
SEPARATOR_TOKENS = 2  # a file-separator token (or the blank line) per snippet


def file_label(comment: str, path: str) -> str:
    """The line naming a file, without its line end: `# Path: src/app.py`."""
    return f"{comment} Path: {path}"


def label_line(comment: str, path: str) -> str:
    """The label line as it stands above a file's text (`# Path: src/app.py` and a newline)."""
    return file_label(comment, path) + "\n"


def snippet_block(comment: str, snippet: Snippet) -> str:
    """Another file's snippet under its label line, with no trailing blank space."""
    return label_line(comment, snippet.path) + snippet.text.rstrip()


def header(comment: str, snippets: Sequence[Snippet], path: str) -> str:
    """What stands before the current file's prefix: each snippet as a labelled block and a
    blank line, then the current file's label line."""
    return "".join(snippet_block(comment, s) + "\n\n" for s in snippets) \
        + label_line(comment, path)


def elision_marker(language: str | None, comment: str) -> str:
    """What a line standing for left-out rows says (at the indentation of the first of them):
    `...` in Python, a comment (`// ...`) elsewhere."""
    return "..." if language == "python" else f"{comment} ..."
