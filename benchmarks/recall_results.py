"""The figures of `context_recall.py` runs kept in `benchmarks/results/context_recall.md`, one
entry a run, and the check that a change did not lower recall on the untuned trees.

An entry is a heading (date, commit, command), three key lines and a table of the pooled figures
per group and budget:

    ## 2026-12-04 10:12 · a922967 · `context_recall.py --budgets 256,512,1024 --humaneval 0`

    - settings: budgets 256,512,1024 · seed 0 · tokens: SmolLM2 tokenizer; budgeted with …
    - tuned: httpx 0.28.1 (200) · …
    - untuned: starlette 1.10.0 (108) · …

    | group | budget | tasks | far recall | recall all | median tokens | over budget |

The check compares with the last entry of the same settings and untuned trees (names, versions
and task counts): only there are the figures the same when the code is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "context_recall.md"
TOLERANCE = 0.01  # the drop in untuned far or all-identifier recall that fails the check
GROUPS = ("tuned", "untuned")
KEYS = ("settings", "tuned", "untuned")
PREAMBLE = """# context_recall.py: pooled figures per run

Written by `benchmarks/context_recall.py` (one entry a run, appended; `--no-record` writes none).
"tuned" pools the trees the ranking was tuned on or looked at, "untuned" the trees it never was
(`context_recall.UNTUNED_TREES`, never used to choose a value); "gap" is untuned minus tuned.
`--check` compares a run's untuned figures with the last entry of the same settings and untuned
trees and fails if far or all-identifier recall dropped by more than 0.01 at any budget.
"""
_ROW = re.compile(r"^\|\s*(tuned|untuned)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*([\d.]+)\s*"
                  r"\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|\s*(\d+)\s*\|")


@dataclass(frozen=True)
class Pooled:
    """One group's pooled figures at one budget."""

    tasks: int
    far: float
    all: float
    median_tokens: float
    over: int

    def rounded(self) -> Pooled:
        """As the results file keeps it (4 decimals), so a rerun compares equal."""
        return Pooled(self.tasks, round(self.far, 4), round(self.all, 4),
                      round(self.median_tokens), self.over)


@dataclass
class Entry:
    """One recorded run: `keys` maps "settings", "tuned", "untuned" to their line's text;
    `figures` maps (group, budget) to the pooled figures."""

    heading: str
    keys: dict[str, str] = field(default_factory=dict)
    figures: dict[tuple[str, int], Pooled] = field(default_factory=dict)

    def group(self, name: str) -> dict[int, Pooled]:
        return {budget: p for (g, budget), p in self.figures.items() if g == name}


def format_entry(entry: Entry) -> str:
    """The entry as markdown: heading, key lines, one table (gap rows where both groups are)."""
    lines = [f"## {entry.heading}", ""]
    lines += [f"- {key}: {entry.keys[key]}" for key in KEYS if key in entry.keys]
    lines += ["", "| group | budget | tasks | far recall | recall all | median tokens "
              "| over budget |", "|---|---|---|---|---|---|---|"]
    for budget in sorted({b for _, b in entry.figures}):
        for group in GROUPS:
            p = entry.figures.get((group, budget))
            if p is not None:
                lines.append(f"| {group} | {budget} | {p.tasks} | {p.far:.4f} | {p.all:.4f} "
                             f"| {p.median_tokens:.0f} | {p.over} |")
        tuned, untuned = entry.figures.get(("tuned", budget)), \
            entry.figures.get(("untuned", budget))
        if tuned and untuned:
            lines.append(f"| gap | {budget} | | {untuned.far - tuned.far:+.4f} "
                         f"| {untuned.all - tuned.all:+.4f} "
                         f"| {untuned.median_tokens - tuned.median_tokens:+.0f} "
                         f"| {untuned.over - tuned.over:+d} |")
    return "\n".join(lines) + "\n"


def parse_entries(text: str) -> list[Entry]:
    """The entries of a results file, oldest first (gap rows are derived: not read back)."""
    entries: list[Entry] = []
    for line in text.splitlines():
        if line.startswith("## "):
            entries.append(Entry(line[3:].strip()))
        elif not entries:
            continue
        elif (key := re.match(r"^- (settings|tuned|untuned): (.*)$", line)) is not None:
            entries[-1].keys[key[1]] = key[2].strip()
        elif (row := _ROW.match(line)) is not None:
            group, budget, tasks, far, all_, median, over = row.groups()
            entries[-1].figures[(group, int(budget))] = Pooled(
                int(tasks), float(far), float(all_), float(median), int(over))
    return entries


def last_matching(entries: list[Entry], settings: str, untuned: str) -> Entry | None:
    """The last entry with these settings and untuned trees, and untuned figures."""
    for entry in reversed(entries):
        if entry.keys.get("settings") == settings and entry.keys.get("untuned") == untuned \
                and entry.group("untuned"):
            return entry
    return None


def compare(before: Mapping[int, Pooled], now: Mapping[int, Pooled],
            tolerance: float = TOLERANCE) -> tuple[list[str], bool]:
    """A table of the untuned figures, before → now per budget, and whether far or
    all-identifier recall dropped by more than `tolerance` at any budget (a budget missing
    from `before` fails too: nothing to compare it with)."""
    lines = ["| budget | far recall | recall all | verdict |", "|---|---|---|---|"]
    failed = False
    for budget in sorted(now):
        new, old = now[budget].rounded(), before.get(budget)
        if old is None:
            lines.append(f"| {budget} | {new.far:.4f} | {new.all:.4f} | no earlier figure |")
            failed = True
            continue
        drops = [name for name, a, b in (("far", old.far, new.far), ("all", old.all, new.all))
                 if a - b > tolerance + 1e-9]
        failed = failed or bool(drops)
        lines.append(f"| {budget} | {old.far:.4f} → {new.far:.4f} ({new.far - old.far:+.4f}) "
                     f"| {old.all:.4f} → {new.all:.4f} ({new.all - old.all:+.4f}) "
                     f"| {'dropped: ' + ', '.join(drops) if drops else 'ok'} |")
    return lines, failed


def append(entry: Entry, path: Path = RESULTS) -> None:
    """Add the entry at the end of the results file (created with its preamble)."""
    text = path.read_text(encoding="utf-8") if path.exists() else PREAMBLE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip("\n") + "\n\n" + format_entry(entry), encoding="utf-8")
