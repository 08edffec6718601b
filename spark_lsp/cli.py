"""Command line: serve LSP on stdio, complete one place in a file, or diagnose the settings."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path


def _parse_location(text: str) -> tuple[Path, int, int]:
    """PATH:LINE:COL, 1-based like compiler messages."""
    try:
        path, line, col = text.rsplit(":", 2)
        return Path(path), int(line), int(col)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected PATH:LINE:COL (1-based), got {text!r}"
        ) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="spark-lsp", description=__doc__)
    parser.add_argument("--stdio", action="store_true", help="serve LSP on stdio (the default)")
    parser.add_argument("--version", action="store_true")
    sub = parser.add_subparsers(dest="command")
    complete = sub.add_parser("complete", help="print the completion at PATH:LINE:COL (1-based)")
    complete.add_argument("location", type=_parse_location)
    complete.add_argument("--root", type=Path, default=None, help="workspace root (default: cwd)")
    doctor = sub.add_parser("doctor", help="show effective settings, their sources; ping each tier")
    doctor.add_argument("--root", type=Path, default=None)
    args = parser.parse_args(argv)

    if args.version:
        from spark_lsp import __version__

        print(__version__)
        return 0
    if args.command == "complete":
        from spark_lsp.commands import run_complete

        path, line, col = args.location
        return asyncio.run(run_complete(path, line, col, args.root or Path.cwd()))
    if args.command == "doctor":
        from spark_lsp.commands import run_doctor

        return asyncio.run(run_doctor(args.root or Path.cwd()))

    # The index's child process first: its start-up then runs beside the server's, not beside
    # the first completion.
    from spark_lsp.workspace.outliner import Outliner

    outliner = Outliner()
    outliner.start()
    from spark_lsp.server import server
    from spark_lsp.warm import import_now

    server.session.context.start_outliner(outliner)
    import_now()
    server.start_io()
    _exit_now(server.exit_code)
    return server.exit_code


def _exit_now(code: int) -> None:
    """Leave at once: a worker thread (a large index being built) must not hold up `exit`."""
    import logging
    import os

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
