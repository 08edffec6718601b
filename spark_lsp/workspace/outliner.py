"""What indexing one file takes — read, parse, outline, the names it uses — and a child process
that does it for the server: tree-sitter's parse holds the GIL for its whole run (~0.1 ms per
KB) and the outline is Python, so a worker thread doing it makes every keystroke wait for the
GIL; the server's thread only unpickles the result (~2 ms for a 120 KB file against ~55 ms).

The child (`CHILD`) runs `main`: length-prefixed pickles over its stdin and stdout (never the
server's stdout, the LSP stream), at a lower priority from its first import on (background
work: the server and the editor go first on a busy machine). It exits when its stdin closes.
"""

from __future__ import annotations

import logging
import pickle
import re
import struct
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from tree_sitter import Parser

from spark_lsp.documents.text import split_lines
from spark_lsp.syntax.file_outline import FileOutline
from spark_lsp.syntax.languages import grammar
from spark_lsp.syntax.outline import outline_tree
from spark_lsp.syntax.symbols import LinesSource
from spark_lsp.workspace.files import read_regular
from spark_lsp.workspace.modules import module_uses

log = logging.getLogger(__name__)

_ATTRIBUTE = re.compile(r"(?<=[\w)\]])\.([A-Za-z_$][\w$]{2,})")
_LENGTH = struct.Struct("!I")
WINDOW = 4  # files sent ahead to the child while the last ones are received
READY_SECONDS = 0.25  # a build waits this long for the child to be ready, then starts here
CHILD = ("import os\nif hasattr(os, 'nice'):\n    os.nice(5)\n"
         "from spark_lsp.workspace.outliner import main\nmain()\n")


def attribute_names(text: str) -> tuple[str, ...]:
    """The distinct names a file uses after a dot (`obj.name`), interned (files share them)."""
    return tuple(sys.intern(name) for name in set(_ATTRIBUTE.findall(text)))


def outline_source(path: str, text: str, language: str) -> FileOutline:
    """Parse and outline one file's text (blocking: run it off the event loop).

    Parsed from bytes, not through a read callback: py-tree-sitter 0.26 leaks every chunk a read
    callback returns. The parse holds the GIL (about 0.1 ms per KB).
    """
    tree = Parser(grammar(language)).parse(text.encode("utf-8"))
    return FileOutline(path, language, outline_tree(tree, LinesSource(split_lines(text)), language))


def read_source(path: str, max_bytes: int) -> str | None:
    """The text of a source file, or None when too big, binary, unreadable or not a regular
    file (a FIFO, a device, a link to one: never opened)."""
    data = read_regular(path, max_bytes)
    if data is None or b"\x00" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class IndexedFile:
    """What the index keeps of one file."""

    outline: FileOutline
    uses: dict[str, dict[str, int]]  # see `modules.module_uses` (Python only)
    attributes: tuple[str, ...]  # see `attribute_names`


@dataclass(frozen=True)
class Job:
    """One file to index: from `text`, else read from disk (at most `max_bytes`)."""

    path: str
    language: str
    text: str | None
    max_bytes: int


def index_file(job: Job) -> IndexedFile | None:
    """Index one file (blocking); None when it is too big, binary or unreadable."""
    text = job.text
    if text is None:
        text = read_source(job.path, job.max_bytes)
    elif len(text) > job.max_bytes:
        text = None
    if text is None:
        return None
    outline = outline_source(job.path, text, job.language)
    uses = module_uses(outline.imports(), text) if job.language == "python" else {}
    return IndexedFile(outline, uses, attribute_names(text))


def _send(stream: IO[bytes], value: object) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(data)) + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        raise EOFError("the outliner closed its output")
    (size,) = _LENGTH.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the outliner closed its output")
    return pickle.loads(data)


class Outliner:
    """Indexes files in a child process, started on first use; in this process when the child
    cannot run (then said once in the log), and while it is not ready yet (its imports: ~0.1
    s, longer on a busy machine at its low priority). One caller at a time (a lock)."""

    def __init__(self) -> None:
        self._child: subprocess.Popen[bytes] | None = None
        self._ready = threading.Event()  # the child said it is ready (or failed to start)
        self._broken = False
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the child now: better before the first completion than beside it."""
        with self._lock:
            self._start()

    def index(self, jobs: Iterable[Job]) -> Iterator[tuple[Job, IndexedFile | None]]:
        """Each job with its result, in order (blocking: a worker thread)."""
        with self._lock:
            child = self._start()
            jobs = iter(jobs)
            if child is not None and not self._ready.wait(READY_SECONDS):
                for job in jobs:  # not ready yet: here, until it is
                    yield job, index_file(job)
                    if self._ready.is_set():
                        break
            if child is None or self._broken:
                for job in jobs:
                    yield job, index_file(job)
                return
            yield from self._through(child, jobs)

    def _through(self, child: subprocess.Popen[bytes], jobs: Iterator[Job]
                 ) -> Iterator[tuple[Job, IndexedFile | None]]:
        assert child.stdin is not None and child.stdout is not None
        sent: list[Job] = []
        try:
            for job in jobs:
                _send(child.stdin, job)
                sent.append(job)
                if len(sent) >= WINDOW:
                    job, result = sent.pop(0), _receive(child.stdout)
                    yield job, result
            while sent:
                job, result = sent.pop(0), _receive(child.stdout)
                yield job, result
        except GeneratorExit:  # the caller stopped early: read what the child still owes
            try:
                for _ in sent:
                    _receive(child.stdout)
            except (OSError, EOFError, pickle.PickleError):
                self._stop()
            raise
        except (OSError, EOFError, pickle.PickleError) as exc:
            log.warning("the outliner process failed (%s): indexing in this process", exc)
            self._stop()
            self._broken = True
            for job in sent:
                yield job, index_file(job)
            for job in jobs:
                yield job, index_file(job)

    def _start(self) -> subprocess.Popen[bytes] | None:
        if self._broken:
            return None
        if self._child is not None and self._child.poll() is None:
            return self._child
        self._ready.clear()
        try:
            self._child = subprocess.Popen(
                [sys.executable, "-c", CHILD],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True)
        except OSError as exc:
            log.warning("cannot start the outliner process (%s): indexing in this process", exc)
            self._broken = True
            return None
        threading.Thread(target=self._wait_ready, args=(self._child,), daemon=True,
                         name="outliner-ready").start()
        return self._child

    def _wait_ready(self, child: subprocess.Popen[bytes]) -> None:
        """Read the child's first message (it has imported what it needs), then let builds
        send it files; a child that dies first leaves indexing to this process."""
        assert child.stdout is not None
        try:
            _receive(child.stdout)
        except (OSError, EOFError, pickle.PickleError, ValueError) as exc:
            if self._child is child:  # (not stopped meanwhile by `close`)
                log.warning("the outliner process did not start (%s): indexing in this "
                            "process", exc)
                self._broken = True
        self._ready.set()

    def _stop(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        for stream in (child.stdin, child.stdout):
            if stream is not None:
                stream.close()
        try:
            child.wait(timeout=2)
        except subprocess.TimeoutExpired:
            child.kill()

    def close(self) -> None:
        """Stop the child (it would stop by itself when this process ends)."""
        if self._lock.acquire(timeout=0.5):  # (a build stops at its next file: cancelled)
            try:
                self._stop()
            finally:
                self._lock.release()
        elif self._child is not None:
            self._child.kill()  # a build still running: it falls back to this process


def main() -> None:
    """The child: index each job it receives, until its input closes."""
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the replies
    _send(sink, "ready")
    while True:
        try:
            job = _receive(source)
        except EOFError:
            return
        try:
            result = index_file(job)
        except Exception:  # a bug on one file: that file is not indexed, the others are
            log.exception("indexing %s failed", job.path)
            result = None
        _send(sink, result)

