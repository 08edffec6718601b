"""The outliner: files indexed in a child process give what indexing them here gives; a caller
that stops early leaves the child in step; without a child, files are indexed here."""

from __future__ import annotations

from pathlib import Path

import pytest

from spark_lsp.workspace import outliner as outliner_module
from spark_lsp.workspace.outliner import Job, Outliner, index_file

SOURCE = "import os\n\n\nclass Box:\n    def size(self):\n        return os.sep.join(self.parts)\n"


def _jobs(tmp_path: Path, count: int) -> list[Job]:
    jobs = []
    for i in range(count):
        path = tmp_path / f"m{i}.py"
        path.write_text(SOURCE.replace("Box", f"Box{i}"))
        jobs.append(Job(str(path), "python", None, 100_000))
    return jobs


def _summary(result: object) -> object:
    assert result is not None
    outline = result.outline  # type: ignore[attr-defined]
    return (outline.path, sorted(outline.names()), [i.text for i in outline.imports()],
            result.uses, sorted(result.attributes))  # type: ignore[attr-defined]


def test_the_child_indexes_as_this_process_does(tmp_path: Path) -> None:
    jobs = _jobs(tmp_path, 9)
    jobs.append(Job(str(tmp_path / "missing.py"), "python", None, 100_000))
    outliner = Outliner()
    try:
        results = list(outliner.index(jobs))
        assert outliner._child is not None  # (it ran in the child)
        assert [job for job, _ in results] == jobs
        assert results[-1][1] is None
        for job, result in results[:-1]:
            assert _summary(result) == _summary(index_file(job))
        assert "Box3" in _summary(results[3][1])[1]  # type: ignore[index]
        stopped = outliner.index(jobs)
        next(stopped)
        stopped.close()  # the child's replies still owed are read: the next call is in step
        again = list(outliner.index(jobs[:2]))
        assert [_summary(r) for _, r in again] == [_summary(r) for _, r in results[:2]]
    finally:
        outliner.close()
    assert outliner._child is None


def test_without_a_child_the_files_are_indexed_here(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outliner_module.sys, "executable", str(tmp_path / "no-python"))
    outliner = Outliner()
    results = list(outliner.index(_jobs(tmp_path, 2)))
    assert outliner._broken and outliner._child is None
    assert [_summary(r)[1] for _, r in results] == [["Box0", "size"], ["Box1", "size"]]


def test_files_are_indexed_here_until_the_child_is_ready(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A build does not wait long for a child slow to start (a busy machine)."""
    monkeypatch.setattr(outliner_module, "READY_SECONDS", 0.01)
    monkeypatch.setattr(outliner_module, "CHILD", "import time\ntime.sleep(0.3)\n"
                        + outliner_module.CHILD)
    jobs = _jobs(tmp_path, 2)
    outliner = Outliner()
    try:
        first = list(outliner.index(jobs))
        assert not outliner._ready.is_set()  # indexed here meanwhile
        assert [_summary(r) for _, r in first] == [_summary(index_file(j)) for j in jobs]
        assert outliner._ready.wait(10)
        again = list(outliner.index(jobs))  # now through the child
        assert [_summary(r) for _, r in again] == [_summary(r) for _, r in first]
    finally:
        outliner.close()
