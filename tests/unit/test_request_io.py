"""A completion's context is built on the event loop without touching the disk: no file opened,
stat'ed, listed or globbed, no other file parsed, no module imported — the workspace index and
the package outlines are prepared in worker threads, and a request uses what is ready."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from spark_lsp.completion.pipeline import prepare
from spark_lsp.context.engine import ContextEngine
from spark_lsp.documents.store import DocumentStore
from spark_lsp.settings import Settings
from spark_lsp.workspace import outliner as outliner_module
from spark_lsp.workspace import packages as packages_module

AUDITED = ("open", "os.listdir", "os.scandir", "glob.glob", "import", "os.walk")
_audit: list[tuple[str, tuple[Any, ...]]] | None = None  # collecting while not None
_watched = -1  # the thread watched: the event loop's (worker threads may read files)


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if _audit is not None and event in AUDITED and threading.get_ident() == _watched:
        _audit.append((event, args))


sys.addaudithook(_hook)  # for the whole test process: it cannot be removed, so it is gated


@contextmanager
def no_file_io(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    """Record every audited file event of this thread, and fail any stat or foreign parse in
    it, inside the block (other threads go on as usual)."""
    global _audit, _watched
    seen: list[tuple[str, tuple[Any, ...]]] = []

    def refuse(module: Any, name: str) -> None:
        real = getattr(module, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() != _watched:
                return real(*args, **kwargs)
            seen.append((f"{module.__name__}.{name}", args))
            raise AssertionError(f"{name}{args} during prepare")

        patch.setattr(module, name, call)

    with monkeypatch.context() as patch:
        refuse(os, "stat")
        refuse(os, "lstat")
        refuse(outliner_module, "outline_source")
        refuse(packages_module, "top_level_names")
        refuse(packages_module, "search_path")
        _audit, _watched = seen, threading.get_ident()
        try:
            yield seen
        finally:
            _audit = None


LIBRARY = "import textwrap\n\n\ndef shout(text):\n    return textwrap.dedent(text).upper()\n"
OTHER = "import colorsys\n\n\ndef hue(rgb):\n    return colorsys.rgb_to_hsv(*rgb)\n"
MAIN = "import colorsys\nimport textwrap\n\nfrom speech import shout\n\n\ndef greet(name):\n" \
       "    loud = shout(name)\n    return loud + \n\n\ndef whisper(name):\n    return name + \n"


def shown(context: Any) -> str:
    return "".join(s.text for s in context.snippets) + context.prefix + context.suffix


async def test_prepare_reads_no_file_and_a_package_outline_arrives_for_a_later_request(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The later request in the same definition keeps the choice made there (see
    `context.sticky`); the next definition the cursor enters gets the outline."""
    (tmp_path / "speech.py").write_text(LIBRARY)
    store = DocumentStore()
    engine = ContextEngine(store)
    engine.set_roots([tmp_path])
    await engine.build_index()  # and the outlines of the packages it imports: textwrap
    (tmp_path / "other.py").write_text(OTHER)  # colorsys: imported since, its outline not made
    await engine.file_saved(str(tmp_path / "other.py"), OTHER)
    uri = (tmp_path / "main.py").as_uri()
    store.open(uri, "python", 1, MAIN)
    await engine.rules.prepare(str(tmp_path / "main.py"))  # as the session does first
    snapshot = store.snapshot(uri)
    assert snapshot is not None
    settings = Settings()

    with no_file_io(monkeypatch) as seen:
        first = prepare(snapshot, 8, 18, settings, engine=engine.view(snapshot)).context
    assert seen == []
    assert "def shout(text)" in shown(first)  # from the index
    assert "# textwrap: dedent" in shown(first)  # a package outline ready when it started
    assert "rgb_to_hsv" not in shown(first)  # colorsys's: asked for, not ready yet

    await engine.packages.wait()  # the worker thread prepared it
    with no_file_io(monkeypatch) as seen:
        same = prepare(snapshot, 8, 18, settings, engine=engine.view(snapshot)).context
        later = prepare(snapshot, 12, 17, settings, engine=engine.view(snapshot)).context
    assert seen == []
    assert same == first
    assert "# colorsys: rgb_to_hsv" in shown(later)


async def test_the_audit_catches_what_it_should(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: file access inside the block is seen."""
    (tmp_path / "x.py").write_text("")
    with no_file_io(monkeypatch) as seen:
        with open(tmp_path / "x.py", encoding="utf-8"):
            pass
        list(os.scandir(tmp_path))
        with pytest.raises(AssertionError):
            os.path.isfile(tmp_path / "x.py")
    assert [event for event, _ in seen] == ["open", "os.scandir", "os.stat"]


async def test_a_worker_thread_may_read_files_meanwhile(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    with no_file_io(monkeypatch) as seen:
        assert await asyncio.to_thread(os.path.isdir, tmp_path)
    assert seen == []
