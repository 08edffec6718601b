"""Pieces from other workspace files: the signatures of the names used near the cursor, found
through the current file's imports (following re-exports), else by name in the workspace."""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from spark_lsp.context.local import Near
from spark_lsp.context.packing import Piece
from spark_lsp.context.ranking import Ranking
from spark_lsp.syntax.file_outline import FileOutline
from spark_lsp.syntax.symbols import CONTAINER_KINDS, Import, Symbol

# The scores are `ranking.OtherFiles` and `ranking.Classes`.
MAX_BY_NAME_FILES = 3
MAX_HOPS = 2  # re-exports followed (`from ._models import Request` in `__init__.py`)
MAX_MEMBERS = 40

_PYTHON_BUILTINS = frozenset(dir(builtins)) | {"self", "cls"}


class Workspace(Protocol):
    """What `related_pieces` needs from the workspace (the context engine provides it)."""

    def file(self, path: str) -> FileOutline | None: ...

    def resolve(self, imp: Import, from_path: str, language: str, name: str = ""
                ) -> list[FileOutline]: ...

    def definitions(self, name: str, limit: int = 8) -> list[tuple[FileOutline, Symbol]]: ...

    def label(self, path: str) -> str: ...


@dataclass(frozen=True)
class Found:
    outline: FileOutline
    symbol: Symbol


def _stub(symbol: Symbol, language: str) -> str:
    if symbol.kind != "function" or symbol.signature.rstrip().endswith((";", "}")):
        return ""
    return " ..." if language == "python" else " { ... }"


def symbol_pieces(found: Found, score: float, language: str, comment: str, label: str,
                  wanted: Iterable[str] = (), *, ranking: Ranking) -> list[Piece]:
    """A definition as snippet lines: signature, first doc line, and for a class its members
    (those used near the cursor, and a constructor, first)."""
    symbol = found.symbol
    pieces = [_signature_piece(symbol, score, language, comment, label, symbol.depth)]
    if symbol.kind in CONTAINER_KINDS:
        wanted = set(wanted)
        scores = ranking.classes
        members = found.outline.members(symbol.qualname)[:MAX_MEMBERS]
        for rank, member in enumerate(members):
            boost = scores.wanted_member if member.name in wanted else (
                scores.constructor if member.name in ("__init__", "constructor", "new") else 0.0)
            pieces.append(_signature_piece(member, score - scores.member_of + boost - rank,
                                           language, comment, label, symbol.depth))
    return pieces


def _signature_piece(symbol: Symbol, score: float, language: str, comment: str, label: str,
                     base_depth: int) -> Piece:
    indent = "    " * max(0, symbol.depth - base_depth)
    text = "\n".join(indent + line for line in symbol.signature.split("\n"))
    text += _stub(symbol, language)
    if symbol.doc:
        if language == "python":
            text += f'\n{indent}    """{symbol.doc}"""' if symbol.kind != "variable" else ""
        else:
            text = f"{indent}{comment} {symbol.doc}\n{text}"
    return Piece(score, path=label, order=(symbol.row,), text=text, kind="related")


def _find(outline: FileOutline, name: str, workspace: Workspace, language: str, hops: int
          ) -> list[Found]:
    """Top-level definitions of `name` in a file, following its re-exports."""
    symbols = [s for s in outline.lookup(name) if s.depth == 0]
    if symbols:
        return [Found(outline, s) for s in symbols[:2]]
    if hops <= 0:
        return []
    for imp in outline.imports():
        for binding in imp.bindings:
            if binding.local != name:
                continue
            target = binding.name.split(".")[-1] if binding.name else name
            for other in workspace.resolve(imp, outline.path, language, binding.name):
                found = _find(other, target, workspace, language, hops - 1)
                if found:
                    return found
    return []


def related_pieces(near: Near, imports: Sequence[Import], defined: set[str], path: str,
                   language: str, comment: str, workspace: Workspace,
                   is_excluded: Callable[[str], bool], not_yet_used: Iterable[str] = (), *,
                   ranking: Ranking) -> list[Piece]:
    """Snippet pieces for the names used near the cursor that the file imports or uses
    without defining, then for the imported names the file does not use yet (imported for the
    code being written: see `names.not_yet_used`)."""
    bindings = {b.local: (imp, b) for imp in imports for b in imp.bindings}
    wildcards = [imp for imp in imports if imp.wildcard]
    pieces: list[Piece] = []
    seen: set[tuple[str, int]] = set()

    def add(found: list[Found], score: float, wanted: Iterable[str] = ()) -> None:
        for item in found:
            key = (item.outline.path, item.symbol.row)
            if key in seen or item.outline.path == path or is_excluded(item.outline.path):
                continue
            seen.add(key)
            label = workspace.label(item.outline.path)
            pieces.extend(symbol_pieces(item, score, language, comment, label, wanted,
                                        ranking=ranking))

    scores, use_bonus = ranking.other_files, ranking.code.use_bonus
    waiting = [(name, 0.0) for name in not_yet_used if name not in near.weights]
    for name, weight in [*near.ranked(), *waiting]:
        score = scores.cross + use_bonus * weight
        if name in bindings:
            imp, binding = bindings[name]
            files = workspace.resolve(imp, path, language, binding.name)
            target = binding.name.split(".")[-1].split("::")[-1] if binding.name else ""
            used_attributes = near.attributes.get(name, set())
            for outline in files:
                found = _find(outline, target, workspace, language, MAX_HOPS) if target else []
                if found:
                    add(found, score, used_attributes)
                    break
                for attribute in sorted(used_attributes, key=lambda a: -near.weights.get(a, 0)):
                    add(_find(outline, attribute, workspace, language, MAX_HOPS),
                        score - scores.attribute_step, near.attributes.get(attribute, ()))
        elif name not in defined and not (language == "python" and name in _PYTHON_BUILTINS):
            found = []
            for imp in wildcards:
                for outline in workspace.resolve(imp, path, language):
                    found.extend(_find(outline, name, workspace, language, 1))
            if found:
                add(found, score)
                continue
            if len(name) < 3:
                continue
            hits = [Found(o, s) for o, s in workspace.definitions(name) if o.path != path]
            if 0 < len({f.outline.path for f in hits}) <= MAX_BY_NAME_FILES:
                here = os.path.dirname(path)
                hits.sort(key=lambda f: -len(os.path.commonpath([here, f.outline.path])))
                add(hits[:2], scores.by_name + use_bonus * weight, near.attributes.get(name, ()))
    return pieces


def resolve_name(name: str, imports: Sequence[Import], path: str, language: str,
                 workspace: Workspace) -> list[Found]:
    """Where a name used in the current file is defined in other files: through the import that
    binds it (following re-exports), else by name in the workspace when that is unambiguous."""
    for imp in imports:
        for binding in imp.bindings:
            if binding.local != name:
                continue
            target = binding.name.split(".")[-1].split("::")[-1] if binding.name else ""
            for outline in workspace.resolve(imp, path, language, binding.name):
                found = _find(outline, target or name, workspace, language, MAX_HOPS)
                if found:
                    return found
            return []
    hits = [Found(o, s) for o, s in workspace.definitions(name) if o.path != path
            and s.depth == 0]
    if 0 < len({h.outline.path for h in hits}) <= MAX_BY_NAME_FILES:
        here = os.path.dirname(path)
        hits.sort(key=lambda f: -len(os.path.commonpath([here, f.outline.path])))
        return hits[:1]
    return []


def class_pieces(classes: dict[str, set[str]], score: float, current: FileOutline,
                 imports: Sequence[Import], path: str, language: str, comment: str,
                 workspace: Workspace | None, is_excluded: Callable[[str], bool],
                 header_rows: Callable[[Symbol], tuple[int, ...]], *, ranking: Ranking
                 ) -> tuple[list[Piece], set[str]]:
    """Pieces for classes the nearby code holds instances of (`{class name: attributes used}`):
    their header and members — rows when the class is in this file, a snippet otherwise — and
    the names of those members."""
    pieces: list[Piece] = []
    names: set[str] = set()
    for class_name, wanted in classes.items():
        local = [s for s in current.lookup(class_name) if s.kind in CONTAINER_KINDS]
        if local:
            symbol = local[0]
            pieces.append(Piece(score, rows=header_rows(symbol), kind="typed"))
            for rank, member in enumerate(current.members(symbol.qualname)[:MAX_MEMBERS]):
                names.add(member.name)
                boost = ranking.classes.wanted_member if member.name in wanted else 0.0
                pieces.append(Piece(score - ranking.classes.member_of + boost - rank,
                                    rows=header_rows(member), kind="typed"))
            continue
        if workspace is None:
            continue
        for found in resolve_name(class_name, imports, path, language, workspace):
            if is_excluded(found.outline.path) or found.symbol.kind not in CONTAINER_KINDS:
                continue
            names.update(m.name for m in found.outline.members(found.symbol.qualname))
            label = workspace.label(found.outline.path)
            pieces.extend(replace(p, kind="typed") for p in
                          symbol_pieces(found, score, language, comment, label, wanted,
                                        ranking=ranking))
    return pieces, names
