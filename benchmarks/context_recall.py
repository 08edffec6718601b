"""Identifier recall of the context engine's prompts, beside a naive window of the same size.

For FIM tasks (text with a hole, cursor, expected answer) it runs the real context builder (a
`ContextEngine` over the task's source tree, as the server has it) and reports per budget:

- prompt tokens: the rendered prompt (path labels included), counted with the SmolLM2 tokenizer
  when llama-cpp-python and the bundled model are installed, else the estimate;
- identifier recall: the share of the answer's identifiers that appear in the prompt;
- far recall: the same for the answer's identifiers that do NOT occur within 30 lines above /
  5 lines below the cursor but do occur earlier in the file or in another workspace file;
- the same two figures for the naive window of the same token count (3/4 prefix, 1/4 suffix).

An answer's identifiers are its names outside strings and comments, less keywords and Python
builtins (which no context has to supply); recall is pooled over all tasks. "all" counts only
identifiers that occur somewhere in the visible file or the workspace (a new local name cannot be
in any prompt); `--raw` adds the figure over every identifier. The "no vocab." columns also leave
out the model's own vocabulary: methods of builtin types (`append`, `get`, `encode`) and
attributes of standard-library modules the file imports (`logging.getLogger`, `t.cast`).
"far, defined" is far recall over the far identifiers that have a definition (def, class,
assignment, attribute, import) in the visible file or another workspace file, with their count:
the part a context engine can find by looking names up. "far bound" is the far recall the
prompts would reach if every such defined identifier were in them too: what is left above it
is the model's vocabulary, library attributes and names the answer binds itself.

    .venv/bin/python benchmarks/context_recall.py                      # default trees + HumanEval
    .venv/bin/python benchmarks/context_recall.py --tree PATH [--tree PATH…] --tasks 300
    .venv/bin/python benchmarks/context_recall.py --jsonl tasks.jsonl
        # one task a line: {"task_id", "root", "path", "text", "cursor", "answer"}
    .venv/bin/python benchmarks/context_recall.py --generate PATH --out tasks.jsonl
    .venv/bin/python benchmarks/context_recall.py --calibrate   # the token estimate vs SmolLM2
    .venv/bin/python benchmarks/context_recall.py --exact  # budget with SmolLM2's tokenizer
    .venv/bin/python benchmarks/context_recall.py --budgets 512 --misses 512 --seed 1

The builder budgets with the calibrated estimate (as for HTTP backends) unless `--exact` gives
it the embedded model's tokenizer (as the server does with the embedded backend); either way
the reported tokens are SmolLM2's count of the rendered prompt.
"""

from __future__ import annotations

import argparse
import builtins
import hashlib
import io
import keyword
import os
import re
import statistics
import sys
import time
import tokenize
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.fim_tasks import Task, humaneval_tasks, read_jsonl, source_files, tasks_from_tree
from spark_lsp.context.builder import build_context, label_line
from spark_lsp.context.engine import ContextEngine
from spark_lsp.context.tokens import estimate_tokens
from spark_lsp.documents.store import DocumentStore
from spark_lsp.settings import ContextSettings

BUDGETS = (256, 512, 1024, 2048, 4096)
NEAR_ABOVE, NEAR_BELOW = 30, 5
SITE = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" \
    / "site-packages"
DEFAULT_TREES = ("httpx", "pygls", "hypothesis", "attr", "pathspec", "click")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_STRING = re.compile(r"\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'")
IGNORED = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins)) \
    | {"self", "cls"}
# Methods of the builtin types: the model's own vocabulary, like the builtins.
TYPE_METHODS = frozenset().union(*(dir(t) for t in (str, bytes, bytearray, list, dict, set,
                                                      frozenset, tuple, int, float, object)))
_STDLIB_ATTRIBUTE = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)")


def vocabulary(answer: str, text: str) -> set[str]:
    """Names of the answer a model knows without any context: methods of builtin types, and
    attributes of standard-library modules the file imports (`logging.getLogger`)."""
    stdlib = set()
    for module, alias in re.findall(
            r"^\s*import\s+([A-Za-z_][A-Za-z0-9_]*)(?:\s+as\s+([A-Za-z_][A-Za-z0-9_]*))?",
            text, re.M):
        if module in sys.stdlib_module_names:
            stdlib.add(alias or module)
    names = {attr for module, attr in _STDLIB_ATTRIBUTE.findall(answer) if module in stdlib}
    return names | (identifiers(answer) & TYPE_METHODS)


def identifiers(text: str) -> set[str]:
    return set(_IDENT.findall(text))


def answer_identifiers(answer: str) -> set[str]:
    """Names in code (not strings/comments), less keywords and builtins."""
    names: set[str] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(answer + "\n").readline):
            if token.type == tokenize.NAME:
                names.add(token.string)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        names = identifiers(_STRING.sub(" ", answer.split("#")[0]))
    return names - IGNORED


def real_counter() -> tuple[Callable[[str], int], str]:
    """The SmolLM2 tokenizer (vocab only) when installed, else the estimate."""
    try:
        import llama_cpp

        from spark_lsp.models.local import bundled_model_path

        model = llama_cpp.Llama(model_path=bundled_model_path(), vocab_only=True, verbose=False)
    except Exception:  # not installed: say so in the report
        return estimate_tokens, "estimate"

    def count(text: str) -> int:
        return len(model.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    return count, "SmolLM2 tokenizer"


def render(ctx: object) -> str:
    """The prompt as the default FIM header renders it (snippets, label, prefix, suffix)."""
    from spark_lsp.prompts.fim import comment_header

    return comment_header(ctx) + ctx.prefix + ctx.suffix  # type: ignore[attr-defined]


def naive_window(lines: list[str], row: int, index: int, tokens: int,
                 count: Callable[[str], int]) -> str:
    """3/4 of `tokens` for the lines before the cursor, 1/4 after (the old builder)."""
    head, tail = lines[row][:index], lines[row][index:]
    parts, used = [head], count(head)
    r = row - 1
    while r >= 0 and used + (c := count(lines[r])) <= tokens * 3 // 4:
        parts.append(lines[r])
        used += c
        r -= 1
    after, used = [tail], used + count(tail)
    r = row + 1
    while r < len(lines) and used + (c := count(lines[r])) <= tokens:
        after.append(lines[r])
        used += c
        r += 1
    return "".join(reversed(parts)) + "".join(after)


@dataclass
class Tally:
    found: int = 0
    total: int = 0

    def add(self, wanted: set[str], present: set[str]) -> None:
        self.total += len(wanted)
        self.found += len(wanted & present)

    @property
    def share(self) -> float:
        return self.found / self.total if self.total else float("nan")


@dataclass
class BudgetResult:
    tokens: list[int] = field(default_factory=list)
    estimated: list[int] = field(default_factory=list)
    over: int = 0
    all: Tally = field(default_factory=Tally)
    far: Tally = field(default_factory=Tally)
    raw: Tally = field(default_factory=Tally)
    all_v: Tally = field(default_factory=Tally)  # less the vocabulary (see `vocabulary`)
    far_v: Tally = field(default_factory=Tally)
    naive_all_v: Tally = field(default_factory=Tally)
    naive_far_v: Tally = field(default_factory=Tally)
    naive_all: Tally = field(default_factory=Tally)
    naive_far: Tally = field(default_factory=Tally)
    naive_budget_far: Tally = field(default_factory=Tally)
    far_defined: Tally = field(default_factory=Tally)  # far ids with a definition (see below)
    far_bound: Tally = field(default_factory=Tally)  # far recall if all of those were found
    build_ms: list[float] = field(default_factory=list)


class Workspace:
    """One source tree: a context engine with its index, and the names of each file."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.engine = ContextEngine(DocumentStore())
        self.names: dict[str, set[str]] = {}
        if root:
            self.engine.set_roots([root])
            assert self.engine.index is not None
            self.engine.build_index_now()  # and the outlines of the packages it imports
            for path in source_files(root, "python", limit=100_000):
                try:
                    self.names[os.path.abspath(path)] = identifiers(
                        Path(path).read_text(encoding="utf-8", errors="replace"))
                except OSError:
                    continue

    def other_names(self, path: str) -> set[str]:
        out: set[str] = set()
        for other, names in self.names.items():
            if other != path:
                out |= names
        return out


def is_defined(ws: Workspace, snapshot: object, path: str, name: str) -> bool:
    """Whether a name has a definition (def, class, assignment, attribute, import binding) in
    the visible file or in another workspace file — as opposed to merely occurring there (a
    method of a library type, a local the answer introduces)."""
    outline = ws.engine.outline(snapshot)  # type: ignore[arg-type]
    if outline is not None and (outline.lookup(name) or any(
            b.local == name for imp in outline.imports() for b in imp.bindings)):
        return True
    index = ws.engine.index
    return index is not None and any(o.path != path for o, _ in index.definitions(name, 50))


DUMPED: list[str] | None = None  # `--dump`: "task<TAB>budget<TAB>sha256 of the prompt" lines
MISSES: list[tuple[int, str, str, str]] = []  # (budget, task, answer, missed far names)
MISS_KINDS: dict[int, Counter[str]] = defaultdict(Counter)  # budget → kind of missed far id


def miss_kind(name: str, answer: str, vocab: set[str], defined: bool) -> str:
    """What a missed far identifier is: the model's own vocabulary, a name the answer binds
    itself, a keyword argument, else an attribute or a name, defined in the workspace or not."""
    word = re.escape(name)
    if name in vocab:
        return "builtin-type method or stdlib attribute"
    if re.search(rf"\bfor\s+[\w, ]*\b{word}\b[\w, ]*\s+in\b|\bas\s+{word}\b"
                 rf"|^\s*[\w., ]*\b{word}\s*(?::[^=]*)?=[^=]", answer):
        return "bound by the answer"
    if re.search(rf"[(,]\s*{word}\s*=[^=]", answer):
        return "keyword argument"
    kind = "attribute" if re.search(rf"\.\s*{word}\b", answer) else "name"
    return f"{kind}, {'defined in the workspace' if defined else 'not defined there'}"


@dataclass(frozen=True)
class Tokenizer:
    """A backend that brings its tokenizer (as the embedded model does): the engine budgets
    with it and checks the finished prompt."""

    count_tokens: Callable[[str], int]


def evaluate(tasks: Iterable[Task], budgets: Iterable[int], count: Callable[[str], int],
             results: dict[int, BudgetResult],
             workspaces: dict[str, Workspace] | None = None, exact: bool = False) -> int:
    """Run the tasks at each budget into `results`; `workspaces` (root → Workspace) keeps the
    indexes for another call (benchmarks/tune_context.py). `exact`: the builder counts with
    `count` (the model's tokenizer), else with the calibrated estimate."""
    backend = Tokenizer(count)
    workspaces = {} if workspaces is None else workspaces
    other_cache: dict[str, set[str]] = {}
    done = 0
    for task in tasks:
        ws = workspaces.get(task.root)
        if ws is None:
            ws = workspaces[task.root] = Workspace(task.root)
        path = os.path.join(task.root, task.path) if task.root else f"/tasks/{done}.py"
        path = os.path.abspath(path)
        store = ws.engine.documents
        assert store is not None
        uri = Path(path).as_uri()
        store.open(uri, "python", 1, task.text)
        snapshot = store.snapshot(uri)
        assert snapshot is not None
        before = task.text[: task.cursor]
        row = before.count("\n")
        index = len(before) - (before.rfind("\n") + 1)
        lines = list(snapshot.lines)
        wanted = answer_identifiers(task.answer)
        near = identifiers("".join(lines[max(0, row - NEAR_ABOVE) : row]) + lines[row]
                           + "".join(lines[row + 1 : row + 1 + NEAR_BELOW]))
        earlier = identifiers("".join(lines[: max(0, row - NEAR_ABOVE)]))
        if path not in other_cache:
            other_cache[path] = ws.other_names(path) if task.root else set()
        elsewhere = other_cache[path]
        visible = identifiers(task.text)
        knowable = wanted & (visible | elsewhere)
        far = (wanted - near) & (earlier | elsewhere)
        vocab = vocabulary(task.answer, task.text)
        far_defined = {name for name in far if is_defined(ws, snapshot, path, name)}
        for budget in budgets:
            settings = ContextSettings(max_prompt_tokens=budget)
            started = time.perf_counter()
            ctx = build_context(snapshot, row, index, settings,
                                engine=ws.engine.view(snapshot, backend if exact else None))
            elapsed = (time.perf_counter() - started) * 1000
            prompt = render(ctx)
            if DUMPED is not None:
                digest = hashlib.sha256(prompt.encode()).hexdigest()
                DUMPED.append(f"{task.task_id}\t{budget}\t{digest}")
            tokens = count(prompt) + 8  # the FIM sentinels the reserve stands for
            result = results[budget]
            result.build_ms.append(elapsed)
            result.tokens.append(tokens)
            result.estimated.append(ctx.prompt_tokens)
            result.over += tokens > budget
            present = identifiers(prompt)
            result.all.add(knowable, present)
            result.raw.add(wanted, present)
            result.far.add(far, present)
            result.all_v.add(knowable - vocab, present)
            result.far_v.add(far - vocab, present)
            result.far_defined.add(far_defined, present)
            result.far_bound.add(far, present | far_defined)
            for name in far - present:
                MISS_KINDS[budget][miss_kind(name, task.answer, vocab, name in far_defined)] += 1
            if far - present:
                MISSES.append((budget, task.task_id, task.answer, " ".join(
                    n + ("*" if n in far_defined else "") for n in sorted(far - present))))
            naive = identifiers(label_line(ctx.comment, ctx.path)
                                + naive_window(lines, row, index, tokens, count))
            result.naive_all.add(knowable, naive)
            result.naive_far.add(far, naive)
            result.naive_all_v.add(knowable - vocab, naive)
            result.naive_far_v.add(far - vocab, naive)
            at_budget = identifiers(naive_window(lines, row, index, budget, count))
            result.naive_budget_far.add(far, at_budget)
        store.close(uri)
        ws.engine.document_closed(uri)
        done += 1
    return done


def report(title: str, results: dict[int, BudgetResult], tasks: int, counter: str,
           raw: bool) -> None:
    print(f"\n## {title}: {tasks} tasks (tokens: {counter})")
    print("| budget | median tokens | over budget | recall all | far recall | naive all "
          "| naive far | naive far @budget | far ids | all, no vocab. | far, no vocab. "
          "| naive, no vocab. (all / far) | far, defined (n) | far bound | build p50 ms |"
          + (" raw recall |" if raw else ""))
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|" + ("---|" if raw else ""))
    for budget, r in results.items():
        print(f"| {budget} | {statistics.median(r.tokens):.0f} | {r.over} | {r.all.share:.3f} "
              f"| {r.far.share:.3f} | {r.naive_all.share:.3f} | {r.naive_far.share:.3f} "
              f"| {r.naive_budget_far.share:.3f} | {r.far.total} | {r.all_v.share:.3f} "
              f"| {r.far_v.share:.3f} ({r.far_v.total}) "
              f"| {r.naive_all_v.share:.3f} / {r.naive_far_v.share:.3f} "
              f"| {r.far_defined.share:.3f} ({r.far_defined.total}) | {r.far_bound.share:.3f} "
              f"| {statistics.median(r.build_ms):.2f} |"
              + (f" {r.raw.share:.3f} |" if raw else ""))


def calibrate(count: Callable[[str], int]) -> None:
    import random

    rng = random.Random(0)
    for name in ("httpx", "pygls", "hypothesis"):
        files = source_files(str(SITE / name))
        real = est = lines_est = 0
        for path in rng.sample(files, min(40, len(files))):
            text = Path(path).read_text(encoding="utf-8", errors="replace").splitlines(True)
            start = rng.randrange(max(1, len(text) - 40))
            block = "".join(text[start : start + 40])
            real += count(block)
            est += estimate_tokens(block)
            lines_est += sum(estimate_tokens(line) for line in text[start : start + 40])
        print(f"{name}: real {real}, estimate {est} ({est / real - 1:+.1%}), "
              f"line by line {lines_est} ({lines_est / real - 1:+.1%})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", action="append", help="a source tree (default: installed "
                        + ", ".join(DEFAULT_TREES) + ")")
    parser.add_argument("--tasks", type=int, default=200, help="tasks per tree")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budgets", default=",".join(map(str, BUDGETS)))
    parser.add_argument("--jsonl", action="append", help="tasks from a JSONL file")
    parser.add_argument("--humaneval", type=int, default=300,
                        help="HumanEval single-line tasks (0: none)")
    parser.add_argument("--generate", help="write tasks from this tree to --out and stop")
    parser.add_argument("--out", default="tasks.jsonl")
    parser.add_argument("--raw", action="store_true", help="also recall over all identifiers")
    parser.add_argument("--calibrate", action="store_true")
    parser.add_argument("--exact", action="store_true",
                        help="budget with the SmolLM2 tokenizer, as the server does with the "
                        "embedded model (default: the calibrated estimate, as for HTTP backends)")
    parser.add_argument("--misses", type=int, default=0, metavar="BUDGET",
                        help="list the far identifiers missed at this budget (*: defined)")
    parser.add_argument("--dump", metavar="FILE", help="write a digest of every prompt to FILE "
                        "(compare two runs with diff: a refactoring must not change a prompt)")
    args = parser.parse_args()
    global DUMPED
    DUMPED = [] if args.dump else None
    if args.generate:
        with open(args.out, "w", encoding="utf-8") as handle:
            for task in tasks_from_tree(args.generate, args.tasks, args.seed):
                handle.write(task.to_json() + "\n")
        return
    count, counter = real_counter()
    if args.exact and counter == "estimate":
        parser.error("--exact needs llama-cpp-python and the bundled model")
    counter += "; budgeted with " + ("it" if args.exact else "the estimate")
    if args.calibrate:
        calibrate(count)
        return
    budgets = [int(b) for b in args.budgets.split(",")]
    groups: list[tuple[str, list[Task]]] = []
    for path in args.jsonl or []:
        groups.append((path, read_jsonl(path)))
    trees = args.tree if args.tree else ([] if args.jsonl else
                                         [str(SITE / name) for name in DEFAULT_TREES])
    for tree in trees:
        if os.path.isdir(tree):
            groups.append((tree, tasks_from_tree(tree, args.tasks, args.seed)))
    overall: dict[int, BudgetResult] = defaultdict(BudgetResult)
    total = 0
    for title, tasks in groups:
        results: dict[int, BudgetResult] = defaultdict(BudgetResult)
        done = evaluate(tasks, budgets, count, results, exact=args.exact)
        report(os.path.basename(title.rstrip("/")) or title, results, done, counter, args.raw)
        for budget in budgets:
            merged, part = overall[budget], results[budget]
            merged.tokens += part.tokens
            merged.estimated += part.estimated
            merged.build_ms += part.build_ms
            merged.over += part.over
            for name in ("all", "far", "raw", "naive_all", "naive_far", "naive_budget_far",
                         "all_v", "far_v", "naive_all_v", "naive_far_v", "far_defined",
                         "far_bound"):
                a, b = getattr(merged, name), getattr(part, name)
                a.found += b.found
                a.total += b.total
        total += done
    if len(groups) > 1:
        report("all source trees", overall, total, counter, args.raw)
    for budget, task_id, answer, missed in MISSES:
        if budget == args.misses:
            print(f"missed {missed!r:30} {task_id:40} {answer}")
    if args.misses in MISS_KINDS:
        kinds = MISS_KINDS[args.misses]
        print(f"\n## far identifiers missed at {args.misses}: {sum(kinds.values())}")
        for kind, n in kinds.most_common():
            print(f"| {kind} | {n} | {n / sum(kinds.values()):.0%} |")
    if args.humaneval and not args.jsonl:
        results = defaultdict(BudgetResult)
        done = evaluate(humaneval_tasks(limit=args.humaneval), budgets, count, results,
                        exact=args.exact)
        if done:
            report("HumanEval single-line infilling", results, done, counter, args.raw)
    if args.dump and DUMPED is not None:
        Path(args.dump).write_text("".join(line + "\n" for line in DUMPED), encoding="utf-8")


if __name__ == "__main__":
    main()
