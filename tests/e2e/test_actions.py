"""The three code actions through the real server, per language (Python, TypeScript, Go, Rust), with
two fake model servers on loopback, one per tier: listing calls no model; 'Generate function' and
'Fill template' get their edit from the fast model; 'Ask stronger model' is offered on a 30-line
function with nested loops and branches (not on a one-line statement), reaches the strong model,
reports progress, and returns an edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.test_actions_support import (
    FILL,
    GENERATE,
    KEY,
    STRONGER,
    action_session,
    apply_edit,
    kinds,
    list_actions,
    one,
    open_file,
    position_of,
    resolve,
    user_prompt,
)
from tests.fakemodel import FakeModelServer


@dataclass(frozen=True)
class Case:
    language: str
    file: str
    text: str
    stub_at: str  # a substring on the stub's line
    stub_reply: str  # the fast model's answer for the stub
    stub_result: str  # the stub as it must read afterwards
    hole_at: str
    fill_reply: str
    fill_result: str
    complex_at: str
    one_liner_at: str
    strong_reply: str
    strong_result: str


PY_SCHEDULE = '''def schedule(jobs, workers, limit):
    plan = {}
    for worker in workers:
        plan[worker] = []
    pending = sorted(jobs, key=lambda j: (-j.priority, j.name))
    for job in pending:
        best = None
        for worker in workers:
            load = sum(j.cost for j in plan[worker])
            if load + job.cost > limit:
                continue
            if job.needs and job.needs not in worker.skills:
                continue
            if best is None or load < best[1]:
                best = (worker, load)
        if best is None:
            if job.optional:
                continue
            raise ValueError(f"no worker for {job.name}")
        plan[best[0]].append(job)
    for worker, assigned in plan.items():
        while assigned and sum(j.cost for j in assigned) > limit:
            dropped = assigned.pop()
            if not dropped.optional:
                raise ValueError(f"over limit: {dropped.name}")
    return plan'''

PYTHON = Case(
    language="python",
    file="plan.py",
    text=f'''import math


def area(radius: float) -> float:
    """Area of a circle of the given radius."""
    ...


def normalise(values: list[float]) -> list[float]:
    total = sum(values)
    # TODO: divide every value by the total
    return values


{PY_SCHEDULE}


RATE = 0.2
''',
    stub_at="def area",
    # A fenced answer with prose around it, repeating the whole function: the body is taken.
    stub_reply='Here is the implementation:\n```python\ndef area(radius: float) -> float:\n'
               '    """Area of a circle of the given radius."""\n'
               '    return math.pi * radius ** 2\n```\nIt uses `math.pi`.',
    stub_result='def area(radius: float) -> float:\n    """Area of a circle of the given radius."""'
                '\n    return math.pi * radius ** 2\n',
    hole_at="# TODO",
    fill_reply="```python\ndef normalise(values: list[float]) -> list[float]:\n"
               "    total = sum(values)\n    return [v / total for v in values]\n```",
    fill_result="def normalise(values: list[float]) -> list[float]:\n    total = sum(values)\n"
                "    return [v / total for v in values]\n",
    complex_at="best = (worker, load)",
    one_liner_at="RATE = 0.2",
    strong_reply="I simplified the loop.\n```python\n" + PY_SCHEDULE.replace(
        "    plan = {}\n    for worker in workers:\n        plan[worker] = []",
        "    plan = {worker: [] for worker in workers}") + "\n```",
    strong_result=PY_SCHEDULE.replace(
        "    plan = {}\n    for worker in workers:\n        plan[worker] = []",
        "    plan = {worker: [] for worker in workers}"),
)

TS_SCHEDULE = '''export function schedule(jobs: Job[], workers: Worker[], limit: number): Plan {
  const plan = new Map<Worker, Job[]>();
  for (const worker of workers) {
    plan.set(worker, []);
  }
  const pending = [...jobs].sort((a, b) => b.priority - a.priority || a.name.localeCompare(b.name));
  for (const job of pending) {
    let best: [Worker, number] | null = null;
    for (const worker of workers) {
      const load = plan.get(worker)!.reduce((sum, j) => sum + j.cost, 0);
      if (load + job.cost > limit) {
        continue;
      }
      if (job.needs && !worker.skills.includes(job.needs)) {
        continue;
      }
      if (best === null || load < best[1]) {
        best = [worker, load];
      }
    }
    if (best === null) {
      if (job.optional) {
        continue;
      }
      throw new Error(`no worker for ${job.name}`);
    }
    plan.get(best[0])!.push(job);
  }
  return plan;
}'''

TYPESCRIPT = Case(
    language="typescript",
    file="plan.ts",
    text=f'''export function area(radius: number): number {{
  throw new Error("not implemented");
}}

export function report(items: number[]): string {{
  const total = 0; // FIXME: add up the items
  return `total: ${{total}}`;
}}

{TS_SCHEDULE}

export const RATE = 0.2;
''',
    stub_at="export function area",
    stub_reply="```ts\nexport function area(radius: number): number {\n"
               "  return Math.PI * radius * radius;\n}\n```",
    stub_result="export function area(radius: number): number {\n"
                "  return Math.PI * radius * radius;\n}\n",
    hole_at="FIXME",
    fill_reply="```typescript\nexport function report(items: number[]): string {\n"
               "  const total = items.reduce((a, b) => a + b, 0);\n"
               "  return `total: ${total}`;\n}\n```",
    fill_result="export function report(items: number[]): string {\n"
                "  const total = items.reduce((a, b) => a + b, 0);\n"
                "  return `total: ${total}`;\n}\n",
    complex_at="best = [worker, load]",
    one_liner_at="export const RATE",
    strong_reply="```typescript\n" + TS_SCHEDULE.replace(
        "  for (const worker of workers) {\n    plan.set(worker, []);\n  }",
        "  workers.forEach((worker) => plan.set(worker, []));") + "\n```",
    strong_result=TS_SCHEDULE.replace(
        "  for (const worker of workers) {\n    plan.set(worker, []);\n  }",
        "  workers.forEach((worker) => plan.set(worker, []));"),
)

GO_SCHEDULE = '''func Schedule(jobs []Job, workers []Worker, limit int) (map[string][]Job, error) {
	plan := map[string][]Job{}
	for _, w := range workers {
		plan[w.Name] = nil
	}
	for _, job := range jobs {
		best := ""
		bestLoad := math.MaxInt
		for _, w := range workers {
			load := 0
			for _, j := range plan[w.Name] {
				load += j.Cost
			}
			if load+job.Cost > limit {
				continue
			}
			if job.Needs != "" && !w.Has(job.Needs) {
				continue
			}
			if load < bestLoad {
				best, bestLoad = w.Name, load
			}
		}
		if best == "" {
			if job.Optional {
				continue
			}
			return nil, fmt.Errorf("no worker for %s", job.Name)
		}
		plan[best] = append(plan[best], job)
	}
	return plan, nil
}'''

GO = Case(
    language="go",
    file="plan.go",
    text=f'''package plan

import "math"

// Area returns the area of a circle of the given radius.
func Area(radius float64) float64 {{
	panic("not implemented")
}}

func Sum(xs []int) int {{
	total := 0
	// TODO: add every element to total
	return total
}}

{GO_SCHEDULE}

const Rate = 0.2
''',
    stub_at="func Area",
    # Indented with spaces, as models often answer: it must come out with gofmt's tabs.
    stub_reply="```go\nfunc Area(radius float64) float64 {\n"
               "    return math.Pi * radius * radius\n}\n```",
    stub_result="func Area(radius float64) float64 {\n\treturn math.Pi * radius * radius\n}\n",
    hole_at="// TODO",
    fill_reply="```go\nfunc Sum(xs []int) int {\n\ttotal := 0\n\tfor _, x := range xs {\n"
               "\t\ttotal += x\n\t}\n\treturn total\n}\n```",
    fill_result="func Sum(xs []int) int {\n\ttotal := 0\n\tfor _, x := range xs {\n"
                "\t\ttotal += x\n\t}\n\treturn total\n}\n",
    complex_at="best, bestLoad = w.Name, load",
    one_liner_at="const Rate",
    strong_reply="```go\n" + GO_SCHEDULE.replace("\t\tbest := \"\"\n", "\t\tvar best string\n")
                 + "\n```",
    strong_result=GO_SCHEDULE.replace("\t\tbest := \"\"\n", "\t\tvar best string\n"),
)

RUST_SCHEDULE = '''pub fn schedule(jobs: &[Job], workers: &[Worker], limit: u32) -> Result<Plan> {
    let mut plan: Plan = HashMap::new();
    for w in workers {
        plan.insert(w.name.clone(), Vec::new());
    }
    for job in jobs {
        let mut best: Option<(&Worker, u32)> = None;
        for w in workers {
            let load: u32 = plan[&w.name].iter().map(|j| j.cost).sum();
            if load + job.cost > limit {
                continue;
            }
            if let Some(need) = &job.needs {
                if !w.skills.contains(need) {
                    continue;
                }
            }
            match best {
                Some((_, l)) if l <= load => {}
                _ => best = Some((w, load)),
            }
        }
        match best {
            Some((w, _)) => plan.get_mut(&w.name).unwrap().push(job.clone()),
            None if job.optional => continue,
            None => return Err(format!("no worker for {}", job.name)),
        }
    }
    Ok(plan)
}'''

RUST = Case(
    language="rust",
    file="plan.rs",
    text=f'''use std::collections::HashMap;

/// Area of a circle of the given radius.
pub fn area(radius: f64) -> f64 {{
    todo!()
}}

pub fn sum(xs: &[i32]) -> i32 {{
    let total = todo!();
    total
}}

{RUST_SCHEDULE}

pub const RATE: f64 = 0.2;
''',
    stub_at="pub fn area",
    # Only the body, no fence: the answer is used as the body as it is.
    stub_reply="std::f64::consts::PI * radius * radius",
    stub_result="pub fn area(radius: f64) -> f64 {\n"
                "    std::f64::consts::PI * radius * radius\n}\n",
    hole_at="todo!();",
    fill_reply="```rust\npub fn sum(xs: &[i32]) -> i32 {\n    let total = xs.iter().sum();\n"
               "    total\n}\n```",
    fill_result="pub fn sum(xs: &[i32]) -> i32 {\n    let total = xs.iter().sum();\n    total\n}\n",
    complex_at="_ => best = Some((w, load)),",
    one_liner_at="pub const RATE",
    strong_reply="```rust\n" + RUST_SCHEDULE.replace(".sum()", ".sum::<u32>()") + "\n```",
    strong_result=RUST_SCHEDULE.replace(".sum()", ".sum::<u32>()"),
)

CASES = [PYTHON, TYPESCRIPT, GO, RUST]


def _section(text: str, start: str, length_of: str) -> str:
    """The part of `text` from `start` that is as long as `length_of` (to compare results)."""
    at = text.index(start)
    return text[at : at + len(length_of)]


@pytest.fixture
def tiers() -> object:
    with FakeModelServer() as fast, FakeModelServer() as strong:
        yield fast, strong


@pytest.mark.parametrize("case", CASES, ids=[c.language for c in CASES])
async def test_actions_per_language(case: Case, tiers: tuple[FakeModelServer, FakeModelServer],
                                    tmp_path: Path) -> None:
    fast, strong = tiers
    async with action_session(fast, strong, tmp_path) as client:
        uri = open_file(client, tmp_path, case.file, case.text, case.language)

        # Listing: what is offered where, and no model is called for it.
        at_stub = await list_actions(client, uri, position_of(case.text, case.stub_at, 2))
        at_hole = await list_actions(client, uri, position_of(case.text, case.hole_at, 1))
        at_complex = await list_actions(client, uri, position_of(case.text, case.complex_at))
        at_one_liner = await list_actions(client, uri, position_of(case.text, case.one_liner_at))
        assert GENERATE in kinds(at_stub) and STRONGER not in kinds(at_stub)
        assert FILL in kinds(at_hole)
        assert [a["data"]["task"] for a in at_complex if a["kind"] == STRONGER] == \
            ["improve", "fix", "explain"]
        assert STRONGER not in kinds(at_one_liner)
        for action in at_stub + at_hole + at_complex:
            assert "edit" not in action and action["data"]["version"] == 1
            assert "command" not in action  # VS Code resolves; no command to run twice
        assert fast.requests == [] and strong.requests == []

        # Generate function: the fast model's answer replaces the stub.
        fast.reply = case.stub_reply
        resolved = await resolve(client, one(at_stub, GENERATE, "body"))
        after = apply_edit(case.text, resolved["edit"], uri, 1)
        assert _section(after, case.stub_at, case.stub_result) == case.stub_result
        assert resolved["edit"].get("changeAnnotations") is None
        assert len(fast.requests) == 1 and strong.requests == []
        assert fast.requests[0].path == "/v1/chat/completions"
        assert fast.requests[0].body["model"] == "fast-model"
        assert case.stub_at in user_prompt(fast.requests[0].body)

        # Fill template: one request that sees the hole; the skeleton is replaced, filled.
        fast.reply = case.fill_reply
        resolved = await resolve(client, one(at_hole, FILL))
        after = apply_edit(case.text, resolved["edit"], uri, 1)
        first_line = case.fill_result.split("\n", 1)[0]
        assert _section(after, first_line, case.fill_result) == case.fill_result
        assert len(fast.requests) == 2 and strong.requests == []
        assert case.hole_at.strip(";") in user_prompt(fast.requests[1].body)

        # Ask stronger model: the strong tier, with progress, and an edit.
        strong.reply = case.strong_reply
        resolved = await resolve(client, one(at_complex, STRONGER, "improve"))
        after = apply_edit(case.text, resolved["edit"], uri, 1)
        # Never applied silently: VS Code asks the user to confirm (refactor preview).
        (annotation,) = resolved["edit"]["changeAnnotations"].values()
        assert annotation["needsConfirmation"] is True
        first_line = case.strong_result.split("\n", 1)[0]
        assert _section(after, first_line, case.strong_result) == case.strong_result
        assert len(fast.requests) == 2 and len(strong.requests) == 1
        request = strong.requests[0]
        assert request.path == "/v1/messages" and request.headers["x-api-key"] == KEY
        assert request.body["model"] == "strong-model"
        assert case.complex_at in user_prompt(request.body)
        reports = list(client.progress_reports.values())
        assert len(reports) == 3  # every action reports progress: generate, fill, stronger
        for report in reports:
            assert report[0].kind == "begin" and report[0].cancellable is True
            assert "report" in [r.kind for r in report]
            assert [r.kind for r in report][-1] == "end"
        assert reports[2][0].title.startswith("Spark: Ask stronger model")
