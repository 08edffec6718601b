"""A do-nothing pygls server: the floor the latency benchmark measures spark-lsp against.

It keeps pygls's own document handling and answers every inline completion with nothing, so
what it costs per keystroke is what any pygls server pays before doing any work.
"""

from __future__ import annotations

from lsprotocol import types
from pygls.lsp.server import LanguageServer

server = LanguageServer("floor", "0")


@server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
def inline_completion(
    ls: LanguageServer, params: types.InlineCompletionParams
) -> types.InlineCompletionList | None:
    return None


if __name__ == "__main__":
    server.start_io()
