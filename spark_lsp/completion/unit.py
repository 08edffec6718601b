"""When has streamed text completed the unit the cursor is in? Decided line by line.

Two questions, asked by the `stop_at_unit_end` stream wrapper:
- `complete(text)` at each line end: is the unit finished with this line? (a statement whose
  brackets balance and whose syntax tree has no error; a block whose closing bracket came)
- `continues(text, head)` when the next line's first character arrives: does that line still
  belong to the unit? (in Python a block ends at the first line indented no deeper than it)
"""

from __future__ import annotations

import re

from spark_lsp.completion.brackets import BracketCounter, lexis_for
from spark_lsp.completion.scope import PYTHON_COMPOUND, indent_of, indent_width
from spark_lsp.completion.syntax_check import SyntaxCheck, Verdict
from spark_lsp.completion.types import CompletionJob

# A line at the statement's own indentation that still belongs to it.
_PY_CONTINUATIONS = ("elif", "else", "except", "finally", "case")
_BRACE_ENDINGS = (";", "}")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _first_word(code: str) -> str:
    stripped = code.strip()
    return stripped.split(None, 1)[0].rstrip(":") if stripped else ""


class UnitRule:
    """Line-by-line completeness of a statement or a block (see the module docstring)."""

    def __init__(self, job: CompletionJob, check: SyntaxCheck | None = None) -> None:
        self.job = job
        self.scope = job.scope
        self.comment = (job.context.comment or "").strip() or None
        self._counter = BracketCounter(lexis_for(job.snapshot.language))
        self._check = check
        self._fed = 0
        # Where the unit starts: on the cursor's own line when it has code, else at the first
        # code line of the text (found by `_advance`).
        self._started = bool(job.line_prefix.strip()) and job.mode == "statement"
        self._start_offset = len(job.line_prefix) - len(job.line_prefix.lstrip())
        self._unit_indent = indent_width(indent_of(job.line_prefix))
        self._needs_dedent = False
        self._decorators = False
        self._saw_body = False
        if self._started:
            self._counter.feed(job.line_prefix.lstrip())

    # -- bookkeeping -----------------------------------------------------------------------

    def _is_code(self, line: str) -> bool:
        stripped = line.strip()
        return bool(stripped) and not (self.comment and stripped.startswith(self.comment))

    def _advance(self, text: str) -> None:
        """Feed the text added since the last call (from the unit's start on)."""
        base, new = self._fed, text[self._fed :]
        self._fed = len(text)
        if self.job.mode == "block":
            self._counter.feed(new)
            self._saw_body = self._saw_body or any(self._is_code(x) for x in new.split("\n"))
            return
        if self._started:
            self._counter.feed(new)
            return
        offset = 0
        for line in new.splitlines(keepends=True):
            if self._is_code(line):
                lead = len(line) - len(line.lstrip(" \t"))
                self._started = True
                self._start_offset = len(self.job.line_prefix) + base + offset + lead
                self._unit_indent = self._line_indent(base + offset, line)
                self._decorators = line.lstrip().startswith("@")
                self._counter.feed(new[offset + lead :])
                return
            offset += len(line)

    def _line_indent(self, line_start: int, line: str) -> int:
        """Absolute indentation width of a text line starting at `line_start` in `text`."""
        ws = indent_of(line)
        if line_start == 0:  # the cursor's own line: its prefix is part of the indentation
            ws = self.job.line_prefix + ws
        return indent_width(ws)

    # -- the two questions -----------------------------------------------------------------

    def complete(self, text: str) -> bool:
        """`text` (everything so far) ends with a newline: is the unit finished?"""
        self._advance(text)
        if self.job.mode == "block":
            return not self.scope.indent_based and self._counter.min_depth < 0
        if not self._started or self._counter.depth > 0 or self._counter.in_string:
            return False
        if self._counter.depth < 0:
            return True  # closed an enclosing bracket: nothing after this can belong to it
        last = text.rstrip("\n").rsplit("\n", 1)[-1].rstrip()
        if self._decorators and not last.lstrip().startswith("@"):
            self._decorators = False  # the decorated definition itself has begun
        if self.scope.indent_based:
            if last.endswith(("\\", ",")) or last.lstrip().startswith("@"):
                return False
            if last.endswith(":") and _first_word(last) in PYTHON_COMPOUND:
                self._needs_dedent = True
                return False
        verdict = self._verdict(text)
        if verdict is None:  # no usable tree: judge by the text
            if not self.scope.indent_based:
                return last.endswith(_BRACE_ENDINGS)
            first = (self.job.line_prefix + text)[self._start_offset :]
            if _first_word(first) in PYTHON_COMPOUND or first.lstrip().startswith("@"):
                self._needs_dedent = True
                return False
            return True
        if not verdict.complete:
            return False
        if self.scope.indent_based and verdict.ends_with_block:
            self._needs_dedent = True  # more lines of its body may come
            return False
        return True

    def continues(self, text: str, head: str) -> bool | None:
        """The next line starts with `head` (its indentation and at least one more character):
        is it still part of the unit? None: cannot tell yet, ask again with more of the line."""
        if not self.scope.indent_based or self._counter.depth > 0 or self._counter.in_string:
            return True
        width = indent_width(indent_of(head))
        if self.job.mode == "block":
            return not self._saw_body or width > indent_width(self.scope.indent)
        if not self._started or width > self._unit_indent:
            return True
        if width < self._unit_indent:
            return False
        if self._decorators:  # more decorators, then the definition they decorate
            return True
        if not self._needs_dedent:
            return False
        match = _WORD.match(head.strip())
        if match is None:
            return False
        word, ended = match.group(), match.end() < len(head.strip()) or head.endswith("\n")
        if ended:
            return word in _PY_CONTINUATIONS
        return None if any(k.startswith(word) for k in _PY_CONTINUATIONS) else False

    def _verdict(self, text: str) -> Verdict | None:
        if self._check is None or not self._check.usable:
            return None
        return self._check.verdict(text, self._start_offset)
