"""FIM tasks for the context benchmarks: generated from a source tree, or read from JSONL / the
HumanEval infilling sets.

A task is a file's text with a hole, the cursor at the hole and the expected answer. Generated
tasks mask the rest of one single-line statement inside a function body (cursor after its
indentation).
"""

from __future__ import annotations

import gzip
import json
import os
import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from tree_sitter import Node, Parser

from spark_lsp.syntax.languages import grammar, language_for
from spark_lsp.workspace.ignore import SKIPPED_DIRS

HUMANEVAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "humaneval-infilling"
_FUNCTIONS = {"function_definition", "function_declaration", "method_definition",
              "method_declaration", "function_item", "constructor_declaration"}
_SKIP_STATEMENTS = {"comment", "pass_statement", "expression_statement_string", "ERROR"}


@dataclass(frozen=True)
class Task:
    """`text` has the hole at `cursor` (a str index); `path` is relative to `root` ("" when the
    task has no workspace)."""

    task_id: str
    root: str
    path: str
    text: str
    cursor: int
    answer: str

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def read_jsonl(path: str) -> list[Task]:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:  # type: ignore[operator]
        return [Task(**json.loads(line)) for line in handle if line.strip()]


def source_files(root: str, language: str = "python", limit: int = 2000) -> list[str]:
    found = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and d != "tests")
        for name in sorted(files):
            if language_for(None, name) == language:
                found.append(os.path.join(directory, name))
                if len(found) >= limit:
                    return found
    return found


def _statement_lines(node: Node, lines: list[str], out: list[int], in_function: bool) -> None:
    for child in node.named_children:
        inside = in_function or child.type in _FUNCTIONS
        if in_function and child.start_point.row == child.end_point.row \
                and child.type.endswith("statement") and child.type not in _SKIP_STATEMENTS:
            text = lines[child.start_point.row]
            body = text.strip()
            if child.start_point.column == len(text) - len(text.lstrip()) and len(body) >= 8 \
                    and not body.startswith(("#", "//", '"', "'")):
                out.append(child.start_point.row)
        if child.named_child_count:
            _statement_lines(child, lines, out, inside)


def tasks_from_tree(root: str, count: int, seed: int = 0, language: str = "python",
                    per_file: int = 3) -> list[Task]:
    """Up to `count` tasks from the files of `root`, at most `per_file` from one file."""
    rng = random.Random(seed)
    files = source_files(root, language)
    rng.shuffle(files)
    parser = Parser(grammar(language))
    tasks: list[Task] = []
    for path in files:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if len(text) > 400_000:
            continue
        lines = text.splitlines(keepends=True)
        tree = parser.parse(text.encode("utf-8"))
        rows: list[int] = []
        _statement_lines(tree.root_node, lines, rows, False)
        rng.shuffle(rows)
        for row in sorted(rows[:per_file]):
            line = lines[row]
            indent = line[: len(line) - len(line.lstrip())]
            start = sum(len(x) for x in lines[:row])
            answer = line.strip()
            masked = text[: start + len(indent)] + line[len(line.rstrip("\r\n")):] \
                + text[start + len(line):]
            tasks.append(Task(f"{os.path.relpath(path, root)}:{row + 1}", os.path.abspath(root),
                              os.path.relpath(path, root), masked, start + len(indent), answer))
        if len(tasks) >= count:
            break
    return tasks[:count]


def humaneval_tasks(name: str = "HumanEval-SingleLineInfilling", limit: int | None = None
                    ) -> Iterator[Task]:
    """The HumanEval infilling set (no workspace: one file per task). The hole's indentation
    stays in the text, so the cursor sits after it as in the generated tasks."""
    path = HUMANEVAL / f"{name}.jsonl.gz"
    if not path.exists():
        return
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if limit is not None and number >= limit:
                return
            row = json.loads(line)
            solution = row["canonical_solution"]
            indent = solution[: len(solution) - len(solution.lstrip(" \t"))]
            answer = solution.strip()
            if not answer or "\n" in answer:
                continue
            text = row["prompt"] + indent + "\n" + row["suffix"]
            yield Task(row["task_id"], "", "", text, len(row["prompt"]) + len(indent), answer)
