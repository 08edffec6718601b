"""The `complete` and `doctor` commands: the server's own pipeline and settings, from a shell."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from spark_lsp import settings as settings_mod
from spark_lsp.completion.pipeline import generate, prepare
from spark_lsp.context.engine import ContextEngine
from spark_lsp.documents.store import DocumentStore
from spark_lsp.models.base import ModelError
from spark_lsp.models.router import Router
from spark_lsp.syntax.languages import language_for


def _err(message: str) -> None:
    print(f"spark-lsp: {message}", file=sys.stderr)


async def run_complete(path: Path, line: int, col: int, root: Path) -> int:
    """Print the completion at a 1-based LINE:COL of a file; exit status 1 on any error."""
    result = settings_mod.load(root)
    for problem in result.problems:
        _err(f"settings: {problem}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _err(f"cannot read {path}: {exc}")
        return 1
    if line < 1 or col < 1:
        _err("LINE and COL are 1-based")
        return 1
    store = DocumentStore()
    uri = path.resolve().as_uri()
    store.open(uri, language_for(None, str(path)) or "plaintext", 0, text)
    snapshot = store.snapshot(uri)
    assert snapshot is not None
    if line > len(snapshot.lines):
        _err(f"{path} has {len(snapshot.lines)} lines; line {line} is past the end")
        return 1
    # The engine labels the file relative to the root, as the server does (an absolute path
    # in the prompt made the answer depend on where the project sits); its index is not built.
    engine = ContextEngine(store, result.settings.context)
    engine.set_roots([root])
    job = prepare(snapshot, line - 1, col - 1, result.settings, engine=engine)
    router = Router(result.settings)
    try:
        route = router.route("fast")
        suggestion = await generate(job, route.backend, result.settings)
    except (ModelError, ValueError) as exc:
        _err(str(exc))
        return 1
    finally:
        await router.aclose()
    if suggestion is None:
        _err("the model had nothing to suggest here")
        return 0
    print(suggestion.text)
    return 0


async def run_doctor(root: Path) -> int:
    """Print each effective setting with its source, then ping each tier."""
    result = settings_mod.load(root)
    print("spark-lsp doctor")
    print(f"  user config:      {settings_mod.user_config_path()}")
    print(f"  workspace config: {root / 'spark.toml'}")
    print("effective settings (source):")
    for key, value in _flatten(result.settings):
        print(f"  {key} = {value!r}  ({result.origins.get(key, 'default')})")
    for problem in result.problems:
        print(f"problem: {problem}")
    router = Router(result.settings)
    status = 0
    try:
        tiers = ["fast", "strong"] if result.settings.strong is not None else ["fast"]
        for tier in tiers:
            started = time.perf_counter()
            try:
                route = router.route(tier)  # type: ignore[arg-type]
                answer = await route.backend.ping()
                elapsed = (time.perf_counter() - started) * 1000
                print(f"{tier}: ok ({route.settings.provider}) {answer} [{elapsed:.0f} ms]")
            except (ModelError, ValueError) as exc:
                print(f"{tier}: FAILED ({exc})")
                status = 1
        if result.settings.strong is None:
            print("strong: not configured; 'Ask stronger model' uses the fast tier")
    finally:
        await router.aclose()
    return status


def _flatten(obj: object, prefix: str = "") -> list[tuple[str, object]]:
    import dataclasses

    items: list[tuple[str, object]] = []
    if not dataclasses.is_dataclass(obj):
        return [(prefix.rstrip("."), obj)]
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            items.extend(_flatten(value, f"{prefix}{f.name}."))
        else:
            items.append((f"{prefix}{f.name}", value))
    return items
