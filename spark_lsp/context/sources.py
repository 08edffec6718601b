"""The candidate sources of a prompt: each a small function from the `Scene` (what the request
sees around the cursor, and the ranking) to scored pieces; `SOURCES` in the order the packer
gets them (it breaks ties by that order), and the names' weights (`name_weight`)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

from spark_lsp.context import expected, imported, local, names, usage
from spark_lsp.context.packing import Piece
from spark_lsp.context.related import related_pieces
from spark_lsp.context.scene import Scene
from spark_lsp.context.weights import name_weights, names_in


def window(scene: Scene) -> list[Piece]:
    """More rows around the cursor, a comment or docstring whole or not at all."""
    return local.whole_blocks(scene.window, scene.prose.blocks, scene.row)


def import_rows(scene: Scene) -> list[Piece]:
    """The import statements the code near the cursor uses."""
    used, _ = scene.split_imports
    return local.import_pieces(used, scene.near, scene.outline.name_counts,
                               ranking=scene.ranking)


def definitions(scene: Scene) -> list[Piece]:
    """The headers of same-file definitions of the names used near the cursor."""
    return scene.definitions[0]


def members(scene: Scene) -> list[Piece]:
    """The enclosing class's members, and the definitions beside the enclosing one."""
    return local.member_pieces(scene.outline, scene.scopes, scene.row, scene.owner,
                               ranking=scene.ranking)


def other_files(scene: Scene) -> list[Piece]:
    """Other workspace files' definitions of the names used near the cursor, then of the
    imported names the file does not use yet."""
    engine, path = scene.engine, scene.snapshot.path
    if engine is None or path is None:
        return []
    return related_pieces(scene.near, scene.imports, scene.definitions[1], path,
                          scene.language, scene.comment, engine, engine.is_excluded,
                          names.not_yet_used(sorted(scene.bound), scene.outline.name_counts),
                          ranking=scene.ranking)


def expected_rows(scene: Scene) -> list[Piece]:
    """The first row below the cursor using each name nothing binds before it."""
    score = scene.ranking.code.expected_row
    return [Piece(score, rows=(r,), kind="expected") for r in set(scene.unbound.values())]


def continuations(scene: Scene) -> list[Piece]:
    """The rows following, elsewhere, the same code as the cursor's (not docstring rows)."""
    score = scene.ranking.code.continuation
    return [Piece(score * (1 + likeness) / 2 - rank, rows=(r,), kind="continuation")
            for rank, (r, likeness) in enumerate(scene.continuations)
            if not scene.is_prose(r)]  # (a docstring's example is no code)


def bindings(scene: Scene) -> list[Piece]:
    """The rows elsewhere binding what the rows below expect."""
    score = scene.ranking.code.binding_row
    return [Piece(score - i, rows=(r,), kind="binding")
            for rows in scene.bindings.values() for i, r in enumerate(rows)]


def imported_names(scene: Scene) -> list[Piece]:
    """`# imported: …`: the names of the imports no code near the cursor uses, those sharing
    words with the nearby names or with rows likely to resemble the missing one first."""
    used, unused = scene.split_imports
    analogous = [r for r, _ in scene.continuations if not scene.is_prose(r)]
    analogous += [r for rows in scene.bindings.values() for r in rows]
    kin = names.Kinship({**_analogous_names(scene, analogous), **scene.near.weights},
                        ranking=scene.ranking)
    return names.imported_name_pieces(unused, scene.outline.name_counts, scene.near.weights,
                                      scene.comment, scene.label, kin, shown=used,
                                      ranking=scene.ranking)


def _analogous_names(scene: Scene, rows: Iterable[int]) -> dict[str, float]:
    weight = scene.ranking.names.analogous
    return {name: weight for r in rows for name in names_in(scene.lines[r])}


def typed_classes(scene: Scene) -> list[Piece]:
    """The enclosing class's bases, the classes of values near the cursor, and their members
    as name lists."""
    return scene.base_classes[0] + scene.held_classes[0] + names.typed_name_pieces(
        scene.typed.receivers, scene.outline, scene.imports, scene.path, scene.language,
        scene.comment, scene.label, scene.workspace, scene.near.weights, scene.is_excluded,
        scene.popularity, ranking=scene.ranking)


def similar(scene: Scene) -> list[Piece]:
    """Rows elsewhere sharing the rarer names used near the cursor."""
    return scene.similar[0]


def receiver_uses(scene: Scene) -> list[Piece]:
    """`# x: …`: the attributes used elsewhere on the values the code near the cursor uses."""
    first, last = scene.window_rows
    return usage.usage_pieces(scene.lines, scene.row, (first, min(len(scene.lines) - 1, last)),
                              scene.near.weights, scene.bound, scene.comment, scene.label,
                              ranking=scene.ranking)


def name_lists(scene: Scene) -> list[Piece]:
    """The enclosing class's members, the file's module-level names, the imported modules'
    names (`names.name_list_pieces`)."""
    enclosing = {symbol.name for s in scene.scopes
                 for symbol in scene.outline.lookup_at(s.start_row)}
    return names.name_list_pieces(scene.outline, scene.owner, scene.inherited,
                                  _imported_modules(scene), scene.near.weights, enclosing,
                                  scene.comment, scene.label, _unassigned(scene),
                                  scene.popularity,
                                  scene.engine.memo if scene.engine is not None else None,
                                  ranking=scene.ranking)


def _imported_modules(scene: Scene) -> list[imported.ImportedModule]:
    """The modules the file imports: looked up in the workspace, then among installed
    packages."""
    engine, path = scene.engine, scene.path
    if engine is None or scene.snapshot.path is None:
        return []
    index = engine.index
    key = (index, path, engine.generation, engine.packages.generation)
    return imported.imported_modules(
        engine.memo, key, scene.imports, path, scene.language, engine, engine.packages,
        engine.is_excluded, functools.partial(index.module_uses, without=path)
        if index is not None else lambda module: {})


def _unassigned(scene: Scene) -> list[str]:
    """The attributes the enclosing class reads on `self` but sets nowhere (see
    `expected.unassigned_attributes`), read around the cursor."""
    klass = next((s for s in scene.scopes if s.kind == "class"), None)
    owner = scene.owner
    if owner is None or klass is None:
        return []
    members = set(names.member_names(scene.outline, owner)) | set(scene.inherited)
    first = max(klass.start_row, scene.row - expected.MAX_CLASS_ROWS // 2)
    return expected.unassigned_attributes(scene.lines, first, klass.end_row, members)


SOURCES: tuple[Callable[[Scene], list[Piece]], ...] = (
    window, import_rows, definitions, members, other_files, expected_rows, continuations,
    bindings, imported_names, typed_classes, similar, receiver_uses, name_lists,
)


def name_weight(scene: Scene) -> Callable[[str], float]:
    """What each name is worth (`weights.name_weights`): members of the enclosing class, of
    its bases and of the classes near the cursor count as members."""
    outline, owner, inherited = scene.outline, scene.owner, scene.inherited
    typed_names = scene.base_classes[1] | scene.held_classes[1]

    def is_member(name: str) -> bool:
        return name in typed_names or name in inherited or (
            owner is not None and outline.has_member(owner.qualname, name))

    return name_weights(outline.name_counts, scene.bound, is_member, outline.is_top_level,
                        scene.near.weights, scene.similar[1], scene.unbound,
                        ranking=scene.ranking)
