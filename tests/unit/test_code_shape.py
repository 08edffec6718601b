"""The shape the context stage keeps: no function in `spark_lsp/context/` over 60 lines, so each
step of choosing a prompt can be read (and changed) on one screen."""

from __future__ import annotations

import ast
from pathlib import Path

import spark_lsp.context

MAX_FUNCTION_LINES = 60
CONTEXT = Path(spark_lsp.context.__file__).parent


def long_functions(source: str, limit: int) -> list[tuple[str, int, int]]:
    """(qualified name, first row, lines) of every function or method in `source` longer than
    `limit` lines, from its `def` to its last row (decorators not counted; a nested function's
    lines count towards the one holding it too)."""
    found: list[tuple[str, int, int]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    lines = (child.end_lineno or child.lineno) - child.lineno + 1
                    if lines > limit:
                        found.append((name, child.lineno, lines))
                visit(child, name + ".")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return found


def test_the_measure_counts_a_function_from_def_to_its_last_row() -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(60))
    source = ("class Box:\n    @staticmethod\n    def long():\n" + body.replace("    ", "        ")
              + "\n\ndef short():\n" + body[: -len("    x59 = 59\n")])
    assert long_functions(source, 60) == [("Box.long", 3, 61)]  # its `def` + 60 rows
    assert long_functions(source, 61) == []


def test_no_function_of_the_context_stage_is_over_60_lines() -> None:
    over = [f"{path.relative_to(CONTEXT.parent.parent)}:{row} {name} ({lines} lines)"
            for path in sorted(CONTEXT.rglob("*.py"))
            for name, row, lines in long_functions(path.read_text(encoding="utf-8"),
                                                   MAX_FUNCTION_LINES)]
    assert not over, "functions over 60 lines:\n" + "\n".join(over)
