"""The `complete` and `doctor` commands: the server's own pipeline and settings, from a shell."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from spark_lsp import settings as settings_mod
from spark_lsp.completion.pipeline import generate, prepare
from spark_lsp.context.engine import ContextEngine
from spark_lsp.documents.store import DocumentStore
from spark_lsp.documents.text import utf16_len
from spark_lsp.models.base import ModelError, ModelTimeout
from spark_lsp.models.router import Router
from spark_lsp.preload import load_model_of
from spark_lsp.syntax.languages import language_for

TIMEOUT_HINT = "raise fast.timeout_ms in spark.toml to wait longer"


def _err(message: str) -> None:
    print(f"spark-lsp: {message}", file=sys.stderr)


async def run_complete(path: Path, line: int, col: int, root: Path) -> int:
    """Print the completion at a 1-based LINE:COL of a file; exit status 1 on any error."""
    result = settings_mod.load(root)
    for problem in result.problems:
        _err(f"settings: {problem}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        _err(f"cannot read {path}: not a text file (UTF-8)")
        return 1
    except OSError as exc:
        _err(f"cannot read {path}: {exc.strerror or exc}")
        return 1
    if "\0" in text:
        _err(f"cannot read {path}: not a text file (it has NUL bytes)")
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
    last_col = utf16_len(snapshot.line_text(line - 1)) + 1
    if col > last_col:
        _err(f"{path}:{line} has {last_col - 1} characters; column {col} is past its end"
             f" (the last is {last_col})")
        return 1
    # The engine labels the file relative to the root, as the server does (an absolute path
    # in the prompt made the answer depend on where the project sits); its index is not built,
    # the outlines of the packages the file imports are.
    engine = ContextEngine(store, result.settings.context)
    engine.set_roots([root])
    await engine.prepare_packages_for(snapshot)
    job = prepare(snapshot, line - 1, col - 1, result.settings, engine=engine.view(snapshot))
    router = Router(result.settings)
    limit_ms = result.settings.fast.timeout_ms
    try:
        route = router.route("fast")
        await load_model_of(route.backend)  # loading is not part of fast.timeout_ms
        started = time.perf_counter()
        suggestion = await generate(job, route.backend, result.settings)
        elapsed_ms = (time.perf_counter() - started) * 1000
    except (ModelError, ValueError) as exc:
        named = isinstance(exc, ModelTimeout) and "timeout_ms" in str(exc)
        hint = f" ({TIMEOUT_HINT})" if isinstance(exc, ModelTimeout) and not named else ""
        _err(f"{exc}{hint}")
        return 1
    finally:
        await router.aclose()
    if suggestion is not None and limit_ms > 0 and elapsed_ms >= limit_ms:
        # The answer was cut at the deadline: a part of a line is no completion to print.
        _err(f"the model's answer was cut at fast.timeout_ms ({limit_ms} ms); {TIMEOUT_HINT}")
        return 1
    if suggestion is None:
        _err("the model had nothing to suggest here")
        return 0
    print(suggestion.text)
    return 0


def _config_file(path: Path) -> str:
    return f"{path} ({'found' if path.is_file() else 'not found'})"


def _rejected_keys(problems: tuple[str, ...]) -> dict[str, str]:
    """Setting keys named by a problem (`fast.provider: expected …`), with the problem."""
    found: dict[str, str] = {}
    for problem in problems:
        key, sep, _ = problem.partition(": ")
        if sep and " " not in key and not key.startswith("/"):
            found[key] = problem
    return found


async def run_doctor(root: Path) -> int:
    """Print each effective setting with its source, then ping each tier. Exit status 1 when
    a setting has a problem or a tier does not answer."""
    result = settings_mod.load(root)
    print("spark-lsp doctor")
    print(f"  user config:      {_config_file(settings_mod.user_config_path())}")
    print(f"  workspace config: {_config_file(root / 'spark.toml')}")
    print("effective settings (source):")
    rejected = _rejected_keys(result.problems)
    for key, value in _flatten(result.settings):
        origin = result.origins.get(key, "default")
        if key in rejected:  # the file's value was refused: the default stands in for it
            origin = f"default; the value in {origin} was rejected"
        print(f"  {key} = {value!r}  ({origin})")
    for problem in result.problems:
        print(f"problem: {problem}")
    router = Router(result.settings)
    status = 1 if result.problems else 0
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
    if status:
        print("doctor: problems found (above)")
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
