"""The scores and weights that decide what a prompt holds, in one typed table (`Ranking`).

How they combine. The pieces that always go in (`Plan.first`: the enclosing headers, the rows
right around the cursor) are taken by score alone, highest first. Every other piece competes by
value per token (`packing.pack_by_gain`): its score / `packing.score_scale`, plus the weight
(`weights`) of each name it brings that the prompt does not hold yet, over what it costs. So a
score of 1000 is worth as much as one name of weight 1.0, and a row scoring 4000 beats almost
anything of its size. A name list's names are pieces of their own, scored by `names`.

Where each value comes from. Most were set by hand with the first context engine (commit
ba066a4, 2026-11-25: its comments say "tuned with benchmarks/context_recall.py", but no figures
were recorded, and no value has changed since) or with the rule they belong to; a field says
"hand-set" then, with the commit. Where a measurement chose a value the field names the commit
and its figures: "far" is far recall at a 512-token budget (`benchmarks/context_recall.py`) on
the held-out trees, for seeds 0/1/2 where three figures are given; "training" is the commit's
figure for the training trees of `benchmarks/tune_context.py`. `tune_context.py` searches this
table (`--list` shows its fields).

What stays out, and why (each stays in its module):
- counts and caps (`MAX_*`, `MIN_KEY_CHARS`, `local.MAX_HEADER_ROWS`, …): they bound the work
  of one request (rows read, candidates offered, re-exports followed) and so its latency; they
  change what is offered, not what it is worth;
- tie-breakers that only order pieces of the same score (-1 per rank, -distance / 100 or / 1000,
  -rank / 100 within a name list);
- token accounting: the template reserve and separators, `builder.ESTIMATE_MARGIN`,
  `packing.GAP_TOKENS`, `packing.name_cost`, the tokenizer calibration (`tokens`): they say
  what a piece costs, not what it is worth, and were measured against the tokenizer;
- where a line goes in its file's snippet (`names.FIRST_MODULE_LIST`, `usage.FIRST_ORDER`);
- how long a choice is kept (`sticky.GROWTH_RESERVE`, `MAX_CARRIED_ROWS`): prompt stability,
  measured by `benchmarks/prompt_stability.py`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace


@dataclass(frozen=True)
class Window:
    """The rows of the edited file around the cursor."""

    # The enclosing definitions' headers (innermost first, -1 per level): the highest of the
    # pieces that always go in, so no row displaces them. The rows always in score just below
    # it (header - 1 - distance / 1000). Hand-set (ba066a4).
    header: float = 1000.0
    # A row above the cursor in its function, less `prefix_decay` per row of distance: the
    # nearest rows first, and above most other rows of the file (40 rows up a row scores 700,
    # as an import row does). Hand-set (ba066a4).
    prefix: float = 900.0
    prefix_decay: float = 5.0
    # A row below the cursor, less `suffix_decay` per row: below the rows above it (they say more
    # of what comes next) and decaying almost three times as fast. Hand-set (ba066a4).
    suffix: float = 880.0
    suffix_decay: float = 14.0
    # Per row beyond the enclosing function (above the cursor: instead of `prefix_decay`) or
    # block (below: on top of `suffix_decay`). Hand-set (ba066a4).
    outside_decay: float = 12.0
    # Less for a row below the cursor's block, and as much again below its function: the rest
    # of the function first, the next definition last. Hand-set (ba066a4, written in the code).
    below_block: float = 150.0
    below_function: float = 150.0
    # Shares of the budget the rows right above / below the cursor (in its function / block)
    # always take. Above: 0.3 (ba066a4) → 0.25 when those rows began to skip blank and comment
    # rows (3e94e42: recall all +0.01 on both tree sets, far -1/-2 ids). Below: 0.1 → 0.15
    # (bdc0514: +1 far id on each of four samples).
    prefix_share: float = 0.25
    suffix_share: float = 0.15
    # The share (of the budget, taken from `prefix_share`) for the comments or docstring right
    # above the cursor: what the next line is meant to do. Hand-set (dfb5b94): a comment typed
    # above the cursor in a long file was lost to rows with names at 256 tokens, a docstring
    # above a function's first row elided at 512; recall figures unchanged.
    intent_share: float = 0.1


@dataclass(frozen=True)
class Nearness:
    """Which names count as used near the cursor, and how much each (`local.near_names`)."""

    # The rows above / below the cursor (within its function) whose names are "near": they
    # choose the imports, definitions, classes and name lists offered. Hand-set (ba066a4).
    rows_above: int = 12
    rows_below: int = 4
    # A near name's weight per use is 1 / (1 + distance / decay_rows): 1.0 on the cursor's row,
    # 0.5 four rows away. Hand-set (ba066a4).
    decay_rows: float = 4.0


@dataclass(frozen=True)
class Code:
    """Rows of the edited file away from the cursor."""

    # An import statement the code near the cursor uses (plus `use_bonus` times the name's
    # nearness). Hand-set (ba066a4); the imports nothing near uses became a name list
    # (`names.imported_name`, 34c4d7a).
    import_row: float = 700.0
    # The header of a same-file definition of a name used near the cursor, plus `use_bonus`
    # times the name's nearness: just below an import. Hand-set (ba066a4).
    definition: float = 660.0
    # Times the nearness of the name a piece is for (`Nearness`: summed over its uses, 1.0 for
    # one use on the cursor's row): imports, same-file definitions, other files' definitions
    # (`OtherFiles`). Hand-set (ba066a4).
    use_bonus: float = 40.0
    # A member of the enclosing class, less `rank_decay` per member between it and the cursor:
    # below same-file definitions of used names. Hand-set (ba066a4).
    member: float = 460.0
    # A definition beside the outermost enclosing one, less `rank_decay` per rank. Hand-set
    # (ba066a4).
    sibling: float = 380.0
    rank_decay: float = 3.0
    # The row elsewhere sharing the most rare names with the code near the cursor (others in
    # proportion). 500 (ba066a4) → 300 when name lists came (216dae3; no figures recorded).
    similar: float = 300.0
    # The first row below the cursor using a name nothing binds before it (`expected`): it
    # says what the missing code must bind. Hand-set (50efc48).
    expected_row: float = 850.0
    # A row elsewhere binding a name the rows below expect (`expected.binding_rows`), -1 for
    # the second: often the very statement the cursor is missing. Set far above every other
    # score so that it goes in whenever it fits. Hand-set (662e6b9); no figures recorded.
    binding_row: float = 4000.0
    # A row following, elsewhere, the same row as the cursor's (`repeats`), times
    # (1 + likeness) / 2 of the rows before, -1 per rank: what came after the same code last
    # time. Far above the rest too, below `binding_row`. Hand-set (662e6b9); no figures recorded.
    continuation: float = 3000.0


@dataclass(frozen=True)
class Classes:
    """The classes the code near the cursor holds instances of, and the enclosing class's bases
    (rows of this file, or snippets of another)."""

    # The class of a value used near the cursor (annotated, constructed, duck-typed). Hand-set
    # (ba066a4).
    typed: float = 640.0
    # A base class of the enclosing class. Hand-set (ba066a4).
    base_class: float = 560.0
    # How much less a member of such a class (or of a class found in another file) scores than
    # the class, -1 per rank. Hand-set (ba066a4).
    member_of: float = 200.0
    # More for a member the code near the cursor uses on the value, and (in another file's
    # snippet) for a constructor (`__init__`, `constructor`, `new`): those first. Hand-set
    # (ba066a4, written in the code).
    wanted_member: float = 190.0
    constructor: float = 170.0


@dataclass(frozen=True)
class OtherFiles:
    """Definitions in other workspace files of the names used near the cursor (`related`)."""

    # Found through the import that binds the name (plus `Code.use_bonus` times its nearness).
    # Hand-set (ba066a4).
    cross: float = 650.0
    # Found by name alone (no import says where it comes from; at most 3 files have it):
    # less sure. Hand-set (ba066a4).
    by_name: float = 520.0
    # Less for an attribute of an imported module (`module.name`) than for the module's own
    # name. Hand-set (ba066a4, written in the code).
    attribute_step: float = 5.0


@dataclass(frozen=True)
class Names:
    """Name lists (`names`, `usage`): one comment line per source of names, one piece per name;
    a name's score adds up the rules it meets."""

    # A public name of an imported module: low, as most of a module's names go unused; the
    # rules below raise the likely ones. Hand-set (216dae3).
    name: float = 60.0
    # More when the module's alias is used near the cursor (times its nearness, at most 1).
    # Hand-set (216dae3).
    alias_near: float = 100.0
    # More for the module's name the most workspace files use (the others in proportion).
    # Hand-set (216dae3).
    popular: float = 300.0
    # More for a module's name this file uses too. Hand-set (51d5f9d).
    used_here: float = 100.0
    # More for a class member many workspace files use (log-scaled, all of it at 2**10 files).
    # Hand-set (4f1214a).
    popular_member: float = 400.0
    # A member of the enclosing class; one it inherits; a member of a class a value near the
    # cursor holds. Hand-set (216dae3): own members above inherited ones.
    class_name: float = 600.0
    inherited_name: float = 250.0
    typed_name: float = 400.0
    # More for an attribute the enclosing class reads on `self` but sets nowhere: the code at
    # the cursor may be what sets it. Hand-set (50efc48).
    unassigned_name: float = 400.0
    # A module-level name of this file. Hand-set (216dae3).
    module_name: float = 300.0
    # A name an import binds when no code near the cursor uses it (the import rows themselves
    # go in only for the names used near: a list costs a third of the rows). Hand-set
    # (34c4d7a, replacing a 300 penalty on such import rows).
    imported_name: float = 200.0
    # More for an imported or module-level name the file does not use yet (bound once):
    # likely made for the code being written, so it leads its list. Chosen by context_recall.py:
    # for imported names (128f820) far 0.724/0.626/0.614 → 0.731/0.632/0.620, training
    # 0.606 → 0.615; for module-level names too (8b0120c) far 0.731/0.632/0.620 →
    # 0.737/0.632/0.626, 0.436 → 0.494 at 256 tokens, training 0.615 → 0.625. No other value
    # is on record.
    not_yet_used: float = 1000.0
    # More per word a name shares with the names near the cursor (times their nearness, summed
    # up to `max_kinship`): `content_type` near makes `_guess_content_type` likelier. Hand-set
    # (216dae3).
    kin: float = 500.0
    max_kinship: float = 2.0
    # The nearness, for kinship, of the names in a row elsewhere that binds what the rows below
    # expect or follows the same row as the cursor's: the missing row is often their sibling.
    # Chosen by context_recall.py (1e4ccb6): far 0.724/0.606/0.614 → 0.724/0.613/0.614.
    analogous: float = 0.5
    # An attribute used elsewhere on a value the code near the cursor uses (`usage`). Hand-set
    # (6324899).
    receiver_name: float = 300.0
    # The order within a list (which names are offered: 30 a list, 80 imported): kinship, plus
    # log2(1 + uses in this file) / `order_file_uses`, plus log2(1 + workspace files using it) /
    # `order_workspace_uses`. Hand-set (216dae3).
    order_file_uses: float = 4.0
    order_workspace_uses: float = 8.0


@dataclass(frozen=True)
class Weights:
    """What a name is worth to a prompt, a rough chance the completion needs it
    (`weights.name_weights`): the sum of the rules it meets, at most `cap`."""

    # Every name; more per log2(1 + uses in the file). Hand-set (ba066a4).
    base: float = 0.08
    frequency: float = 0.08
    # A name an import binds; a member of the enclosing class (or of a class near the cursor);
    # a module-level name of this file. Hand-set (ba066a4).
    imported: float = 0.45
    member: float = 0.45
    module: float = 0.35
    # Times the name's nearness (at most 1). Hand-set (ba066a4).
    near: float = 0.5
    # Times how strongly a name co-occurs with the names near the cursor in similar rows
    # elsewhere, counted up to `max_cooccurrence`. Hand-set (ba066a4).
    cooccurring: float = 0.5
    max_cooccurrence: float = 2.0
    # A name the rest of the function uses before anything binds it. Hand-set (50efc48).
    expected: float = 1.0
    cap: float = 1.5  # Hand-set (ba066a4).


@dataclass(frozen=True)
class Packing:
    """How scores and weights make one value (`packing.pack_by_gain`)."""

    # A piece's score counts as score / score_scale name weights. Hand-set (ba066a4).
    score_scale: float = 1000.0
    # A name list's head (and label) is ranked as if shared by this many of its names, which
    # follow at their own small cost. 4 (216dae3) → 8 (7f88cdc: training +2 far ids, held-out
    # +2).
    list_share: int = 8


@dataclass(frozen=True)
class Ranking:
    """Every score and weight of the context stage (see the module docstring). Change a rule
    with `dataclasses.replace`, e.g. `replace(DEFAULT, names=replace(DEFAULT.names,
    not_yet_used=0.0))`, or with `with_values({"names.not_yet_used": 0.0})`."""

    window: Window = field(default_factory=Window)
    nearness: Nearness = field(default_factory=Nearness)
    code: Code = field(default_factory=Code)
    classes: Classes = field(default_factory=Classes)
    other_files: OtherFiles = field(default_factory=OtherFiles)
    names: Names = field(default_factory=Names)
    weights: Weights = field(default_factory=Weights)
    packing: Packing = field(default_factory=Packing)

    def values(self) -> Iterator[tuple[str, float]]:
        """("group.field", value) for every field, in the table's order."""
        for group in fields(self):
            scores = getattr(self, group.name)
            for item in fields(scores):
                yield f"{group.name}.{item.name}", getattr(scores, item.name)

    def with_values(self, changes: Mapping[str, float]) -> Ranking:
        """This table with some fields ("group.field") set; an int field takes an int."""
        groups: dict[str, dict[str, float]] = {}
        for key, value in changes.items():
            group, _, name = key.partition(".")
            scores = getattr(self, group, None)
            if scores is None or group not in {f.name for f in fields(self)} \
                    or name not in {f.name for f in fields(scores)}:
                raise KeyError(f"no field {key!r} in the ranking")
            current = getattr(scores, name)
            groups.setdefault(group, {})[name] = round(value) if isinstance(current, int) \
                else float(value)
        return replace(self, **{group: replace(getattr(self, group), **values)
                                for group, values in groups.items()})


DEFAULT = Ranking()
