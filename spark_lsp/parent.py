"""Exit when the editor is gone: the process named by `initialize`'s `processId`.

An editor that dies (or a remote host such as code-server that drops a window without closing
its pipes) leaves the server with nobody to talk to; LSP asks servers to exit when that process
is gone. Checked every `interval` seconds, off no request's path.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

CHECK_INTERVAL_S = 2.0


def alive(pid: int) -> bool:
    """Whether a process with this id exists (a zombie counts as gone)."""
    if pid <= 0:
        return True  # not a real process id: nothing to watch
    if sys.platform == "win32":
        return _alive_windows(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] == "Z"
    except (OSError, IndexError):
        return False  # no /proc (macOS): kill(0) is all we know


def _alive_windows(pid: int) -> bool:  # pragma: no cover - not run on this platform
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


async def exit_when_gone(pid: int, close: Callable[[], Awaitable[object]],
                         interval: float = CHECK_INTERVAL_S,
                         exit: Callable[[int], object] = os._exit) -> None:
    """Poll `pid`; once it is gone, run `close` (bounded in time) and end the process."""
    while alive(pid):
        await asyncio.sleep(interval)
    log.info("the editor (process %d) is gone: exiting", pid)
    try:
        await asyncio.wait_for(close(), timeout=5.0)
    except Exception:  # exiting anyway: nothing is left to report to
        log.debug("cleanup before exit failed", exc_info=True)
    exit(0)
