"""Whether the calling thread runs an asyncio event loop: workspace file work (reading ignore
files, package sources) is never done there, it is handed to a worker instead."""

from __future__ import annotations

import asyncio


def on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
