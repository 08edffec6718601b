"""Tune the context engine's scores and weights by coordinate search on training trees, and check
the result on the trees `context_recall.py` reports on (held out: never used to choose).

The constants are module-level (`local.USE_BONUS`, `weights.NEAR`, …). For each in turn (`--params`)
it tries a few values — x0.5, x0.75, x1.33, x2 of the current one; shares ±0.05, ±0.1 — and keeps
the best if it raises the objective by more than `--epsilon`. The objective is pooled far recall +
pooled identifier recall ("recall all") at one budget (`--budget`, default 512) over the tasks of
the TRAINING trees (installed anyio, httpcore, cattrs, jinja2, _pytest, packaging, sqlite_utils,
dateutil; `--tree` to choose others). A value that puts more prompts over the budget than the
current one does is rejected.
The held-out trees (`context_recall.DEFAULT_TREES`) are evaluated once before and once after.

A constant imported by name into another module (`from spark_lsp.context.local import
USE_BONUS`) is set in every `spark_lsp.context` module that holds it, and restored at the end.
Nothing is written to the source: the script prints each accepted change and a table to copy by
hand. Trees are split between `--workers` processes, each keeping its indexes across evaluations.
Ctrl-C stops the search and still reports what was accepted so far.

    .venv/bin/python benchmarks/tune_context.py                         # one sweep, all constants
    .venv/bin/python benchmarks/tune_context.py --params local.USE_BONUS,weights.NEAR --sweeps 2
    .venv/bin/python benchmarks/tune_context.py --tree PATH --tree PATH --tasks 100 --budget 1024
    .venv/bin/python benchmarks/tune_context.py --list                  # the constants, where held
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import math
import multiprocessing
import os
import pkgutil
import signal
import statistics
import sys
import time
import traceback
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from types import ModuleType
from typing import Protocol

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.context_recall import (
    DEFAULT_TREES,
    MISSES,
    SITE,
    BudgetResult,
    Workspace,
    evaluate,
    real_counter,
)
from benchmarks.fim_tasks import Task, tasks_from_tree

PARAMS = (
    "plan.PREFIX_SHARE", "plan.SUFFIX_SHARE", "plan.TYPED", "plan.BASE_CLASS", "plan.EXPECTED_ROW",
    "local.HEADER", "local.PREFIX", "local.PREFIX_DECAY", "local.SUFFIX", "local.SUFFIX_DECAY",
    "local.OUTSIDE_DECAY", "local.IMPORT", "local.DEFINITION", "local.USE_BONUS",
    "local.MEMBER", "local.SIBLING", "local.SIMILAR",
    "related.CROSS", "related.BY_NAME", "related.MEMBER_OF",
    "weights.BASE", "weights.FREQUENCY", "weights.IMPORTED", "weights.MEMBER", "weights.MODULE",
    "weights.NEAR", "weights.COOCCURRING", "weights.EXPECTED", "weights.CAP",
    "names.NAME", "names.ALIAS_NEAR", "names.POPULAR", "names.CLASS_NAME",
    "names.INHERITED_NAME", "names.TYPED_NAME", "names.MODULE_NAME", "names.KIN",
    "names.USED_HERE", "names.UNASSIGNED_NAME", "names.IMPORTED_NAME",
    "packing.LIST_SHARE",
)
ADDITIVE = frozenset({"plan.PREFIX_SHARE", "plan.SUFFIX_SHARE"})  # shares of the budget
FACTORS = (0.5, 0.75, 1.33, 2.0)
STEPS = (-0.1, -0.05, 0.05, 0.1)
TRAIN_TREES = ("anyio", "httpcore", "cattrs", "jinja2", "_pytest", "packaging", "sqlite_utils",
               "dateutil")
PACKAGE = "spark_lsp.context"

Values = dict[str, float]


# -- the constants ---------------------------------------------------------------------------


def context_modules() -> list[ModuleType]:
    """`spark_lsp.context` and every module under it (imported)."""
    package = importlib.import_module(PACKAGE)
    modules = [package]
    for info in pkgutil.walk_packages(package.__path__, PACKAGE + "."):
        modules.append(importlib.import_module(info.name))
    return modules


@dataclass(frozen=True)
class Constant:
    """A tunable constant (`local.USE_BONUS`), its value in the source, and the modules that
    hold it under its name (the defining one and those that import it by name)."""

    key: str
    original: float
    sites: tuple[ModuleType, ...]

    @property
    def name(self) -> str:
        return self.key.rsplit(".", 1)[1]

    @property
    def is_int(self) -> bool:
        return isinstance(self.original, int)


def find_constants(keys: Sequence[str]) -> list[Constant]:
    """The constants named `module.NAME` (relative to spark_lsp.context); a constant's sites
    are the modules with an attribute of that name and the same value."""
    modules = context_modules()
    found = []
    for key in keys:
        module_name, _, name = key.rpartition(".")
        try:
            home = importlib.import_module(f"{PACKAGE}.{module_name}")
        except ImportError as error:
            raise SystemExit(f"unknown module in {key!r}: {error}") from None
        value = getattr(home, name, None)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SystemExit(f"{key} is not a numeric constant of {home.__name__}")
        sites = tuple(m for m in modules if type(getattr(m, name, None)) is type(value)
                      and getattr(m, name) == value)
        found.append(Constant(key, value, sites))
    return found


class Patcher:
    """Sets constants on all their sites; `restore()` puts the source values back."""

    def __init__(self, constants: Sequence[Constant]) -> None:
        self.constants = {c.key: c for c in constants}

    def set(self, values: Mapping[str, float]) -> None:
        for key, value in values.items():
            constant = self.constants[key]
            typed = round(value) if constant.is_int else float(value)
            for module in constant.sites:
                setattr(module, constant.name, typed)

    def restore(self) -> None:
        self.set({key: c.original for key, c in self.constants.items()})


def clear_caches(workspaces: Iterable[Workspace]) -> None:
    """Forget whatever could hold results computed under other values: the context modules'
    lru_caches and OrderedDict memos, and each engine's choices and look-ups."""
    for module in context_modules():
        for value in vars(module).values():
            if callable(getattr(value, "cache_clear", None)) \
                    and getattr(value, "__module__", None) == module.__name__:
                value.cache_clear()
            elif isinstance(value, OrderedDict):
                value.clear()
    for workspace in workspaces:
        workspace.engine._selections.clear()
        workspace.engine._lookups.clear()


def candidates(constant: Constant, current: float, factors: Sequence[float],
               steps: Sequence[float]) -> list[float]:
    """Values to try instead of `current` (rounded to 3 significant digits, ints to ints)."""
    if constant.key in ADDITIVE:
        raw = [min(0.9, max(0.0, current + step)) for step in steps]
    else:
        raw = [current * factor for factor in factors]
    out: list[float] = []
    for value in raw:
        value = float(max(1, round(value))) if constant.is_int else float(f"{value:.3g}")
        if value != current and value not in out:
            out.append(value)
    return out


# -- evaluation --------------------------------------------------------------------------------


@dataclass
class Figures:
    """Pooled figures of some trees at one budget."""

    tasks: int = 0
    far_found: int = 0
    far_total: int = 0
    all_found: int = 0
    all_total: int = 0
    over: int = 0
    tokens: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, result: BudgetResult, tasks: int) -> Figures:
        return cls(tasks, result.far.found, result.far.total, result.all.found,
                   result.all.total, result.over, list(result.tokens))

    @classmethod
    def pooled(cls, parts: Iterable[Figures]) -> Figures:
        out = cls()
        for part in parts:
            out.tasks += part.tasks
            out.far_found += part.far_found
            out.far_total += part.far_total
            out.all_found += part.all_found
            out.all_total += part.all_total
            out.over += part.over
            out.tokens += part.tokens
        return out

    @property
    def far(self) -> float:
        return self.far_found / self.far_total if self.far_total else math.nan

    @property
    def all(self) -> float:
        return self.all_found / self.all_total if self.all_total else math.nan

    @property
    def objective(self) -> float:
        return (self.far if self.far_total else 0.0) + (self.all if self.all_total else 0.0)

    @property
    def median(self) -> float:
        return statistics.median(self.tokens) if self.tokens else math.nan


Groups = dict[str, list[tuple[str, list[Task]]]]  # "train" / "heldout" → [(root, tasks)]


class Runner:
    """Runs one set of trees under given values, keeping their indexes between runs."""

    def __init__(self, groups: Groups, keys: Sequence[str]) -> None:
        self.groups = groups
        self.patcher = Patcher(find_constants(keys))
        self.count, self.counter = real_counter()
        self.workspaces: dict[str, Workspace] = {}

    def run(self, which: str, values: Mapping[str, float], budget: int) -> dict[str, Figures]:
        out: dict[str, Figures] = {}
        self.patcher.set(values)
        try:
            for root, tasks in self.groups.get(which, []):
                clear_caches(self.workspaces.values())
                MISSES.clear()
                results: dict[int, BudgetResult] = defaultdict(BudgetResult)
                done = evaluate(tasks, [budget], self.count, results, self.workspaces)
                out[root] = Figures.of(results[budget], done)
        finally:
            self.patcher.restore()
            clear_caches(self.workspaces.values())
        return out


class Evaluator(Protocol):
    counter: str

    def run(self, which: str, values: Mapping[str, float], budget: int
            ) -> dict[str, Figures]: ...

    def close(self) -> None: ...


class InProcess:
    """One runner in this process (`--workers 1`)."""

    def __init__(self, groups: Groups, keys: Sequence[str]) -> None:
        self.runner = Runner(groups, keys)
        self.counter = self.runner.counter

    def run(self, which: str, values: Mapping[str, float], budget: int) -> dict[str, Figures]:
        return self.runner.run(which, values, budget)

    def close(self) -> None:
        self.runner.patcher.restore()


def _serve(connection: Connection, groups: Groups, keys: Sequence[str]) -> None:
    """A worker process: answers (which, values, budget) with its trees' figures."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    import spark_lsp

    runner = Runner(groups, keys)
    connection.send(("hello", (spark_lsp.__file__, runner.counter)))
    try:
        while (message := connection.recv()) is not None:
            try:
                figures = runner.run(*message)  # as plain dicts: `__main__` differs in a worker
                answer: tuple[str, object] = (
                    "ok", {root: vars(f) for root, f in figures.items()})
            except Exception:
                answer = ("error", traceback.format_exc())
            connection.send(answer)
    except (EOFError, OSError):  # the parent is gone
        pass
    finally:
        runner.patcher.restore()


class Workers:
    """Worker processes, each with its share of the trees; a run asks them all and merges."""

    def __init__(self, shards: Sequence[Groups], keys: Sequence[str]) -> None:
        context = multiprocessing.get_context("spawn")
        self.connections: list[Connection] = []
        self.processes = []
        self.busy: list[bool] = []
        for shard in shards:
            parent, child = context.Pipe()
            process = context.Process(target=_serve, args=(child, shard, list(keys)),
                                      daemon=True)
            process.start()
            self.connections.append(parent)
            self.processes.append(process)
            self.busy.append(False)
        hellos: list[tuple[str, str]] = [self._receive(i)  # type: ignore[misc]
                                         for i in range(len(shards))]
        self.counter = hellos[0][1]
        print(f"workers: {len(shards)}, spark_lsp from {hellos[0][0]}")

    def _receive(self, number: int) -> object:
        kind, payload = self.connections[number].recv()
        self.busy[number] = False
        if kind == "error":
            raise RuntimeError(f"worker {number} failed:\n{payload}")
        return payload

    def run(self, which: str, values: Mapping[str, float], budget: int) -> dict[str, Figures]:
        for number, busy in enumerate(self.busy):  # an interrupted run's answers
            if busy:
                self._receive(number)
        for number, connection in enumerate(self.connections):
            connection.send((which, dict(values), budget))
            self.busy[number] = True
        out: dict[str, Figures] = {}
        for number in range(len(self.connections)):
            answer: dict[str, dict[str, object]] = self._receive(number)  # type: ignore[assignment]
            out.update({root: Figures(**fields) for root, fields in answer.items()})  # type: ignore[arg-type]
        return out

    def close(self) -> None:
        for connection in self.connections:
            with contextlib.suppress(OSError):
                connection.send(None)
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()


def shard(groups: Groups, workers: int) -> list[Groups]:
    """Split each group's trees between workers, most tasks first onto the least loaded."""
    shards: list[Groups] = [{} for _ in range(workers)]
    for which, trees in groups.items():
        load = [0] * workers
        for root, tasks in sorted(trees, key=lambda tree: -len(tree[1])):
            number = load.index(min(load))
            load[number] += len(tasks)
            shards[number].setdefault(which, []).append((root, tasks))
    return [s for s in shards if s]


# -- the search --------------------------------------------------------------------------------


def describe(figures: Figures) -> str:
    return (f"far {figures.far:.4f} ({figures.far_total} ids) all {figures.all:.4f} "
            f"objective {figures.objective:.4f} median {figures.median:.0f} tok "
            f"over {figures.over}")


def show(value: float) -> str:
    return f"{value:g}"


class Search:
    """Coordinate search over the constants on the training trees."""

    def __init__(self, evaluator: Evaluator, constants: Sequence[Constant], budget: int,
                 epsilon: float, factors: Sequence[float], steps: Sequence[float]) -> None:
        self.evaluator = evaluator
        self.constants = constants
        self.budget = budget
        self.epsilon = epsilon
        self.factors = factors
        self.steps = steps
        self.values: Values = {c.key: float(c.original) for c in constants}
        self.accepted: list[tuple[str, float, float, float, float]] = []
        self.evaluations = 0
        self.last_seconds = 0.0
        self.current = Figures()  # the figures of `values` (set by `start`)

    def start(self) -> Figures:
        self.current = self.train(self.values)
        return self.current

    def train(self, values: Mapping[str, float]) -> Figures:
        started = time.perf_counter()
        figures = Figures.pooled(self.evaluator.run("train", values, self.budget).values())
        self.evaluations += 1
        self.last_seconds = time.perf_counter() - started
        return figures

    def sweep(self) -> None:
        """One pass over the constants: for each, the best of its candidates replaces its value
        if it beats the objective by more than epsilon and has no more prompts over the budget
        than the current values (none, unless the source's values already had some)."""
        total = sum(len(candidates(c, self.values[c.key], self.factors, self.steps))
                    for c in self.constants)
        done = 0
        for constant in self.constants:
            current = self.current
            now = self.values[constant.key]
            best: tuple[float, Figures] | None = None
            for value in candidates(constant, now, self.factors, self.steps):
                figures = self.train({**self.values, constant.key: value})
                done += 1
                verdict = "rejected: over budget" if figures.over > current.over else \
                    f"{figures.objective - current.objective:+.4f}"
                print(f"[{done:3}/{total}] {constant.key} = {show(value)} (now {show(now)}): "
                      f"{describe(figures)} {verdict} · {self.last_seconds:.1f} s", flush=True)
                if figures.over <= current.over and (
                        best is None or figures.objective > best[1].objective):
                    best = (value, figures)
            if best is not None and best[1].objective > current.objective + self.epsilon:
                value, figures = best
                print(f"ACCEPTED {constant.key}: {show(now)} → {show(value)}, objective "
                      f"{current.objective:.4f} → {figures.objective:.4f} (far "
                      f"{current.far:.4f} → {figures.far:.4f}, all {current.all:.4f} → "
                      f"{figures.all:.4f})", flush=True)
                self.accepted.append((constant.key, now, value, current.objective,
                                      figures.objective))
                self.values[constant.key] = value
                self.current = figures


def figures_table(rows: Sequence[tuple[str, Figures]]) -> None:
    print("| set | tasks | far recall (far ids) | recall all | objective | median tokens "
          "| over budget |")
    print("|---|---|---|---|---|---|---|")
    for title, f in rows:
        print(f"| {title} | {f.tasks} | {f.far:.4f} ({f.far_total}) | {f.all:.4f} "
              f"| {f.objective:.4f} | {f.median:.0f} | {f.over} |")


def report(search: Search, budget: int, counter: str, train: tuple[Figures, Figures],
           heldout: tuple[dict[str, Figures], dict[str, Figures]]) -> None:
    print(f"\n## Changed constants (budget {budget}; copy into the source by hand)")
    changed = [c for c in search.constants if search.values[c.key] != c.original]
    if not changed:
        print("none: no value beat the source's by more than the epsilon")
    else:
        print("| constant | old | new | also held by |")
        print("|---|---|---|---|")
        for c in changed:
            home = f"{PACKAGE}.{c.key.rsplit('.', 1)[0]}"
            others = ", ".join(m.__name__.rsplit(".", 1)[1] for m in c.sites
                               if m.__name__ != home) or "-"
            new = search.values[c.key]
            print(f"| {c.key} | {show(c.original)} | {show(int(new) if c.is_int else new)} "
                  f"| {others} |")
    before, after = heldout
    print(f"\n## Figures at budget {budget} (tokens: {counter})")
    figures_table([("train, before", train[0]), ("train, after", train[1]),
                   ("held-out, before", Figures.pooled(before.values())),
                   ("held-out, after", Figures.pooled(after.values()))])
    print("\n### Held-out trees (before → after)")
    print("| tree | tasks | far recall | recall all | median tokens | over budget |")
    print("|---|---|---|---|---|---|")
    order = {name: number for number, name in enumerate(DEFAULT_TREES)}
    for root in sorted(before, key=lambda r: order.get(os.path.basename(r), len(order))):
        b, a = before[root], after.get(root, Figures())
        print(f"| {os.path.basename(root)} | {b.tasks} | {b.far:.4f} → {a.far:.4f} "
              f"| {b.all:.4f} → {a.all:.4f} | {b.median:.0f} → {a.median:.0f} "
              f"| {b.over} → {a.over} |")


def trees_from(names: Sequence[str]) -> Iterator[str]:
    for name in names:
        path = name if os.sep in name or os.path.isdir(name) else str(SITE / name)
        if os.path.isdir(path):
            yield os.path.abspath(path)
        else:
            print(f"skipped (not found): {path}")


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(f"stopped by signal {signum}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", action="append",
                        help="a training tree, a path or an installed package's name (default: "
                        + ", ".join(TRAIN_TREES) + ")")
    parser.add_argument("--tasks", type=int, default=60, help="tasks per training tree")
    parser.add_argument("--heldout-tasks", type=int, default=200,
                        help="tasks per held-out tree (context_recall.py's default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget", type=int, default=512)
    parser.add_argument("--params", help="comma-separated constants (module.NAME; default: all)")
    parser.add_argument("--sweeps", type=int, default=1)
    parser.add_argument("--epsilon", type=float, default=0.002,
                        help="least objective gain that keeps a change")
    parser.add_argument("--factors", default=",".join(map(str, FACTORS)))
    parser.add_argument("--steps", default=",".join(map(str, STEPS)),
                        help="additive steps for the shares (" + ", ".join(sorted(ADDITIVE))
                        + ")")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--list", action="store_true", help="list the constants and stop")
    args = parser.parse_args()
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in background
    signal.signal(signal.SIGTERM, _terminate)

    keys = [k.strip() for k in args.params.split(",")] if args.params else list(PARAMS)
    constants = find_constants(keys)
    import spark_lsp

    print(f"spark_lsp from {spark_lsp.__file__}")
    for c in constants:
        print(f"  {c.key} = {show(c.original)} (held by "
              f"{', '.join(m.__name__.rsplit('.', 1)[1] for m in c.sites)})")
    if args.list:
        return
    factors = [float(f) for f in args.factors.split(",")]
    steps = [float(s) for s in args.steps.split(",")]
    train_roots = list(trees_from(args.tree or TRAIN_TREES))
    heldout_roots = list(trees_from(DEFAULT_TREES))
    reported = {os.path.realpath(r) for r in heldout_roots}
    for root in train_roots:
        if os.path.realpath(root) in reported or os.path.basename(root) in DEFAULT_TREES:
            raise SystemExit(f"{root} is a held-out tree (context_recall.DEFAULT_TREES)")
    groups: Groups = {
        "train": [(r, tasks_from_tree(r, args.tasks, args.seed)) for r in train_roots],
        "heldout": [(r, tasks_from_tree(r, args.heldout_tasks, args.seed))
                    for r in heldout_roots],
    }
    for which, trees in groups.items():
        print(f"{which}: " + ", ".join(f"{os.path.basename(r)} ({len(t)})" for r, t in trees))
    if not groups["train"]:
        raise SystemExit("no training tree found")

    workers = max(1, min(args.workers, len(train_roots)))
    evaluator: Evaluator = InProcess(groups, keys) if workers == 1 else \
        Workers(shard(groups, workers), keys)
    try:
        search = Search(evaluator, constants, args.budget, args.epsilon, factors, steps)
        started = time.perf_counter()
        heldout_before = evaluator.run("heldout", search.values, args.budget)
        print(f"held-out, before: {describe(Figures.pooled(heldout_before.values()))} · "
              f"{time.perf_counter() - started:.1f} s")
        train_before = current = search.start()
        print(f"train, before: {describe(current)} · {search.last_seconds:.1f} s")
        if current.over:
            print(f"warning: {current.over} prompts over the budget with the source's values; "
                  "a candidate may have no more than the values it would replace")
        per_sweep = sum(len(candidates(c, float(c.original), factors, steps))
                        for c in constants)
        print(f"a sweep: {per_sweep} evaluations, about "
              f"{per_sweep * search.last_seconds / 60:.1f} min", flush=True)
        try:
            for number in range(args.sweeps):
                print(f"\n# sweep {number + 1}")
                before = len(search.accepted)
                search.sweep()
                if len(search.accepted) == before:
                    print("no change in this sweep: stopping")
                    break
        except KeyboardInterrupt:
            print("\ninterrupted: reporting what was accepted so far")
        heldout_after = evaluator.run("heldout", search.values, args.budget)
        print(f"\n{search.evaluations} training evaluations in "
              f"{(time.perf_counter() - started) / 60:.1f} min")
        report(search, args.budget, evaluator.counter, (train_before, search.current),
               (heldout_before, heldout_after))
    finally:
        evaluator.close()


if __name__ == "__main__":
    main()
