"""The code actions end to end: list what applies at a range (from the tree only, no model), and
run one: re-detect on the same version, route, ask the model, clean, validate, re-check version.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from spark_lsp.actions.clean import unclosed_fence
from spark_lsp.actions.complexity import measure, threshold
from spark_lsp.actions.detect import generate_targets, stub_target
from spark_lsp.actions.edits import apply, lsp_range
from spark_lsp.actions.kinds import (
    ASK_STRONGER,
    FILL_TEMPLATE,
    GENERATE_FUNCTION,
    ActionData,
    Pos,
)
from spark_lsp.actions.plan import Plan, change, plan
from spark_lsp.actions.regions import definition_regions, fill_target, selection_region
from spark_lsp.actions.retry import Failures, Key, hint, retry_title
from spark_lsp.actions.running import ProgressSink, Watch, collect
from spark_lsp.actions.shape import AnswerError
from spark_lsp.actions.syntax import Loc, Source
from spark_lsp.actions.targets import FillTarget, GenerateTarget, Region, StrongerTarget
from spark_lsp.actions.validate import check
from spark_lsp.context.view import ContextView
from spark_lsp.documents.store import DocumentSnapshot
from spark_lsp.documents.text import utf16_to_index
from spark_lsp.models.base import ModelError
from spark_lsp.models.router import Route, Router, offers_stronger
from spark_lsp.settings import Settings, model_label

log = logging.getLogger(__name__)

Target = GenerateTarget | FillTarget | StrongerTarget
_DEADLINE_FRACTION = 0.97  # an answer that took this much of timeout_ms was likely cut by it
_TASK_TITLES = {"improve": "improve", "fix": "fix", "explain": "explain as a comment"}
FALLBACK_NOTE = " (fast tier: no strong model configured)"


__all__ = ["ActionService", "LspEdit", "Offer", "Outcome", "ProgressSink", "cut_off"]


@dataclass(frozen=True)
class Offer:
    """An action to list: its title and the data it runs with later."""

    title: str
    data: ActionData


@dataclass(frozen=True)
class LspEdit:
    """One versioned text edit in LSP positions."""

    uri: str
    version: int
    start: Pos
    end: Pos
    new_text: str
    confirm: bool = False  # ask the user before applying (where the client can)


@dataclass(frozen=True)
class Outcome:
    """What running an action gave: an edit, or a message saying why there is none."""

    title: str
    edit: LspEdit | None = None
    message: str | None = None
    cancelled: bool = False
    retry: ActionData | None = None  # the hand-off the message offers (a refused fast answer)


def to_loc(snapshot: DocumentSnapshot, pos: Pos) -> Loc:
    """An LSP position as (row, python index), clamped into the document."""
    row = min(max(pos[0], 0), len(snapshot.lines) - 1)
    if pos[0] > row:
        return row, len(snapshot.lines[row].rstrip("\r\n"))
    return row, utf16_to_index(snapshot.lines[row], pos[1])


def cut_off(raw: str, elapsed_s: float, timeout_ms: int) -> str | None:
    """Why an answer looks cut off (a stream ended by the tier's deadline or a broken
    connection keeps the text it had), else None. A cut answer is never applied."""
    if timeout_ms > 0 and elapsed_s >= timeout_ms / 1000 * _DEADLINE_FRACTION:
        return (f"the answer was cut off at the model's time limit (timeout_ms {timeout_ms}); "
                "raise it for long answers")
    if unclosed_fence(raw):
        return "the answer was cut off (its code block never ends)"
    return None


def _key(data: ActionData, target: Target) -> Key:
    """A target's identity on one document version (where a retry is offered again)."""
    if isinstance(target, GenerateTarget):
        where = f"{target.name}@{target.placement.start}"
    else:
        where = f"{target.region.first}-{target.region.last}"
    return data.uri, data.version, data.kind, data.task, where


def _what(target: Target) -> str:
    """What progress says is being generated."""
    if isinstance(target, GenerateTarget):
        return f"generating `{target.name}`"
    if isinstance(target, FillTarget):
        return f"filling {target.region.label}"
    return f"{target.task} {target.region.label}"


async def _ask_all(route: Route, steps: Plan, watch: Watch) -> list[str]:
    """Each step's answer in turn, all within the plan's one deadline."""
    raws = []
    deadline = time.monotonic() + steps.deadline_ms / 1000
    for i, step in enumerate(steps.steps):
        if len(steps.steps) > 1:
            watch.step = f" (part {i + 1} of {len(steps.steps)})"
        left_ms = steps.deadline_ms if i == 0 else \
            max(1, int((deadline - time.monotonic()) * 1000))
        request = dataclasses.replace(step.request, deadline_ms=left_ms)
        raws.append(await collect(route.backend, request, step.stops, watch))
    return raws


def settle(src: Source, loc: Loc) -> Loc:
    """A cursor in a line's indentation counts as on its first character (what is offered
    must not depend on the column)."""
    row, index = loc
    line = src.lines[row] if 0 <= row < len(src.lines) else ""
    width = len(line) - len(line.lstrip(" \t"))
    return (row, width) if line.strip() and index < width else loc


def _stronger_region(tree: Any, src: Source, start: Loc, end: Loc) -> Region | None:
    selected = selection_region(src, start, end)
    if selected is not None:
        return selected
    regions = definition_regions(tree, src, start)
    return regions[0] if regions else None


def _title(data: ActionData, target: Target, fell_back: bool) -> str:
    if isinstance(target, GenerateTarget):
        new = " (new, from its call)" if target.task == "create" else ""
        return f"Spark: Generate function `{target.name}`{new}"
    if isinstance(target, FillTarget):
        count = len(target.holes)
        holes = f"{count} hole" + ("s" if count != 1 else "")
        return f"Spark: Fill template ({holes} in {target.region.label})"
    note = FALLBACK_NOTE if fell_back else ""
    return f"Spark: Ask stronger model: {_TASK_TITLES[data.task]}{note}"


class ActionService:
    """Lists and runs code actions; tracks running ones so a `$/cancelRequest` can stop them."""

    def __init__(self) -> None:
        self._requests: dict[Any, asyncio.Task[Any]] = {}
        self.failures = Failures()  # fast-tier failures: a retry is offered on their target

    # -- listing (no model) ------------------------------------------------------------------

    def _targets(self, snapshot: DocumentSnapshot, start: Loc, end: Loc,
                 settings: Settings) -> list[tuple[str, str, Target]]:
        tree = snapshot.tree
        src = Source(snapshot)
        if tree is None or src.rules is None or snapshot.language is None:
            return []
        if start == end:
            start = end = settle(src, start)
        generated = generate_targets(tree, src, start)
        filled = fill_target(tree, src, start, end)
        if start == end and filled is not None and not any(t.task == "body" for t in generated):
            # A cursor on a body line that the tree leaves outside the function (a trailing
            # comment): the stub is the region's own definition.
            stub = stub_target(tree, src, settle(src, (filled.region.first, 0)))
            if stub is not None:
                generated.insert(0, stub)
        found: list[tuple[str, str, Target]] = [
            (GENERATE_FUNCTION, t.task, t) for t in generated
        ]
        if filled is not None:
            found.append((FILL_TEMPLATE, "fill", filled))
        region = _stronger_region(tree, src, start, end)
        if region is not None:
            score = measure(tree, src, region.first, region.last).score
            if offers_stronger(score, threshold(settings.actions.stronger_threshold)):
                for task in ("improve", "fix", "explain"):
                    found.append((ASK_STRONGER, task, StrongerTarget(
                        snapshot.language, region, task, score,
                        src.indent_unit, src.rules.comment)))
        return found

    def offers(self, snapshot: DocumentSnapshot, start: Pos, end: Pos, settings: Settings,
               has_strong: bool) -> list[Offer]:
        """The actions that apply at a cursor or selection. Cheap: reads the tree only."""
        if snapshot.is_binary:
            return []
        begin, finish = to_loc(snapshot, start), to_loc(snapshot, end)
        try:
            found = self._targets(snapshot, begin, finish, settings)
        except Exception:  # editors ask on every cursor move: a bug here must not break them
            log.exception("listing code actions failed for %s", snapshot.uri)
            return []
        offers = []
        for kind, task, target in found:
            data = ActionData(snapshot.uri, snapshot.version, start, end, kind, task)
            title = _title(data, target, not has_strong)
            offers.append(Offer(title, data))
            reason = self.failures.reason(_key(data, target))
            if reason is not None:
                retry = dataclasses.replace(data, tier="strong", note=reason)
                offers.append(Offer(retry_title(title, reason, has_strong), retry))
        return offers

    # -- running -----------------------------------------------------------------------------

    def cancel_request(self, request_id: Any) -> bool:
        """Cancel the action running for this request id (pygls does not cancel commands)."""
        task = self._requests.pop(request_id, None)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    @contextmanager
    def _tracked(self, request_id: Any) -> Iterator[None]:
        task = asyncio.current_task()
        if request_id is None or task is None:
            yield
            return
        self._requests[request_id] = task
        try:
            yield
        finally:
            if self._requests.get(request_id) is task:
                del self._requests[request_id]

    async def run(
        self,
        data: ActionData,
        snapshot: DocumentSnapshot | None,
        current_version: Callable[[], int | None],
        settings: Settings,
        router: Router,
        progress: ProgressSink | None = None,
        request_id: Any = None,
        has_strong: bool | None = None,
        context: ContextView | None = None,
    ) -> Outcome:
        """Run one action: the model answers, the answer becomes a checked, versioned edit.
        `context`: the context engine's view of the document (index, outlines, tokenizer)."""
        with self._tracked(request_id):
            if snapshot is None:
                return Outcome("Spark", message=f"{data.uri} is not open")
            if snapshot.version != data.version:
                return Outcome("Spark", message="The document changed since the action was "
                               "offered; ask for the action again.")
            begin, finish = to_loc(snapshot, data.start), to_loc(snapshot, data.end)
            matching = [t for kind, task, t in self._targets(snapshot, begin, finish, settings)
                        if kind == data.kind and task == data.task]
            if not matching:
                return Outcome("Spark", message="This action no longer applies here.")
            strong = settings.strong is not None if has_strong is None else has_strong
            return await self._run_target(data, matching[0], snapshot, current_version,
                                          settings, router, progress, strong, context)


    async def _run_target(self, data: ActionData, target: Target, snapshot: DocumentSnapshot,
                          current_version: Callable[[], int | None], settings: Settings,
                          router: Router, progress: ProgressSink | None,
                          has_strong: bool, context: ContextView | None = None) -> Outcome:
        score = target.score if isinstance(target, StrongerTarget) else 0.0
        cut = threshold(settings.actions.stronger_threshold)
        try:
            route = router.route("strong") if data.tier == "strong" else \
                router.route_for_action(data.kind, score, cut)
        except ValueError as exc:
            return Outcome("Spark", message=f"Spark: cannot reach a model: {exc}")
        title = _title(data, target, route.fell_back)
        if data.tier == "strong":
            title = retry_title(title, data.note, not route.fell_back)
        log.info("%s: %s tier (%s), score %.1f", title, route.tier, model_label(route.settings),
                 score)
        try:
            steps = plan(data, target, snapshot, settings, route, context)
        except AnswerError as exc:
            return Outcome(title, message=f"{title}: not possible here: {exc}.")
        watch = Watch(_what(target), route.settings.model or route.settings.provider, progress)
        cancelled_by_user = False
        work: asyncio.Future[list[str]] | None = None

        def cancel() -> None:
            nonlocal cancelled_by_user
            cancelled_by_user = True
            if work is not None:
                work.cancel()

        ticker: asyncio.Future[None] | None = None
        try:
            if progress is not None:
                await progress.begin(title, watch.message(), cancel)
            if cancelled_by_user:
                return Outcome(title, message="Cancelled.", cancelled=True)
            ticker = asyncio.ensure_future(watch.tick())
            work = asyncio.ensure_future(_ask_all(route, steps, watch))
            raws = await work
            elapsed = time.monotonic() - watch.started
            if progress is not None:
                progress.report("checking the answer")
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if cancelled_by_user and (current is None or not current.cancelling()):
                return Outcome(title, message="Cancelled.", cancelled=True)
            raise
        except ModelError as exc:
            log.warning("%s failed (%s): %s", title, exc.kind, exc)
            return self._refused(data, target, title, route, has_strong,
                                 f"the {route.tier} model failed: {exc}", failed=True)
        finally:
            for task in (work, ticker):
                if task is not None and not task.done():
                    task.cancel()
            if progress is not None:
                progress.end("cancelled" if cancelled_by_user else "done")
        truncated = next((t for t in (cut_off(raw, elapsed, steps.deadline_ms) for raw in raws)
                          if t is not None), None)
        if truncated is not None:
            return self._refused(data, target, title, route, has_strong, truncated)
        return self._finish(data, target, raws, steps, snapshot, current_version, title, route,
                            has_strong)

    def _refused(self, data: ActionData, target: Target, title: str, route: Route,
                 has_strong: bool, reason: str, failed: bool = False) -> Outcome:
        """A refusal (or a model failure) with its reason; a fast-tier one offers the retry."""
        log.warning("%s: not applied: %s", title, reason)
        head = f"{title}: " + ("" if failed else "not applied: ") + reason.rstrip(".") + "."
        if data.kind == ASK_STRONGER or data.tier == "strong" or route.tier != "fast":
            return Outcome(title, message=head)
        self.failures.record(_key(data, target), reason)
        retry = dataclasses.replace(data, tier="strong", note=reason)
        return Outcome(title, message=head + hint(has_strong), retry=retry)

    def _finish(self, data: ActionData, target: Target, raws: list[str], steps: Plan,
                snapshot: DocumentSnapshot, current_version: Callable[[], int | None],
                title: str, route: Route, has_strong: bool) -> Outcome:
        try:
            edit = change(target, raws, steps, snapshot)
        except AnswerError as exc:
            return self._refused(data, target, title, route, has_strong, str(exc))
        problem = check(snapshot.language, snapshot.tree, apply(snapshot, edit))
        if problem is not None:
            return self._refused(data, target, title, route, has_strong, problem)
        if current_version() != data.version:
            return Outcome(title, message=f"{title}: not applied: the document changed while "
                           "the model was working.")
        self.failures.forget(_key(data, target))
        start, end = lsp_range(snapshot, edit)
        return Outcome(title, edit=LspEdit(data.uri, data.version, start, end, edit.text,
                                           confirm=data.kind == ASK_STRONGER
                                           or data.tier == "strong"))
