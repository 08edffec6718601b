"""The open documents: their text, version, language and incremental syntax tree.

Only the session writes here (didOpen/didChange/didClose, on the event loop); requests read a
`DocumentSnapshot` taken before their first `await`.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlparse

from tree_sitter import Tree

from spark_lsp.documents.text import TextBuffer, line_body
from spark_lsp.syntax.languages import language_for
from spark_lsp.syntax.tree import IncrementalTree


def uri_to_path(uri: str) -> str | None:
    """The file-system path of a `file:` URI, else None."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return unquote(parsed.path)


def valid_text(text: str) -> str:
    """`text` as UTF-8 can carry it. JSON may hold lone UTF-16 surrogates (valid JSON, invalid
    Unicode); each becomes U+FFFD, also one UTF-16 unit, so every position stays where it was."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


@dataclass
class Document:
    uri: str
    language_id: str
    version: int
    buffer: TextBuffer
    syntax: IncrementalTree | None = None
    path: str | None = None
    language: str | None = None
    is_binary: bool = False
    too_large: bool = False  # over `max_parse_bytes`: no tree until it is back under

    @property
    def tree(self) -> Tree | None:
        return self.syntax.tree if self.syntax is not None else None


@dataclass(frozen=True)
class DocumentSnapshot:
    """What a request reads: frozen before the first await so later edits cannot race it."""

    uri: str
    path: str | None
    version: int
    language_id: str
    language: str | None
    lines: tuple[str, ...]
    tree: Tree | None
    is_binary: bool = False
    # A row the tree has not been reparsed for (`DocumentStore.snapshot(typing_row=…)`): its
    # nodes may not match its text. None: the tree matches the text everywhere.
    stale_row: int | None = None

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def line_text(self, row: int) -> str:
        return line_body(self.lines[row]) if 0 <= row < len(self.lines) else ""


class DocumentStore:
    """URI → Document. Parsing is skipped for binary (NUL-containing) or oversized documents."""

    def __init__(self, max_parse_bytes: int = 20_000_000) -> None:
        self._documents: dict[str, Document] = {}
        self.max_parse_bytes = max_parse_bytes

    def __contains__(self, uri: str) -> bool:
        return uri in self._documents

    def __len__(self) -> int:
        return len(self._documents)

    def get(self, uri: str) -> Document | None:
        return self._documents.get(uri)

    def open(self, uri: str, language_id: str, version: int, text: str) -> Document:
        path = uri_to_path(uri)
        text = valid_text(text)
        buffer = TextBuffer(text)
        document = Document(
            uri=uri, language_id=language_id, version=version, buffer=buffer, path=path
        )
        self._attach_syntax(document, text)
        self._documents[uri] = document
        return document

    def _attach_syntax(self, document: Document, text: str) -> None:
        document.is_binary = "\x00" in text
        language = language_for(document.language_id, document.path)
        document.language = language
        too_big = len(text) > self.max_parse_bytes or (
            len(text) * 4 > self.max_parse_bytes and len(text.encode()) > self.max_parse_bytes
        )
        document.too_large = too_big
        if language is None or document.is_binary or too_big:
            document.syntax = None
            return
        document.syntax = IncrementalTree(language, document.buffer.read_for_tree_sitter)

    def close(self, uri: str) -> None:
        self._documents.pop(uri, None)

    def replace(self, uri: str, version: int, text: str) -> Document | None:
        document = self._documents.get(uri)
        if document is None:
            return None
        text = valid_text(text)
        document.buffer.replace_all(text)
        document.version = version
        self._attach_syntax(document, text)
        return document

    def edit(
        self, uri: str, version: int, start: tuple[int, int], end: tuple[int, int], text: str
    ) -> Document | None:
        """Apply one incremental change (LSP positions); None when the document is not open."""
        document = self._documents.get(uri)
        if document is None:
            return None
        text = valid_text(text)
        change = document.buffer.apply(start, end, text)
        document.version = version
        if "\x00" in text:
            document.is_binary = True
            document.syntax = None
        if (document.syntax is not None and len(text) > 65_536
                and document.buffer.byte_length > self.max_parse_bytes):
            document.syntax = None  # a paste made it too big to parse
            document.too_large = True
        if document.syntax is not None:
            document.syntax.edit(change)
        elif document.is_binary or document.too_large:
            self._recover(document)
        return document

    def _recover(self, document: Document) -> None:
        """Clear the binary / too-large flags once the text no longer earns them (the NUL was
        deleted, the paste undone): the document gets its tree back. Costs a pass over the
        text, only while a flag is set."""
        if document.is_binary and any("\x00" in line for line in document.buffer.lines):
            return
        if document.too_large and document.buffer.byte_length > self.max_parse_bytes:
            return
        self._attach_syntax(document, document.buffer.text)

    def snapshot(self, uri: str, typing_row: int | None = None) -> DocumentSnapshot | None:
        """The document now. With `typing_row`, when every edit since the last parse lies within
        that row, the tree is not reparsed: the snapshot says so in `stale_row`."""
        document = self._documents.get(uri)
        if document is None:
            return None
        tree, stale_row = None, None
        if typing_row is not None and document.syntax is not None:
            tree = document.syntax.edited_tree(typing_row)
            stale_row = typing_row if document.syntax.is_dirty else None
        else:
            tree = document.tree
        return DocumentSnapshot(
            uri=document.uri,
            path=document.path,
            version=document.version,
            language_id=document.language_id,
            language=document.language,
            lines=tuple(document.buffer.lines),
            tree=tree.copy() if tree is not None else None,
            is_binary=document.is_binary,
            stale_row=stale_row,
        )
