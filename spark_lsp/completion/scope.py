"""Single line or more: which syntactic unit a suggestion at the cursor should complete.

- mid-line cursor (code before it on the line, or after it): finish the line;
- end of a line that opens a block (`def f():`, `if (x) {`): the block's body;
- empty line that is the first line of an empty block: the block's body;
- any other empty line in a block: one statement;
- inside a string or comment (from the syntax tree): the line.
`completion.multiline` "never" keeps everything to one line; "always" lets the end of a non-empty
line complete its whole statement.
"""

from __future__ import annotations

from tree_sitter import Tree

from spark_lsp.completion.syntax_check import window_tree
from spark_lsp.completion.types import Scope
from spark_lsp.documents.store import DocumentSnapshot

INDENT_BASED = frozenset({"python"})
PYTHON_COMPOUND = frozenset({
    "if", "elif", "else", "for", "while", "try", "except", "finally", "with", "def", "class",
    "async", "match", "case",
})
_BRACE_LANGUAGES = frozenset({"javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp"})
_LOOK = 50  # lines looked at above/below the cursor for neighbours and the indentation step


def indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def indent_width(ws: str, tab: int = 4) -> int:
    return len(ws.expandtabs(tab))


def opens_block(code: str, language: str | None) -> bool:
    """Whether a line (its text before the cursor) ends by opening a block."""
    stripped = code.strip()
    if not stripped:
        return False
    if language in INDENT_BASED:
        first = stripped.split(None, 1)[0].rstrip(":")
        return stripped.endswith(":") and first in PYTHON_COMPOUND
    if language in _BRACE_LANGUAGES:
        return stripped.endswith("{")
    return False


def detect_indent_unit(snapshot: DocumentSnapshot, line: int) -> str:
    """The document's indentation step near `line`: a tab, or the smallest step in spaces seen
    in the lines above it (below too when there are none above)."""
    rows = range(line, max(-1, line - _LOOK), -1)
    if line < 8:
        rows = range(0, min(len(snapshot.lines), _LOOK))
    step = seen = 0
    later: int | None = None  # width of the next non-blank line (scanning upwards)
    for row in rows:
        text = snapshot.lines[row]
        if not text.strip():
            continue
        ws = indent_of(text)
        if ws.startswith("\t"):
            return "\t"
        width = len(ws)
        seen += 1
        if later is not None and width != later:
            diff = abs(later - width)
            step = diff if step == 0 else min(step, diff)
            if step <= 2 or seen >= 12:
                break
        later = width
    if step:
        return " " * step
    return "\t" if snapshot.language == "go" else "    "


def in_string_or_comment(tree: Tree | None, line: int, column_bytes: int) -> bool:
    """Whether the cursor sits inside a string or a comment (per the syntax tree); the end of a
    line comment counts as inside it."""
    if tree is None:
        return False
    point = (line, column_bytes)
    before = (line, max(0, column_bytes - 1))
    node = tree.root_node.descendant_for_point_range(before, point)
    while node is not None and node.parent is not None:
        kind = node.type
        if "comment" in kind:
            return node.start_point < point <= node.end_point
        if ("string" in kind and not kind.endswith(("_start", "_end"))
                and node.start_point < point < node.end_point):
            return True
        node = node.parent
    return False


def _in_string_or_comment_now(snapshot: DocumentSnapshot, line: int, column_bytes: int) -> bool:
    """`in_string_or_comment` on the text as it is now, also when the tree is stale on the
    cursor's row (then from a parse of the window around it)."""
    if snapshot.stale_row != line:
        return in_string_or_comment(snapshot.tree, line, column_bytes)
    window = window_tree(snapshot, line, column_bytes)
    if window is None:
        return False
    tree, first = window
    return in_string_or_comment(tree, line - first, column_bytes)


def _neighbour(snapshot: DocumentSnapshot, line: int, step: int) -> str | None:
    row = line + step
    for _ in range(_LOOK):
        if not 0 <= row < len(snapshot.lines):
            return None
        text = snapshot.line_text(row)
        if text.strip():
            return text
        row += step
    return None


def _first_line_of_empty_block(snapshot: DocumentSnapshot, line: int) -> str | None:
    """The opener line when the cursor's (blank) line is the first line of an empty block."""
    above = _neighbour(snapshot, line, -1)
    if above is None or not opens_block(above, snapshot.language):
        return None
    below = _neighbour(snapshot, line, 1)
    if below is None or indent_width(indent_of(below)) <= indent_width(indent_of(above)):
        return above
    return None


def analyse(
    snapshot: DocumentSnapshot, line: int, index: int, multiline: str = "auto"
) -> Scope:
    """The unit to complete at (line, python index into the line)."""
    text = snapshot.line_text(line)
    prefix, suffix = text[:index], text[index:]
    language = snapshot.language
    unit = detect_indent_unit(snapshot, line)
    indent_based = language in INDENT_BASED
    own_indent = indent_of(text)

    def scope(mode: str, indent: str = own_indent, opens: bool = False, at_end: bool = False
              ) -> Scope:
        return Scope(mode=mode, indent=indent, indent_unit=unit,  # type: ignore[arg-type]
                     opens_at_cursor=opens, indent_based=indent_based, at_line_end=at_end)

    if multiline == "never" or suffix.strip():
        return scope("line")
    if _in_string_or_comment_now(snapshot, line, len(prefix.encode("utf-8"))):
        return scope("line")
    if prefix.strip():
        if opens_block(prefix, language):
            return scope("block", opens=True)
        return scope("statement") if multiline == "always" else scope("line", at_end=True)
    opener = _first_line_of_empty_block(snapshot, line)
    if opener is not None:
        return scope("block", indent=indent_of(opener))
    return scope("statement", indent=prefix)
