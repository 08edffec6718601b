"""Turn a model's answer into clean code: take the code out of markdown fences, drop the prose
around it, and re-indent it to where it goes (in the file's own indentation unit).
"""

from __future__ import annotations

import itertools
import re

_FENCE = re.compile(r"^[ \t]*(```+|~~~+)[ \t]*([\w+#.-]*)[^\n]*$", re.M)
_LANGUAGE_TAGS: dict[str, frozenset[str]] = {
    "python": frozenset({"python", "py", "python3"}),
    "typescript": frozenset({"typescript", "ts"}),
    "tsx": frozenset({"tsx", "typescript", "ts", "jsx"}),
    "javascript": frozenset({"javascript", "js", "jsx", "node"}),
    "go": frozenset({"go", "golang"}),
    "rust": frozenset({"rust", "rs"}),
    "java": frozenset({"java"}),
    "c": frozenset({"c", "h"}),
    "cpp": frozenset({"cpp", "c++", "cc", "hpp"}),
}
_COMMENT_START = ("#", "//", "/*", "*", "--", "<!--", '"""', "'''")
_PROSE_WORD = re.compile(r"^[A-Za-z][A-Za-z'\u2019,;:.!?()-]*$")
_LIST_ITEM = re.compile(r"^(?:[-*+]|\d+[.)])\s+")
_OPENERS = (":", "{", "(", "[", "=>", ",", "\\")


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language tag, code) of each fenced block; an unclosed last fence runs to the end."""
    blocks: list[tuple[str, str]] = []
    matches = list(_FENCE.finditer(text))
    i = 0
    while i < len(matches):
        opening = matches[i]
        marker = opening.group(1)
        closing = next((m for m in matches[i + 1 :]
                        if m.group(1).startswith(marker[:3]) and not m.group(2)), None)
        body_start = opening.end() + 1
        if closing is None:
            blocks.append((opening.group(2).lower(), text[body_start:]))
            break
        blocks.append((opening.group(2).lower(), text[body_start : closing.start()]))
        i = matches.index(closing) + 1
    return blocks


def unclosed_fence(text: str) -> bool:
    """Whether the answer opens a fenced block it never closes: it was cut off."""
    open_marker: str | None = None
    for match in _FENCE.finditer(text.replace("\r\n", "\n")):
        marker = match.group(1)
        if open_marker is None:
            open_marker = marker
        elif marker.startswith(open_marker[:3]) and not match.group(2):
            open_marker = None
    return open_marker is not None


def is_prose(line: str) -> bool:
    """A line of explanation rather than code ("Here is the function:", "This uses a set.")."""
    stripped = line.strip()
    if not stripped or stripped.startswith(_COMMENT_START):
        return False
    stripped = _LIST_ITEM.sub("", stripped).strip("*_` ")
    words = stripped.split()
    if len(words) < 3:
        return len(words) >= 1 and stripped.endswith(":") and words[0][:1].isupper() \
            and all(_PROSE_WORD.match(w) for w in words)
    wordy = sum(1 for w in words if _PROSE_WORD.match(w))
    if any(token in stripped for token in ("=", "{", "}", ";", "->", "::", "()", "[]")):
        return False
    return wordy >= max(3, int(len(words) * 0.75)) and words[0][:1].isupper()


def _strip_prose(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and (not lines[start].strip() or is_prose(lines[start])):
        start += 1
    while end > start and (not lines[end - 1].strip() or is_prose(lines[end - 1])):
        end -= 1
    return lines[start:end]


def extract_code(raw: str, language: str | None = None) -> str:
    """The code in a model answer: the fenced block (the one tagged with the language, else the
    longest), else the answer without the prose lines before and after it."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    blocks = fenced_blocks(text)
    if blocks:
        tags = _LANGUAGE_TAGS.get(language or "", frozenset())
        tagged = [code for tag, code in blocks if tag in tags]
        text = max(tagged or [code for _, code in blocks], key=len)
    else:
        text = "\n".join(_strip_prose(text.split("\n")))
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def _leading(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _levels(ws: str, unit_width: int) -> tuple[int, int]:
    """Indentation levels (and leftover spaces) of a run of leading whitespace."""
    tabs = len(ws) - len(ws.lstrip("\t"))
    spaces = len(ws) - tabs
    return tabs + spaces // unit_width, spaces % unit_width


def _space_unit(lines: list[str]) -> int:
    """The answer's indentation step in spaces: the step after a line that opens a block, else
    the smallest step it uses."""
    widths = [(len(_leading(line).lstrip("\t")), line.rstrip()) for line in lines if line.strip()]
    if not widths:
        return 4
    base = min(w for w, _ in widths)
    after_opener = [b - a for (a, prev), (b, _) in itertools.pairwise(widths)
                    if b > a and prev.endswith((":", "{"))]
    steps = after_opener or [w - base for w, _ in widths if w > base]
    return min(steps) if steps else 4


def reindent(code: str, indent: str, unit: str) -> list[str]:
    """Lines of `code`, dedented, with each level of its own indentation turned into `unit` and
    the whole placed at `indent`. Blank lines stay empty."""
    lines = code.split("\n")
    body = [line for line in lines if line.strip()]
    if not body:
        return []
    first = lines[0]
    rest = [line for line in lines[1:] if line.strip()]
    if (first.strip() and not _leading(first) and rest
            and all(_leading(line) for line in rest)
            and not first.rstrip().endswith(_OPENERS)):
        # The answer's first line lost its indentation (a stripped reply): give it the others'.
        lines[0] = min((_leading(line) for line in rest), key=len) + first
    leading = [_leading(line) for line in lines if line.strip()]
    width = _space_unit(lines)
    base_levels = min(_levels(ws, width) for ws in leading)
    out: list[str] = []
    for line in lines:
        if not line.strip():
            out.append("")
            continue
        levels, extra = _levels(_leading(line), width)
        levels -= base_levels[0]
        extra = max(0, extra - base_levels[1]) if levels == 0 else extra
        out.append(indent + unit * max(levels, 0) + " " * extra + line.lstrip(" \t"))
    return out
