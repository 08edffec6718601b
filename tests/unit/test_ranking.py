"""The ranking table: every field documented, fields set by name, and a rule switched off in one
request (through `build_context(ranking=…)`, no module global) changes what its prompt holds."""

from __future__ import annotations

import inspect
from dataclasses import fields, replace

import pytest

from spark_lsp.context.builder import build_context
from spark_lsp.context.engine import ContextEngine
from spark_lsp.context.ranking import DEFAULT, Ranking
from spark_lsp.context.tokens import estimate_tokens
from spark_lsp.documents.store import DocumentStore
from spark_lsp.settings import ContextSettings

URI = "file:///w/a.py"
# `ssl_context` is used below the cursor before anything binds it; `connect_twice`, far below
# the filler, binds it: the row the cursor is missing (`Code.binding_row`).
SOURCE = ('def connect(verify, cert):\n    """Open a pool."""\n    import socket\n\n    \n'
          "    pool = Pool(\n        ssl_context=ssl_context,\n        retries=3,\n    )\n"
          '    message = f"{pool.size} {socket.AF_INET}"\n'
          '    raise ValueError("not ssl_context words " + message)\n\n\n'
          "def connect_twice(verify, cert):\n"
          "    ssl_context = make_context(verify=verify, cert=cert)\n"
          "    return ssl_context\n"
          + "".join(f"\n\ndef unrelated_{i}(value):\n    return value * {i} + {i}\n"
                    for i in range(40)))
BINDING = "    ssl_context = make_context(verify=verify, cert=cert)\n"
BINDING_OFF = replace(DEFAULT, code=replace(DEFAULT.code, binding_row=0.0))


def _prompt(engine: ContextEngine, store: DocumentStore, ranking: Ranking) -> str:
    snapshot = store.snapshot(URI)
    assert snapshot is not None
    ctx = build_context(snapshot, 4, 4, ContextSettings(max_prompt_tokens=160),
                        estimate_tokens, engine=engine.view(snapshot), ranking=ranking)
    assert ctx.prompt_tokens <= 160
    return ctx.prefix + ctx.suffix + "".join(s.text for s in ctx.snippets)


def _opened() -> tuple[ContextEngine, DocumentStore]:
    store = DocumentStore()
    engine = ContextEngine(store)
    store.open(URI, "python", 1, SOURCE)
    return engine, store


def test_switching_one_rule_off_changes_what_the_prompt_holds() -> None:
    assert BINDING in _prompt(*_opened(), DEFAULT)
    assert BINDING not in _prompt(*_opened(), BINDING_OFF)


def test_a_choice_kept_under_one_ranking_is_not_reused_under_another() -> None:
    engine, store = _opened()
    assert BINDING in _prompt(engine, store, DEFAULT)
    assert BINDING not in _prompt(engine, store, BINDING_OFF)  # the same cursor, chosen anew
    assert BINDING in _prompt(engine, store, DEFAULT)


def test_fields_are_set_by_name_an_int_field_keeps_an_int() -> None:
    changed = DEFAULT.with_values({"names.not_yet_used": 0, "packing.list_share": 4.4})
    assert changed.names.not_yet_used == 0.0 and isinstance(changed.names.not_yet_used, float)
    assert changed.packing.list_share == 4 and isinstance(changed.packing.list_share, int)
    assert changed.names.kin == DEFAULT.names.kin and changed.weights is DEFAULT.weights
    assert DEFAULT.names.not_yet_used == 1000.0  # (the table itself is left as it was)
    values = dict(changed.values())
    assert values["names.not_yet_used"] == 0.0 and values["code.binding_row"] == 4000.0
    assert len(values) == sum(len(fields(getattr(DEFAULT, g.name))) for g in fields(DEFAULT))
    for key in ("names.missing", "missing.kin", "names"):
        with pytest.raises(KeyError):
            DEFAULT.with_values({key: 1.0})


def test_every_field_says_what_it_scores_and_where_its_value_comes_from() -> None:
    """A comment right above each field (or on its row): the table is where a newcomer reads
    why a value is what it is."""
    undocumented = []
    for group in fields(Ranking):
        scores = type(getattr(DEFAULT, group.name))
        rows, _ = inspect.getsourcelines(scores)
        for number, row in enumerate(rows):
            name = row.strip().split(":")[0]
            if not row.startswith("    ") or row.startswith("     ") or " = " not in row \
                    or name not in {f.name for f in fields(scores)}:
                continue
            above = [r.strip() for r in rows[:number] if r.strip()]
            commented = "#" in row or (above and above[-1].startswith("#"))
            # a field in a run of fields sharing the comment above the first of them
            shared = above and " = " in above[-1] and not above[-1].startswith("#")
            if not commented and not shared:
                undocumented.append(f"{group.name}.{name}")
    assert not undocumented, undocumented
