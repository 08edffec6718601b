"""Tune the context engine's ranking (`spark_lsp.context.ranking.Ranking`) by coordinate search on
training trees, and check the result on the trees `context_recall.py` reports on (held out:
never used to choose).

Each field of the table in turn (`--params`, "group.field": `names.kin`, `weights.near`, …;
default: all of them) gets a few values tried — x0.5, x0.75, x1.33, x2 of the current one;
shares ±0.05, ±0.1 — through `dataclasses.replace` on the table, and keeps the best if it raises
the objective by more than `--epsilon`. The objective is pooled far recall + pooled identifier
recall ("recall all") at one budget (`--budget`, default 512) over the tasks of the TRAINING
trees (installed anyio, httpcore, cattrs, jinja2, _pytest, packaging, sqlite_utils, dateutil;
`--tree` to choose others). A value that puts more prompts over the budget than the current one
does is rejected. The held-out trees (`context_recall.DEFAULT_TREES`) are evaluated once before
and once after, and so are the untuned ones (`context_recall.UNTUNED_TREES`, never searched on):
if their far or all-identifier recall drops by more than 0.01, the table is BLOCKED (exit 1).

The table is passed to the builder (`build_context(ranking=…)`): nothing is patched, nothing is
written to the source. The script prints each accepted change and the accepted table, to copy
into ranking.py by hand (with the figures, in the field's comment). Trees are split between
`--workers` processes, each keeping its indexes across evaluations. Ctrl-C stops the search and
still reports what was accepted so far.

    .venv/bin/python benchmarks/tune_context.py                         # one sweep, all fields
    .venv/bin/python benchmarks/tune_context.py --params code.use_bonus,weights.near --sweeps 2
    .venv/bin/python benchmarks/tune_context.py --tree PATH --tree PATH --tasks 100 --budget 1024
    .venv/bin/python benchmarks/tune_context.py --list                  # the fields and values
"""

from __future__ import annotations

import argparse
import contextlib
import math
import multiprocessing
import os
import signal
import statistics
import sys
import time
import traceback
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Protocol

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.context_recall import (
    DEFAULT_TREES,
    MISSES,
    SITE,
    UNTUNED_TREES,
    BudgetResult,
    Workspace,
    evaluate,
    real_counter,
)
from benchmarks.fim_tasks import Task, tasks_from_tree
from benchmarks.recall_results import TOLERANCE
from spark_lsp.context.ranking import DEFAULT, Ranking

ADDITIVE = frozenset({"window.prefix_share", "window.suffix_share", "window.intent_share"})
FACTORS = (0.5, 0.75, 1.33, 2.0)
STEPS = (-0.1, -0.05, 0.05, 0.1)
TRAIN_TREES = ("anyio", "httpcore", "cattrs", "jinja2", "_pytest", "packaging", "sqlite_utils",
               "dateutil")

Values = dict[str, float]  # "group.field" → value


# -- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """A field of the ranking table (`names.kin`), its value in the source's table, and
    whether it is an int (then the values tried are rounded)."""

    key: str
    original: float
    is_int: bool


def table_fields(keys: Sequence[str] | None = None, table: Ranking = DEFAULT) -> list[Field]:
    """The fields named "group.field" (default: every field, in the table's order)."""
    values = dict(table.values())
    for key in keys or ():
        if key not in values:
            raise SystemExit(f"no field {key!r} in the ranking (see --list)")
    return [Field(key, values[key], isinstance(values[key], int)) for key in keys or values]


def ranking_of(values: Mapping[str, float]) -> Ranking:
    """The source's table with `values` set."""
    return DEFAULT.with_values(values)


def candidates(item: Field, current: float, factors: Sequence[float],
               steps: Sequence[float]) -> list[float]:
    """Values to try instead of `current` (rounded to 3 significant digits, ints to ints)."""
    if item.key in ADDITIVE:
        raw = [min(0.9, max(0.0, current + step)) for step in steps]
    else:
        raw = [current * factor for factor in factors]
    out: list[float] = []
    for value in raw:
        value = float(max(1, round(value))) if item.is_int else float(f"{value:.3g}")
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

    def __init__(self, groups: Groups) -> None:
        self.groups = groups
        self.count, self.counter = real_counter()
        self.workspaces: dict[str, Workspace] = {}

    def run(self, which: str, values: Mapping[str, float], budget: int) -> dict[str, Figures]:
        """The figures of each tree of `which` under the source's table with `values` set.
        (Nothing computed under other values is reused: each task's document is closed after
        it, and a kept choice is keyed by its ranking.)"""
        ranking = ranking_of(values)
        out: dict[str, Figures] = {}
        for root, tasks in self.groups.get(which, []):
            MISSES.clear()
            results: dict[int, BudgetResult] = defaultdict(BudgetResult)
            done = evaluate(tasks, [budget], self.count, results, self.workspaces,
                            ranking=ranking)
            out[root] = Figures.of(results[budget], done)
        return out


class Evaluator(Protocol):
    counter: str

    def run(self, which: str, values: Mapping[str, float], budget: int
            ) -> dict[str, Figures]: ...

    def close(self) -> None: ...


class InProcess:
    """One runner in this process (`--workers 1`)."""

    def __init__(self, groups: Groups) -> None:
        self.runner = Runner(groups)
        self.counter = self.runner.counter

    def run(self, which: str, values: Mapping[str, float], budget: int) -> dict[str, Figures]:
        return self.runner.run(which, values, budget)

    def close(self) -> None:
        pass


def _serve(connection: Connection, groups: Groups) -> None:
    """A worker process: answers (which, values, budget) with its trees' figures."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    import spark_lsp

    runner = Runner(groups)
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


class Workers:
    """Worker processes, each with its share of the trees; a run asks them all and merges."""

    def __init__(self, shards: Sequence[Groups]) -> None:
        context = multiprocessing.get_context("spawn")
        self.connections: list[Connection] = []
        self.processes = []
        self.busy: list[bool] = []
        for shard in shards:
            parent, child = context.Pipe()
            process = context.Process(target=_serve, args=(child, shard), daemon=True)
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
    """Coordinate search over fields of the ranking table on the training trees."""

    def __init__(self, evaluator: Evaluator, fields: Sequence[Field], budget: int,
                 epsilon: float, factors: Sequence[float], steps: Sequence[float]) -> None:
        self.evaluator = evaluator
        self.fields = fields
        self.budget = budget
        self.epsilon = epsilon
        self.factors = factors
        self.steps = steps
        self.values: Values = {f.key: float(f.original) for f in fields}
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
        """One pass over the fields: for each, the best of its candidates replaces its value
        if it beats the objective by more than epsilon and has no more prompts over the budget
        than the current values (none, unless the source's values already had some)."""
        total = sum(len(candidates(f, self.values[f.key], self.factors, self.steps))
                    for f in self.fields)
        done = 0
        for item in self.fields:
            current = self.current
            now = self.values[item.key]
            best: tuple[float, Figures] | None = None
            for value in candidates(item, now, self.factors, self.steps):
                figures = self.train({**self.values, item.key: value})
                done += 1
                verdict = "rejected: over budget" if figures.over > current.over else \
                    f"{figures.objective - current.objective:+.4f}"
                print(f"[{done:3}/{total}] {item.key} = {show(value)} (now {show(now)}): "
                      f"{describe(figures)} {verdict} · {self.last_seconds:.1f} s", flush=True)
                if figures.over <= current.over and (
                        best is None or figures.objective > best[1].objective):
                    best = (value, figures)
            if best is not None and best[1].objective > current.objective + self.epsilon:
                value, figures = best
                print(f"ACCEPTED {item.key}: {show(now)} → {show(value)}, objective "
                      f"{current.objective:.4f} → {figures.objective:.4f} (far "
                      f"{current.far:.4f} → {figures.far:.4f}, all {current.all:.4f} → "
                      f"{figures.all:.4f})", flush=True)
                self.accepted.append((item.key, now, value, current.objective,
                                      figures.objective))
                self.values[item.key] = value
                self.current = figures


def print_table(table: Ranking, source: Ranking) -> None:
    """Every field of `table`, with the source's value where it differs."""
    was = dict(source.values())
    print("| field | value |")
    print("|---|---|")
    for key, value in table.values():
        note = f" (was {show(was[key])})" if value != was[key] else ""
        print(f"| {key} | {show(value)}{note} |")


def figures_table(rows: Sequence[tuple[str, Figures]]) -> None:
    print("| set | tasks | far recall (far ids) | recall all | objective | median tokens "
          "| over budget |")
    print("|---|---|---|---|---|---|---|")
    for title, f in rows:
        print(f"| {title} | {f.tasks} | {f.far:.4f} ({f.far_total}) | {f.all:.4f} "
              f"| {f.objective:.4f} | {f.median:.0f} | {f.over} |")


def untuned_regression(before: Figures, after: Figures) -> str | None:
    """Why the accepted table may not be used: far or all-identifier recall on the untuned
    trees (never chosen on) dropped by more than `recall_results.TOLERANCE`; None if not."""
    drops = [f"{name} {b:.4f} → {a:.4f}" for name, b, a in
             (("far", before.far, after.far), ("all", before.all, after.all))
             if round(b - a, 9) > TOLERANCE]
    return "untuned trees: " + ", ".join(drops) if drops else None


def report(search: Search, budget: int, counter: str, train: tuple[Figures, Figures],
           heldout: tuple[dict[str, Figures], dict[str, Figures]],
           untuned: tuple[dict[str, Figures], dict[str, Figures]]) -> int:
    """Print the search's outcome; 1 when the untuned trees regressed (the table is blocked)."""
    print(f"\n## Changed fields (budget {budget}; copy into spark_lsp/context/ranking.py by "
          "hand, with the figures)")
    changed = [f for f in search.fields if search.values[f.key] != f.original]
    if not changed:
        print("none: no value beat the source's by more than the epsilon")
    else:
        print("| field | old | new |")
        print("|---|---|---|")
        for f in changed:
            new = search.values[f.key]
            print(f"| {f.key} | {show(f.original)} | {show(int(new) if f.is_int else new)} |")
    print("\n## The accepted table")
    print_table(ranking_of(search.values), DEFAULT)
    before, after = heldout
    print(f"\n## Figures at budget {budget} (tokens: {counter})")
    untuned_before, untuned_after = (Figures.pooled(u.values()) for u in untuned)
    figures_table([("train, before", train[0]), ("train, after", train[1]),
                   ("held-out, before", Figures.pooled(before.values())),
                   ("held-out, after", Figures.pooled(after.values())),
                   ("untuned, before", untuned_before), ("untuned, after", untuned_after)])
    print("\n### Held-out trees (before → after)")
    print("| tree | tasks | far recall | recall all | median tokens | over budget |")
    print("|---|---|---|---|---|---|")
    order = {name: number for number, name in enumerate(DEFAULT_TREES)}
    for root in sorted(before, key=lambda r: order.get(os.path.basename(r), len(order))):
        b, a = before[root], after.get(root, Figures())
        print(f"| {os.path.basename(root)} | {b.tasks} | {b.far:.4f} → {a.far:.4f} "
              f"| {b.all:.4f} → {a.all:.4f} | {b.median:.0f} → {a.median:.0f} "
              f"| {b.over} → {a.over} |")
    blocked = untuned_regression(untuned_before, untuned_after) if untuned[0] else None
    if blocked:
        print(f"\nBLOCKED: {blocked} (more than {TOLERANCE}): do not use this table")
        return 1
    return 0


def trees_from(names: Sequence[str]) -> Iterator[str]:
    for name in names:
        path = name if os.sep in name or os.path.isdir(name) else str(SITE / name)
        if os.path.isdir(path):
            yield os.path.abspath(path)
        else:
            print(f"skipped (not found): {path}")


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(f"stopped by signal {signum}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", action="append",
                        help="a training tree, a path or an installed package's name (default: "
                        + ", ".join(TRAIN_TREES) + ")")
    parser.add_argument("--tasks", type=int, default=60, help="tasks per training tree")
    parser.add_argument("--heldout-tasks", type=int, default=200,
                        help="tasks per held-out tree (context_recall.py's default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget", type=int, default=512)
    parser.add_argument("--params", help="comma-separated fields of the ranking (group.field; "
                        "default: all)")
    parser.add_argument("--sweeps", type=int, default=1)
    parser.add_argument("--epsilon", type=float, default=0.002,
                        help="least objective gain that keeps a change")
    parser.add_argument("--factors", default=",".join(map(str, FACTORS)))
    parser.add_argument("--steps", default=",".join(map(str, STEPS)),
                        help="additive steps for the shares (" + ", ".join(sorted(ADDITIVE))
                        + ")")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--list", action="store_true", help="list the fields and stop")
    args = parser.parse_args()
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in background
    signal.signal(signal.SIGTERM, _terminate)

    keys = [k.strip() for k in args.params.split(",")] if args.params else None
    fields = table_fields(keys)
    import spark_lsp

    print(f"spark_lsp from {spark_lsp.__file__}")
    for f in fields:
        print(f"  {f.key} = {show(f.original)}{' (int)' if f.is_int else ''}")
    if args.list:
        return 0
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
        # Never chosen on: only to block a table that does worse on code nobody tuned for.
        "untuned": [(r, tasks_from_tree(r, args.heldout_tasks, args.seed))
                    for r in trees_from(list(UNTUNED_TREES))],
    }
    for which, trees in groups.items():
        print(f"{which}: " + ", ".join(f"{os.path.basename(r)} ({len(t)})" for r, t in trees))
    if not groups["train"]:
        raise SystemExit("no training tree found")

    workers = max(1, min(args.workers, len(train_roots)))
    evaluator: Evaluator = InProcess(groups) if workers == 1 else \
        Workers(shard(groups, workers))
    try:
        search = Search(evaluator, fields, args.budget, args.epsilon, factors, steps)
        started = time.perf_counter()
        heldout_before = evaluator.run("heldout", search.values, args.budget)
        print(f"held-out, before: {describe(Figures.pooled(heldout_before.values()))} · "
              f"{time.perf_counter() - started:.1f} s")
        untuned_before = evaluator.run("untuned", search.values, args.budget)
        train_before = current = search.start()
        print(f"train, before: {describe(current)} · {search.last_seconds:.1f} s")
        if current.over:
            print(f"warning: {current.over} prompts over the budget with the source's values; "
                  "a candidate may have no more than the values it would replace")
        per_sweep = sum(len(candidates(f, float(f.original), factors, steps))
                        for f in fields)
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
        untuned_after = evaluator.run("untuned", search.values, args.budget)
        print(f"\n{search.evaluations} training evaluations in "
              f"{(time.perf_counter() - started) / 60:.1f} min")
        return report(search, args.budget, evaluator.counter, (train_before, search.current),
                      (heldout_before, heldout_after), (untuned_before, untuned_after))
    finally:
        evaluator.close()


if __name__ == "__main__":
    sys.exit(main())
