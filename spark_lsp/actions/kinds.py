"""The code actions: their LSP kinds, tasks, and the `data` an action carries from list to run.

The kinds and the `spark.runAction` command are a contract with the editor plugins: keep them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

GENERATE_FUNCTION = "refactor.rewrite.spark.generateFunction"
FILL_TEMPLATE = "refactor.rewrite.spark.fillTemplate"
ASK_STRONGER = "refactor.rewrite.spark.askStronger"
KINDS: tuple[str, ...] = (GENERATE_FUNCTION, FILL_TEMPLATE, ASK_STRONGER)

RUN_ACTION_COMMAND = "spark.runAction"

Task = Literal["body", "create", "fill", "improve", "fix", "explain"]
TASKS_FOR_KIND: dict[str, tuple[str, ...]] = {
    GENERATE_FUNCTION: ("body", "create"),
    FILL_TEMPLATE: ("fill",),
    ASK_STRONGER: ("improve", "fix", "explain"),
}
DEFAULT_TASK = {GENERATE_FUNCTION: "body", FILL_TEMPLATE: "fill", ASK_STRONGER: "improve"}

Pos = tuple[int, int]  # (line, UTF-16 character), as the LSP counts


def wanted(kind: str, only: Sequence[str] | None) -> bool:
    """Whether a client's `context.only` filter asks for this kind (kinds are hierarchical)."""
    if not only:
        return True
    return any(kind == prefix or kind.startswith(prefix + ".") for prefix in only)


class BadActionData(ValueError):
    """`data` (or command arguments) that do not describe an action."""


@dataclass(frozen=True)
class ActionData:
    """What an offered action remembers until it runs: where, on which version, which task."""

    uri: str
    version: int
    start: Pos
    end: Pos
    kind: str
    task: str
    # A retry: "strong" asks the strong tier (or the fast one with a longer budget), and
    # `note` says what went wrong with the answer before.
    tier: str = ""
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        retry = {"tier": self.tier, "note": self.note} if self.tier else {}
        return {**retry,
            "uri": self.uri,
            "version": self.version,
            "range": {
                "start": {"line": self.start[0], "character": self.start[1]},
                "end": {"line": self.end[0], "character": self.end[1]},
            },
            "kind": self.kind,
            "task": self.task,
        }

    @classmethod
    def from_json(cls, raw: Any) -> ActionData:
        """Parse (and check) `data` as an editor sends it back; raises BadActionData."""
        if not isinstance(raw, Mapping):
            raise BadActionData(f"action data must be an object, got {type(raw).__name__}")
        try:
            uri, version, kind = raw["uri"], raw["version"], raw["kind"]
            rng = raw["range"]
            start = (int(rng["start"]["line"]), int(rng["start"]["character"]))
            end = (int(rng["end"]["line"]), int(rng["end"]["character"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise BadActionData(f"action data is missing or has a bad field: {exc}") from exc
        if not isinstance(uri, str) or not isinstance(version, int) or isinstance(version, bool):
            raise BadActionData("action data needs a string uri and an integer version")
        if kind not in TASKS_FOR_KIND:
            raise BadActionData(f"unknown action kind {kind!r}")
        task = raw.get("task") or DEFAULT_TASK[kind]
        if task not in TASKS_FOR_KIND[kind]:
            raise BadActionData(f"task {task!r} does not belong to {kind}")
        if min(*start, *end) < 0:
            raise BadActionData("action range has a negative position")
        tier, note = raw.get("tier") or "", raw.get("note") or ""
        if tier not in ("", "strong") or not isinstance(note, str):
            raise BadActionData(f"bad retry tier {tier!r} or note")
        return cls(uri=uri, version=version, start=start, end=end, kind=kind, task=task,
                   tier=tier, note=note[:500])
