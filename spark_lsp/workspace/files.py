"""Reading workspace files safely: only regular files are opened (never a FIFO, a device or a link
to one such as `/proc/self/fd/0`), without blocking, and never more than a size limit.
"""

from __future__ import annotations

import os
import stat

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)


def is_regular(path: str | os.PathLike[str]) -> bool:
    """Whether `path` is, or links to, a regular file (no open: a stat)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def read_regular(path: str | os.PathLike[str], max_bytes: int) -> bytes | None:
    """The bytes of a regular file of at most `max_bytes`, else None (too big, not a regular
    file, unreadable). Checked before the open, and again on the open file (it may have been
    swapped for a FIFO meanwhile); opened non-blocking, so a FIFO never waits for a writer."""
    if not is_regular(path):
        return None
    try:
        fd = os.open(path, _FLAGS)
    except (OSError, ValueError):
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            return None
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError:
        return None
    finally:
        os.close(fd)
    return None if size > max_bytes else b"".join(chunks)
