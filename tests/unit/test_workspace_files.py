"""What the workspace reads: regular files only (no FIFO, device or link to one), links judged by
their target too, and ignore files read and compiled off the event loop, once per content."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest

from spark_lsp.settings import ContextSettings
from spark_lsp.workspace import ignore
from spark_lsp.workspace.files import read_regular
from spark_lsp.workspace.ignore import IgnoreRules
from spark_lsp.workspace.index import WorkspaceIndex, read_source

CANARY = "CANARY_7f3a9e"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "config" / "secrets").mkdir(parents=True)
    (root / "sub").mkdir()
    (root / ".env").write_text(f"TOKEN={CANARY}\n")
    (root / "config" / "secrets" / "x.py").write_text(f"KEY = '{CANARY}'\n")
    (root / "app.py").write_text("def app(): pass\n")
    (root / "sub" / "ok.py").write_text("def ok(): pass\n")
    (tmp_path / "outside.py").write_text(f"OUT = '{CANARY}'\n")
    os.symlink(root / ".env", root / "notes.py")
    os.symlink(root / "config" / "secrets" / "x.py", root / "app_config.py")
    os.symlink(tmp_path / "outside.py", root / "escape.py")
    os.symlink("/proc/self/fd/0", root / "stdin.py")
    os.symlink("/dev/zero", root / "zero.py")
    os.mkfifo(root / "pipe.py")
    os.mkfifo(root / "sub" / ".gitignore")
    return root


def settings() -> ContextSettings:
    return ContextSettings()


def test_only_regular_files_are_read(repo: Path) -> None:
    assert read_regular(repo / "app.py", 1000) == b"def app(): pass\n"
    for name in ("pipe.py", "stdin.py", "zero.py", "sub/.gitignore"):
        assert read_regular(repo / name, 1000) is None, name
        assert read_source(str(repo / name), 1000) is None, name


@pytest.mark.timeout(30)
def test_the_index_skips_fifos_devices_and_links_out_or_to_excluded_files(repo: Path) -> None:
    index = WorkspaceIndex([repo], settings())
    done = threading.Thread(target=index.build, daemon=True)
    done.start()
    done.join(20)
    assert not done.is_alive(), "the index blocked on a file that is not a regular file"
    names = sorted(Path(p).name for p in index.paths())
    assert names == ["app.py", "ok.py"]


@pytest.mark.parametrize("name", ["notes.py", "app_config.py", "escape.py"])
def test_a_link_is_excluded_when_its_target_is(repo: Path, name: str) -> None:
    rules = IgnoreRules([repo], settings().exclude)
    assert rules.is_excluded(repo / name)
    index = WorkspaceIndex([repo], settings(), rules)
    assert not index.update_file(str(repo / name), "text the editor saved")


def test_a_link_to_an_allowed_file_is_allowed(repo: Path) -> None:
    os.symlink(repo / "app.py", repo / "alias.py")
    assert not IgnoreRules([repo], settings().exclude).is_excluded(repo / "alias.py")


def test_ignore_files_are_compiled_once_per_content(repo: Path, monkeypatch: pytest.MonkeyPatch
                                                    ) -> None:
    (repo / ".gitignore").write_text("".join(f"generated_{i}.py\n" for i in range(3000)))
    ignore._compile.cache_clear()
    rules = IgnoreRules([repo], ())
    assert rules.is_excluded(repo / "generated_7.py")
    rules.forget_gitignores()  # a watched-file event: re-read, same content
    assert rules.is_excluded(repo / "generated_8.py")
    again = IgnoreRules([repo], ())
    assert again.is_excluded(repo / "generated_9.py")
    info = ignore._compile.cache_info()
    assert info.misses == 1 and info.hits >= 2


async def test_on_the_event_loop_ignore_files_are_read_in_a_worker(repo: Path,
                                                                   monkeypatch: pytest.MonkeyPatch
                                                                   ) -> None:
    (repo / ".gitignore").write_text("app.py\n")
    reads: list[str] = []
    real = ignore.read_regular

    def spy(path: str | os.PathLike[str], max_bytes: int) -> bytes | None:
        reads.append(threading.current_thread().name)
        return real(path, max_bytes)

    monkeypatch.setattr(ignore, "read_regular", spy)
    rules = IgnoreRules([repo], ())
    main = threading.current_thread().name
    assert rules.is_excluded(repo / "sub" / "ok.py")  # unknown yet: excluded meanwhile
    await rules.prepare(repo / "sub" / "ok.py")
    assert not rules.is_excluded(repo / "sub" / "ok.py")
    assert rules.known(repo / "sub" / "ok.py")
    await rules.prepare(repo / "app.py")
    assert rules.is_excluded(repo / "app.py")
    assert reads and main not in reads
    for _ in range(100):  # the background read the first call started ends too
        if not rules._pending:
            break
        await asyncio.sleep(0.05)


async def test_a_large_ignore_file_is_not_matched_on_the_event_loop(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / ".gitignore").write_text("".join(f"gen_{i}.py\n" for i in range(2000)))
    rules = IgnoreRules([repo], ())
    await rules.prepare(repo / "app.py")  # read and compiled in a worker
    monkeypatch.setattr(rules, "_load_later", lambda key: None)  # no background decision
    assert rules.is_excluded(repo / "gen_1.py")  # not matched here: excluded meanwhile
    assert not rules.known(repo / "gen_1.py")
    await rules.prepare(repo / "gen_1.py")
    await rules.prepare(repo / "sub" / "ok.py")
    assert rules.is_excluded(repo / "gen_1.py") and not rules.is_excluded(repo / "sub" / "ok.py")


async def test_new_rules_on_the_event_loop_do_not_empty_the_index(repo: Path) -> None:
    index = WorkspaceIndex([repo], settings())
    await asyncio.to_thread(index.build)
    assert len(index) == 2
    (repo / ".gitignore").write_text("app.py\n")
    rules = IgnoreRules([repo], ())
    rules._load_later = lambda key: None  # type: ignore[method-assign]
    index.update_settings(settings(), rules)  # on the loop: the .gitignore is not read here
    assert len(index) == 2  # undecided yet: kept (readers filter)
    assert index.is_excluded(str(repo / "app.py"))  # meanwhile
    await asyncio.to_thread(index.prune_excluded)
    assert sorted(Path(p).name for p in index.paths()) == ["ok.py"]
