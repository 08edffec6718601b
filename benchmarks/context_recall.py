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
    .venv/bin/python benchmarks/context_recall.py --budgets 256,512,1024 --humaneval 0 --check
    .venv/bin/python benchmarks/context_recall.py --tree PATH [--tree PATH…] --tasks 300
    .venv/bin/python benchmarks/context_recall.py --jsonl tasks.jsonl
        # one task a line: {"task_id", "root", "path", "text", "cursor", "answer"}
    .venv/bin/python benchmarks/context_recall.py --generate PATH --out tasks.jsonl
    .venv/bin/python benchmarks/context_recall.py --calibrate   # the token estimate vs SmolLM2
    .venv/bin/python benchmarks/context_recall.py --exact  # budget with SmolLM2's tokenizer
    .venv/bin/python benchmarks/context_recall.py --budgets 512 --misses 512 --seed 1

Tuned and untuned trees. The default run takes the installed DEFAULT_TREES (`--tasks` each) and
UNTUNED_TREES (`--untuned-tasks` each, fixed at 200). The first, with tune_context.py's training
trees, are TUNED_TREES: the ranking's values were chosen on them, or by looking at their figures.
The untuned trees are never used to choose a value, only to check one: each group is reported
pooled, then side by side with the gap (untuned minus tuned) at each budget. A `--tree` counts
as tuned if its name is in TUNED_TREES, else as untuned. Six untuned trees come with the local
and test extras, rich, markdown-it-py and urllib3 do not; all at the versions the recorded
figures are for:

    .venv/bin/pip install starlette==1.10.0 uvicorn==0.55.0 pydantic-settings==2.16.3
    .venv/bin/pip install diskcache==5.6.3 Pygments==2.21.0 PyYAML==6.0.4 rich==15.0.0
    .venv/bin/pip install markdown-it-py==4.3.0 urllib3==2.8.0

A tree that is not installed is skipped with a line saying how to install it.

Results kept. Each run appends its pooled figures per group and budget, with the date, commit
and command, to benchmarks/results/context_recall.md (`--no-record`: not). `--check` compares
the untuned figures with the last entry of the same settings (budgets, seed, tokenizer, exact)
and untuned trees (names, versions, task counts) and exits with 1, recording nothing, if far or
all-identifier recall dropped by more than 0.01 at any budget: a ranking change that does so is
blocked (2: no such entry to compare with). Run it before a ranking change without `--check` and
after it with.

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
import shlex
import statistics
import subprocess
import sys
import time
import tokenize
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.fim_tasks import Task, humaneval_tasks, read_jsonl, source_files, tasks_from_tree
from benchmarks.recall_results import (
    GROUPS,
    RESULTS,
    TOLERANCE,
    Entry,
    Pooled,
    append,
    compare,
    last_matching,
    parse_entries,
)
from spark_lsp.context.builder import build_context
from spark_lsp.context.engine import ContextEngine
from spark_lsp.context.layout import label_line
from spark_lsp.context.ranking import DEFAULT, Ranking
from spark_lsp.context.tokens import estimate_tokens
from spark_lsp.documents.store import DocumentStore
from spark_lsp.settings import ContextSettings

BUDGETS = (256, 512, 1024, 2048, 4096)
NEAR_ABOVE, NEAR_BELOW = 30, 5
SITE = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" \
    / "site-packages"
DEFAULT_TREES = ("httpx", "pygls", "hypothesis", "attr", "pathspec", "click")
# Every tree the ranking was tuned on: DEFAULT_TREES by looking at their figures over many
# sessions, these by benchmarks/tune_context.py's search (its TRAIN_TREES). A tree of one of
# these names counts as tuned, any other as untuned.
TRAINING_TREES = ("anyio", "httpcore", "cattrs", "jinja2", "_pytest", "packaging",
                  "sqlite_utils", "dateutil")
TUNED_TREES = DEFAULT_TREES + TRAINING_TREES
# The trees the ranking was NEVER tuned on, by import name → the distribution that brings it,
# pinned (the check compares like with like). The rule: never used to choose a value (not in
# tune_context.py, not looked at to pick one), only to check one that was chosen elsewhere.
# Varied on purpose: web framework, ASGI server, typed settings, a few big classic files,
# hundreds of data-heavy lexers, old-style YAML, a large typed library, a port from JavaScript,
# HTTP plumbing.
UNTUNED_TREES = {
    "starlette": "starlette==1.10.0", "uvicorn": "uvicorn==0.55.0",
    "pydantic_settings": "pydantic-settings==2.16.3", "diskcache": "diskcache==5.6.3",
    "pygments": "Pygments==2.21.0", "yaml": "PyYAML==6.0.4", "rich": "rich==15.0.0",
    "markdown_it": "markdown-it-py==4.3.0", "urllib3": "urllib3==2.8.0",
}
UNTUNED_TASKS = 200  # per untuned tree (fewer where a small tree has fewer statements)
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
             workspaces: dict[str, Workspace] | None = None, exact: bool = False,
             ranking: Ranking = DEFAULT) -> int:
    """Run the tasks at each budget into `results`; `workspaces` (root → Workspace) keeps the
    indexes for another call (benchmarks/tune_context.py). `exact`: the builder counts with
    `count` (the model's tokenizer), else with the calibrated estimate. `ranking`: the
    scores the builder ranks by."""
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
                                engine=ws.engine.view(snapshot, backend if exact else None),
                                ranking=ranking)
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


@dataclass
class Group:
    """The tasks of one tree or JSONL file, and whether the ranking was tuned on it."""

    title: str
    kind: str  # "tuned", "untuned" or "other" (JSONL tasks)
    tasks: list[Task]
    version: str = ""

    @property
    def name(self) -> str:
        return os.path.basename(self.title.rstrip("/")) or self.title


def tree_kind(root: str) -> str:
    return "tuned" if os.path.basename(root.rstrip("/")) in TUNED_TREES else "untuned"


def tree_version(root: str) -> str:
    """The installed version of the distribution a site-packages tree comes from, else ""."""
    from importlib.metadata import packages_distributions, version

    path = Path(root).resolve()
    if path.parent != SITE.resolve():
        return ""
    names = packages_distributions().get(path.name, [])
    return version(names[0]) if names else ""


def wanted_trees(args: argparse.Namespace) -> list[tuple[str, int]]:
    """(root, tasks) of the trees to run: `--tree`s, else the default and untuned trees."""
    if args.tree or args.jsonl:
        return [(tree, args.tasks) for tree in args.tree or []]
    trees = []
    if args.only != "untuned":
        trees += [(str(SITE / name), args.tasks) for name in DEFAULT_TREES]
    if args.only != "tuned":
        trees += [(str(SITE / name), args.untuned_tasks) for name in UNTUNED_TREES]
    return trees


def task_groups(args: argparse.Namespace) -> list[Group]:
    """JSONL files and trees, each with its tasks; a missing tree is skipped with a line."""
    groups = [Group(path, "other", read_jsonl(path)) for path in args.jsonl or []]
    for tree, count in wanted_trees(args):
        if not os.path.isdir(tree):
            name = os.path.basename(tree.rstrip("/"))
            how = f"not installed: .venv/bin/pip install {UNTUNED_TREES[name]}" \
                if name in UNTUNED_TREES else "not a directory"
            print(f"skipped ({how}): {tree}")
            continue
        groups.append(Group(tree, tree_kind(tree), tasks_from_tree(tree, count, args.seed),
                            tree_version(tree)))
    return groups


def merge(into: BudgetResult, part: BudgetResult) -> None:
    """Pool `part`'s figures into `into`."""
    into.tokens += part.tokens
    into.estimated += part.estimated
    into.build_ms += part.build_ms
    into.over += part.over
    for name in ("all", "far", "raw", "naive_all", "naive_far", "naive_budget_far", "all_v",
                 "far_v", "naive_all_v", "naive_far_v", "far_defined", "far_bound"):
        a, b = getattr(into, name), getattr(part, name)
        a.found += b.found
        a.total += b.total


Pools = dict[str, dict[int, BudgetResult]]  # kind of tree → budget → pooled result


def run_groups(groups: list[Group], budgets: list[int], count: Callable[[str], int],
               counter: str, args: argparse.Namespace) -> Pools:
    """Evaluate and report each group; the results pooled by kind."""
    pools: Pools = defaultdict(lambda: defaultdict(BudgetResult))
    for group in groups:
        results: dict[int, BudgetResult] = defaultdict(BudgetResult)
        done = evaluate(group.tasks, budgets, count, results, exact=args.exact)
        report(f"{group.name} ({group.kind})", results, done, counter, args.raw)
        for budget in budgets:
            merge(pools[group.kind][budget], results[budget])
    return pools


def pooled(result: BudgetResult) -> Pooled:
    return Pooled(len(result.tokens), result.far.share, result.all.share,
                  statistics.median(result.tokens) if result.tokens else float("nan"),
                  result.over)


def report_pools(pools: Pools, budgets: list[int], counter: str, raw: bool) -> None:
    """Each kind pooled, then the tuned and untuned figures side by side with their gap."""
    for kind in ("tuned", "untuned", "other"):
        if kind in pools:
            report(f"{kind} trees, pooled", pools[kind], len(pools[kind][budgets[0]].tokens),
                   counter, raw)
    if "tuned" not in pools or "untuned" not in pools:
        return
    print("\n## generalisation: untuned vs tuned trees (gap = untuned - tuned)")
    print("| budget | far: tuned / untuned / gap | all: tuned / untuned / gap "
          "| median tokens: tuned / untuned | over budget: tuned / untuned |")
    print("|---|---|---|---|---|")
    for budget in budgets:
        t, u = pooled(pools["tuned"][budget]), pooled(pools["untuned"][budget])
        print(f"| {budget} | {t.far:.3f} / {u.far:.3f} / {u.far - t.far:+.3f} "
              f"| {t.all:.3f} / {u.all:.3f} / {u.all - t.all:+.3f} "
              f"| {t.median_tokens:.0f} / {u.median_tokens:.0f} | {t.over} / {u.over} |")


def commit() -> str:
    """HEAD's short hash, "+dirty" when tracked files (the results aside) differ from it."""
    root = str(Path(__file__).resolve().parents[1])
    try:
        head = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        changed = subprocess.run(["git", "-C", root, "status", "--porcelain",
                                  "--untracked-files=no", "--", ".",
                                  ":(exclude)benchmarks/results"],
                                 capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"
    return head + ("+dirty" if changed else "")


def make_entry(groups: list[Group], pools: Pools, budgets: list[int], seed: int,
               counter: str) -> Entry:
    """This run as a results entry: the key lines and the pooled figures per group."""
    command = shlex.join(["context_recall.py", *sys.argv[1:]])
    entry = Entry(f"{time.strftime('%Y-%m-%d %H:%M')} · {commit()} · `{command}`")
    entry.keys["settings"] = f"budgets {','.join(map(str, budgets))} · seed {seed} · " \
        f"tokens: {counter}"
    for kind in GROUPS:
        trees = [g for g in groups if g.kind == kind]
        if trees:
            entry.keys[kind] = " · ".join(" ".join(filter(None, (g.name, g.version)))
                                          + f" ({len(g.tasks)})" for g in trees)
            entry.figures.update({(kind, b): pooled(pools[kind][b]) for b in budgets})
    return entry


def check(entry: Entry) -> int:
    """Compare the untuned figures with the last entry of the same settings and untuned trees:
    0 if none dropped by more than the tolerance, 1 if one did, 2 if there is nothing to
    compare with."""
    if "untuned" not in entry.keys:
        print("\n--check: this run has no untuned tree")
        return 2
    entries = parse_entries(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else []
    previous = last_matching(entries, entry.keys["settings"], entry.keys["untuned"])
    if previous is None:
        print(f"\n--check: no entry in {RESULTS} with\n  settings: {entry.keys['settings']}\n"
              f"  untuned: {entry.keys['untuned']}\nrecord one by running without --check on "
              "the code before the change (or install the pinned trees of UNTUNED_TREES)")
        return 2
    lines, failed = compare(previous.group("untuned"), entry.group("untuned"))
    print(f"\n## check: untuned trees against {previous.heading}")
    print("\n".join(lines))
    if failed:
        print(f"untuned recall dropped by more than {TOLERANCE} (or a budget has no earlier "
              "figure): check failed, not recorded")
        return 1
    print("check passed")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", action="append", help="a source tree (default: installed "
                        + ", ".join(DEFAULT_TREES) + " as tuned and "
                        + ", ".join(UNTUNED_TREES) + " as untuned)")
    parser.add_argument("--tasks", type=int, default=200, help="tasks per tree (--tree or a "
                        "default tree)")
    parser.add_argument("--untuned-tasks", type=int, default=UNTUNED_TASKS,
                        help="tasks per untuned tree of the default run")
    parser.add_argument("--only", choices=("tuned", "untuned"),
                        help="of the default trees, run only these")
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
    parser.add_argument("--check", action="store_true",
                        help="compare the untuned figures with the last recorded run of the "
                        f"same settings; exit 1 if far or all recall dropped by > {TOLERANCE}")
    parser.add_argument("--no-record", action="store_true",
                        help=f"do not append this run's figures to {RESULTS.name}")
    args = parser.parse_args()
    global DUMPED
    DUMPED = [] if args.dump else None
    if args.generate:
        with open(args.out, "w", encoding="utf-8") as handle:
            for task in tasks_from_tree(args.generate, args.tasks, args.seed):
                handle.write(task.to_json() + "\n")
        return 0
    count, counter = real_counter()
    if args.exact and counter == "estimate":
        parser.error("--exact needs llama-cpp-python and the bundled model")
    counter += "; budgeted with " + ("it" if args.exact else "the estimate")
    if args.calibrate:
        calibrate(count)
        return 0
    budgets = [int(b) for b in args.budgets.split(",")]
    groups = task_groups(args)
    pools = run_groups(groups, budgets, count, counter, args)
    report_pools(pools, budgets, counter, args.raw)
    report_misses(args.misses)
    if args.humaneval and not args.jsonl:
        results: dict[int, BudgetResult] = defaultdict(BudgetResult)
        done = evaluate(humaneval_tasks(limit=args.humaneval), budgets, count, results,
                        exact=args.exact)
        if done:
            report("HumanEval single-line infilling", results, done, counter, args.raw)
    if args.dump and DUMPED is not None:
        Path(args.dump).write_text("".join(line + "\n" for line in DUMPED), encoding="utf-8")
    entry = make_entry(groups, pools, budgets, args.seed, counter)
    status = check(entry) if args.check else 0
    if status == 0 and not args.no_record and entry.figures:
        append(entry)
        print(f"recorded in {RESULTS}")
    return status


def report_misses(budget: int) -> None:
    """`--misses`: the far identifiers missed at this budget, and their kinds."""
    for at, task_id, answer, missed in MISSES:
        if at == budget:
            print(f"missed {missed!r:30} {task_id:40} {answer}")
    if budget in MISS_KINDS:
        kinds = MISS_KINDS[budget]
        print(f"\n## far identifiers missed at {budget}: {sum(kinds.values())}")
        for kind, n in kinds.most_common():
            print(f"| {kind} | {n} | {n / sum(kinds.values()):.0%} |")


if __name__ == "__main__":
    raise SystemExit(main())
