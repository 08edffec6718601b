"""Generate function and Fill template with the embedded model on 20 stubs and 20 TODO skeletons
(benchmarks/action_cases/, `█` marks the cursor): share of valid edits, junk edits, refusals by
reason, and the time per action. Saves each run's figures under benchmarks/results/.

    .venv/bin/python benchmarks/actions.py --label after --timeout-ms 30000
    .venv/bin/python benchmarks/actions.py --only py_slugify --verbose   # one case, to look

An edit is judged on its own terms, not by the server's validator (so that runs of older code
are judged alike): the edited file parses with no more errors than before, the new text repeats
no line 4 times running, is not mostly comments, and is at most 60 lines long.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from spark_lsp import settings as settings_mod
from spark_lsp.actions.kinds import FILL_TEMPLATE, GENERATE_FUNCTION
from spark_lsp.actions.service import ActionService, Outcome
from spark_lsp.actions.validate import parse
from spark_lsp.documents.store import DocumentStore
from spark_lsp.models.router import Router
from spark_lsp.syntax.languages import language_for

HERE = Path(__file__).resolve().parent
CASES = HERE / "action_cases"
RESULTS = HERE / "results"
CURSOR = "█"
GROUPS = {"stubs": GENERATE_FUNCTION, "skeletons": FILL_TEMPLATE}
_COMMENT = re.compile(r"^\s*(#|//|/\*|\*)")


def load_case(path: Path) -> tuple[str, str, tuple[int, int]]:
    """(file name, text without the cursor mark, cursor (line, character))."""
    marked = path.read_text(encoding="utf-8")
    at = marked.index(CURSOR)
    text = marked.replace(CURSOR, "", 1)
    line = marked.count("\n", 0, at)
    return path.name.removesuffix(".txt"), text, (line, at - (marked.rfind("\n", 0, at) + 1))


def apply_edit(text: str, outcome: Outcome) -> str:
    edit = outcome.edit
    assert edit is not None
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    start = offsets[edit.start[0]] + edit.start[1]
    end = offsets[edit.end[0]] + edit.end[1]
    return text[:start] + edit.new_text + text[end:]


def judge(language: str, before: str, after: str, new_text: str) -> str | None:
    """None for a valid edit, else why it is junk."""
    lines = [line for line in new_text.split("\n") if line.strip()]
    if not lines:
        return "empty"
    if len(lines) > 60:
        return "too long"
    run = 1
    for prev, line in itertools.pairwise(lines):
        run = run + 1 if line.strip() == prev.strip() else 1
        if run >= 4:
            return "repeated line"
    comments = sum(1 for line in lines if _COMMENT.match(line))
    if comments * 2 > len(lines) and comments >= 3:
        return "mostly comments"
    if parse(language, after).root_node.has_error and \
            not parse(language, before).root_node.has_error:
        return "does not parse"
    return None


def reason_of(message: str | None) -> str:
    """A refusal's reason without the action's title, its details or figures."""
    text = message or "no message"
    text = text.split("not applied: ", 1)[-1].split(". Use the code action", 1)[0]
    text = re.sub(r"`[^`]*`", "`…`", text)
    text = re.sub(r"\d+", "N", text)
    return text.split(" (", 1)[0].split("; ", 1)[0].rstrip(".")[:90]


async def run_case(service: ActionService, router: Router, settings: Any, group: str,
                   path: Path) -> dict[str, Any]:
    name, text, cursor = load_case(path)
    language = language_for(None, name) or "plaintext"
    store = DocumentStore()
    uri = (CASES / group / name).as_uri()
    store.open(uri, language, 1, text)
    snapshot = store.snapshot(uri)
    assert snapshot is not None
    kind = GROUPS[group]
    offers = [o for o in service.offers(snapshot, cursor, cursor, settings, False)
              if o.data.kind == kind]
    record: dict[str, Any] = {"case": name, "group": group, "language": language}
    if not offers:
        return {**record, "result": "not offered", "seconds": 0.0}
    started = time.perf_counter()
    outcome = await service.run(offers[0].data, snapshot, lambda: 1, settings, router)
    seconds = time.perf_counter() - started
    record["seconds"] = round(seconds, 2)
    if outcome.edit is None:
        return {**record, "result": "refused", "reason": reason_of(outcome.message),
                "message": outcome.message}
    after = apply_edit(text, outcome)
    junk = judge(language, text, after, outcome.edit.new_text)
    return {**record, "result": "junk" if junk else "valid", "junk": junk,
            "new_text": outcome.edit.new_text}


def summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    count = Counter(r["result"] for r in records)
    reasons = Counter(r["reason"] for r in records if r["result"] == "refused")
    junk = Counter(r["junk"] for r in records if r["result"] == "junk")
    times = [r["seconds"] for r in records if r["result"] != "not offered"]
    per_group = {}
    for group in GROUPS:
        rows = [r for r in records if r["group"] == group]
        if rows:
            per_group[group] = {
                "cases": len(rows),
                "valid": sum(r["result"] == "valid" for r in rows),
                "junk": sum(r["result"] == "junk" for r in rows),
                "refused": sum(r["result"] == "refused" for r in rows),
                "not_offered": sum(r["result"] == "not offered" for r in rows),
                "p50_s": round(statistics.median([r["seconds"] for r in rows]), 2),
            }
    return {
        "cases": len(records),
        "valid_share": round(count["valid"] / max(1, len(records)), 3),
        "results": dict(count),
        "refusals": dict(reasons.most_common()),
        "junk": dict(junk.most_common()),
        "seconds_p50": round(statistics.median(times), 2) if times else None,
        "seconds_max": max(times) if times else None,
        "seconds_total": round(sum(times), 1),
        "per_group": per_group,
    }


def print_summary(label: str, figures: dict[str, Any]) -> None:
    print(f"run {label!r}: {figures['cases']} actions, valid edits "
          f"{figures['valid_share']:.0%} ({figures['results']})")
    for group, row in figures["per_group"].items():
        print(f"  {group}: {row}")
    print(f"  time per action: p50 {figures['seconds_p50']} s, max {figures['seconds_max']} s, "
          f"total {figures['seconds_total']} s")
    for reason, n in figures["refusals"].items():
        print(f"  refused x{n}: {reason}")
    for reason, n in figures["junk"].items():
        print(f"  JUNK applied x{n}: {reason}")


def resummarize(path: Path) -> None:
    """Print (and save back) a results file's figures, its reasons read again from messages."""
    run = json.loads(path.read_text())
    for record in run["records"]:
        if record["result"] == "refused":
            record["reason"] = reason_of(record.get("message"))
    run["summary"] = summary(run["records"])
    path.write_text(json.dumps(run, indent=1) + "\n")
    print_summary(run["label"], run["summary"])


async def main(label: str, only: str | None, verbose: bool, timeout_ms: int | None,
               shape: str | None) -> None:
    actions: dict[str, Any] = {}
    if timeout_ms is not None:
        actions["timeout_ms"] = timeout_ms
    if shape is not None:
        actions["prompt_shape"] = shape  # older code ignores it (with a settings problem)
    # No model settings at all: the embedded model.
    settings = settings_mod.resolve([("benchmark", {"actions": actions})]).settings
    router = Router(settings)
    service = ActionService()
    records: list[dict[str, Any]] = []
    try:
        for group in GROUPS:
            for path in sorted((CASES / group).glob("*.txt")):
                if only and only not in path.name:
                    continue
                record = await run_case(service, router, settings, group, path)
                records.append(record)
                detail = record.get("reason") or record.get("junk") or ""
                print(f"{record['case']:<22} {record['result']:<12} {record['seconds']:>6.1f} s"
                      f"  {detail}", flush=True)
                if verbose and "new_text" in record:
                    print(record["new_text"])
    finally:
        await router.aclose()
    figures = summary(records)
    print_summary(label, figures)
    if not only:
        RESULTS.mkdir(exist_ok=True)
        out = RESULTS / f"actions-{label}.json"
        run = {"label": label, "timeout_ms": settings.actions.timeout_ms, "shape": shape,
               "summary": figures, "records": records}
        out.write_text(json.dumps(run, indent=1) + "\n")
        print(f"saved {out.relative_to(HERE.parent)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--label", default="run", help="names the results file")
    parser.add_argument("--only", help="run the cases whose file name contains this")
    parser.add_argument("--verbose", action="store_true", help="print each edit's text")
    parser.add_argument("--timeout-ms", type=int, help="actions.timeout_ms (default: the "
                        "setting's); the same for every run that is compared")
    parser.add_argument("--shape", choices=["completion", "instruction"],
                        help="actions.prompt_shape (default: auto)")
    parser.add_argument("--resummarize", type=Path, help="recompute a saved run's figures")
    args = parser.parse_args()
    if args.resummarize:
        resummarize(args.resummarize)
        raise SystemExit(0)
    asyncio.run(main(args.label, args.only, args.verbose, args.timeout_ms, args.shape))
