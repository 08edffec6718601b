"""Name lists in prompts: packing them name by name, what each list holds, and what reaches a
real prompt (the enclosing class's members, module-level names, imported modules' names)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from spark_lsp.context import hints, imported, names
from spark_lsp.context.builder import build_context
from spark_lsp.context.engine import ContextEngine
from spark_lsp.context.packing import (
    Costs,
    Piece,
    Selection,
    name_cost,
    pack_by_gain,
    render_snippets,
)
from spark_lsp.context.ranking import DEFAULT, Ranking
from spark_lsp.context.sticky import FIRST_RESERVE_TOKENS
from spark_lsp.context.tokens import estimate_tokens
from spark_lsp.context.types import PromptContext
from spark_lsp.documents.store import DocumentStore
from spark_lsp.prompts.fim import comment_header
from spark_lsp.settings import ContextSettings
from spark_lsp.syntax.outline import count_names
from spark_lsp.workspace.index import outline_source


def words(text: str) -> int:
    return len(text.split())


def word_costs(label: int = 1) -> Costs:
    """Costs in words: a row 1, a label `label`, a listed name as `name_cost` has it."""
    return Costs(words, lambda r: 1, lambda p: label, lambda n: name_cost(n, words))


def test_a_name_list_grows_one_name_at_a_time_within_the_budget() -> None:
    items = names.pieces(names.NameList("# self: ", "a.py", 0, (
        ("alpha", 500.0), ("beta", 500.0), ("gamma", 500.0), ("alpha", 500.0))))
    label_cost = 3
    head = words("# self: ")
    selection = Selection()
    pack_by_gain(items, head + label_cost + 2 * name_cost("alpha", words),
                 word_costs(label_cost), lambda p: [p.text], lambda n: 1.0, set(), selection,
                 ranking=DEFAULT)
    assert render_snippets(selection) == [("a.py", "# self: alpha, beta")]
    assert selection.used == head + label_cost + name_cost("alpha", words) + name_cost(
        "beta", words)

    roomy = Selection()
    pack_by_gain(items, 1000, word_costs(), lambda p: [p.text], lambda n: 1.0, set(), roomy,
                 ranking=DEFAULT)
    assert render_snippets(roomy) == [("a.py", "# self: alpha, beta, gamma")]  # once each


def test_a_list_head_is_shared_so_names_beat_a_costlier_row() -> None:
    """A row worth as much as one name, costing as much as head + name, loses to the list."""
    listed = names.pieces(names.NameList("# m: ", "a.py", 0, (("x1", 0.0), ("x2", 0.0))))
    row = Piece(0.0, text="x1 x2 filler words here", path="b.py", order=(1,))
    chosen = pack_by_gain([row, *listed], 9, word_costs(),
                          lambda p: p.text.split()[:2] if p.path == "b.py" else [p.text],
                          lambda n: 1.0, set(), Selection(), ranking=DEFAULT)
    assert [path for path, _ in render_snippets(chosen)] == ["a.py"]


def test_name_costs_err_on_the_side_of_more_tokens() -> None:
    assert name_cost("x", estimate_tokens) == 2  # the name and ", "
    assert name_cost("ALREADY_REPORTED", estimate_tokens) > estimate_tokens(
        ", ALREADY_REPORTED")
    # with the model's own tokenizer: what it counts
    assert name_cost("ALREADY_REPORTED", estimate_tokens, exact=True) == estimate_tokens(
        ", ALREADY_REPORTED")


def test_ranked_names_skip_dunders_privates_of_others_and_nearby_names() -> None:
    got = names.ranked(["run", "__init__", "__secret", "x", "stop", "run", "near", "walk"],
                       {"walk": 5, "stop": 1}, {"near"}, ranking=DEFAULT)
    assert got == ["walk", "stop", "run"]
    assert names.ranked(["a1", "b1", "c1"], {}, (), {"c1": 3, "a1": 1},
                        ranking=DEFAULT) == ["c1", "a1", "b1"]


SOURCE = '''import typing
import a.b
import a.b as ab
from pkg import sub as s
from .rel import thing
__all__ = ["Client"]


class Base:
    def ping(self): ...


class Client(Base):
    limit: int = 3

    def __init__(self):
        self.session = None
        self._retries = 0

    def send(self): ...


def helper(): ...
_PRIVATE = 1
'''


def test_members_module_names_and_module_aliases_of_an_outline() -> None:
    outline = outline_source("/w/mod.py", SOURCE, "python")
    client = next(s for s in outline.lookup("Client") if s.kind == "class")
    assert set(names.member_names(outline, client)) == {
        "limit", "__init__", "session", "_retries", "send"}
    bases = names._bases_of("python", None)
    assert names.inherited_names(outline, client, bases) == ["ping"]
    assert names.module_names(outline, {"helper"}) == ["__all__", "Base", "Client", "_PRIVATE"]
    assert imported.public_names(outline) == ["Base", "Client", "helper"]
    aliases = [(local, dotted) for _, local, dotted in imported.module_aliases(outline.imports())]
    assert aliases == [("typing", "typing"), ("a", "a.b"), ("ab", "a.b"), ("s", "pkg.sub"),
                       ("thing", ".rel.thing")]
    package = outline_source("/w/pkg/__init__.py", "from .core import run, _hidden\n",
                             "python")
    assert imported.public_names(package) == ["run"]  # a package re-exports what it imports


def test_annotations_with_generics_do_not_hide_the_next_parameter() -> None:
    found = hints.variable_types(["def f(self, ctx: Context, fmt: HelpFormatter,"
                                  " m: dict[str, Client] = None) -> None:"])
    assert found == {"ctx": ["Context"], "fmt": ["HelpFormatter"], "m": ["Client"]}


# -- through the builder -------------------------------------------------------------------------

MODELS = '''"""Models."""
import json


TIMEOUT_SECONDS = 30
DEFAULT_ENCODING = "utf-8"


def guess_content_type(name: str) -> str:
    return "text/plain"


class Base:
    def close(self) -> None:
        self.closed_flag = True


class Response(Base):
    def __init__(self, body: bytes) -> None:
        self.body = body
        self._bytes_downloaded = 0

    def read(self) -> bytes:
        self.body = self.body.strip()
        total = len(self.body)
        \n        return self.body
''' + "".join(f'''
    def method_{i}(self) -> int:
        """Method {i}."""
        value = {i} * 2
        return value + {i}
''' for i in range(12)) + '''
    def _prepare(self, headers: dict[str, str]) -> None:
        self.headers = headers
'''


def prompt_text(ctx: PromptContext) -> str:
    return comment_header(ctx) + ctx.prefix + ctx.suffix


def snippet(ctx: PromptContext, label: str) -> str:
    """The text of one file's snippet in a prompt."""
    return {s.path: s.text for s in ctx.snippets}[label]


def names_listed(text: str, head: str) -> list[str]:
    """The names on the list line that starts with `head` (`# math: ` → ["ceil", …])."""
    return text.split(head)[1].split("\n")[0].split(", ")


def _engine(root: Path) -> tuple[ContextEngine, DocumentStore]:
    store = DocumentStore()
    engine = ContextEngine(store)
    engine.set_roots([root])
    assert engine.index is not None
    engine.index.build()
    return engine, store


def _build(engine: ContextEngine, store: DocumentStore, path: Path, row: int, column: int,
           budget: int = 512, ranking: Ranking = DEFAULT) -> PromptContext:
    uri = path.as_uri()
    store.open(uri, "python", 1, path.read_text())
    snapshot = store.snapshot(uri)
    assert snapshot is not None
    return build_context(snapshot, row, column, ContextSettings(max_prompt_tokens=budget),
                         engine=engine.view(snapshot), ranking=ranking)


def test_a_prompt_lists_the_class_members_and_module_names_defined_far_away(
        tmp_path: Path) -> None:
    path = tmp_path / "models.py"
    path.write_text(MODELS)
    engine, store = _engine(tmp_path)
    row = MODELS.split("\n").index("        ")  # the blank line in `read`
    ctx = _build(engine, store, path, row, 8)
    listed = snippet(ctx, "models.py")
    assert "# class Response members: " in listed
    members = names_listed(listed, "# class Response members: ")
    assert "_prepare" in members and "_bytes_downloaded" in members  # far below, in __init__
    assert "close" in members and "closed_flag" in members  # inherited from Base
    module = names_listed(listed, "# module-level names: ")
    assert "guess_content_type" in module
    assert "def _prepare" not in ctx.prefix + ctx.suffix  # far away: only its name
    assert ctx.prompt_tokens <= 512
    assert estimate_tokens(prompt_text(ctx)) + 8 + 2 * len(ctx.snippets) <= 512
    # an upper-case constant costs more tokens (5, a method's name 1-2): it comes with more room
    roomier = _build(engine, store, path, row, 8, budget=640)
    assert "TIMEOUT_SECONDS" in prompt_text(roomier) and roomier.prompt_tokens <= 640


def _installed(root: Path, package: str, source: str) -> None:
    """A package installed in the workspace's own virtualenv (not part of the workspace)."""
    site = root / ".venv" / "lib" / "python3.12" / "site-packages" / package
    site.mkdir(parents=True)
    (site / "__init__.py").write_text(source)


def test_a_module_alias_lists_the_names_the_workspace_uses_from_a_package(
        tmp_path: Path) -> None:
    """`import extlib as ex`: extlib is installed (here: the workspace's own virtualenv), not
    part of the workspace; its names that other workspace files use are listed, most used
    first."""
    _installed(tmp_path, "extlib", "def popular(): ...\ndef rarely(): ...\n"
               "def never_used(): ...\n_private = 1\n")
    (tmp_path / "one.py").write_text("import extlib\nextlib.popular()\nextlib.rarely()\n")
    (tmp_path / "two.py").write_text("from extlib import popular\npopular()\n")
    main = tmp_path / "main.py"
    main.write_text("import extlib as ex\n\n\ndef go():\n    \n")
    engine, store = _engine(tmp_path)
    assert engine.index is not None and engine.index.module_uses("extlib") == {
        "popular": 2, "rarely": 1}
    ctx = _build(engine, store, main, 4, 4)
    # a summary of what the file's alias offers: under the file's own label, the line's head
    # naming the module
    assert "# ex (extlib): popular, rarely" in snippet(ctx, "main.py").split("\n")
    # a name this file uses itself, though no other file does, is listed too
    store.close(main.as_uri())
    main.write_text("import extlib as ex\n\n\ndef setup():\n    ex.never_used()\n\n\n"
                    "def go():\n    \n")
    ctx = _build(engine, store, main, 8, 4)
    assert "# ex (extlib): popular, rarely, never_used" in snippet(ctx, "main.py").split("\n")


def test_a_compiled_module_lists_the_names_the_workspace_uses_from_it(tmp_path: Path) -> None:
    (tmp_path / "one.py").write_text("import math\nmath.ceil(1.5)\nmath.ceil(2.5)\n")
    (tmp_path / "two.py").write_text("import math\nmath.floor(1.5)\n")
    main = tmp_path / "main.py"
    main.write_text("import math\n\n\ndef upper(values):\n    low = math.floor(min(values))\n"
                    "    \n")
    engine, store = _engine(tmp_path)
    ctx = _build(engine, store, main, 5, 4)
    listed = names_listed(snippet(ctx, "main.py"), "# math: ")
    assert listed[0] == "ceil"  # used most by the other files (floor is near)


def test_a_module_imported_in_several_functions_is_listed_once(tmp_path: Path) -> None:
    _installed(tmp_path, "extlib", "def popular(): ...\ndef rarely(): ...\n")
    (tmp_path / "one.py").write_text("import extlib\nextlib.popular()\nextlib.rarely()\n")
    main = tmp_path / "main.py"
    main.write_text("def a():\n    import extlib\n\n\ndef b():\n    import extlib\n\n\n"
                    "def go():\n    \n")
    engine, store = _engine(tmp_path)
    ctx = _build(engine, store, main, 9, 4)
    listed = snippet(ctx, "main.py").split("\n")
    assert listed.count("# extlib: popular, rarely") == 1


def test_an_excluded_package_file_is_never_read(tmp_path: Path) -> None:
    _installed(tmp_path, "extlib", "def popular(): ...\n")
    (tmp_path / ".gitignore").write_text(".venv/\n")
    (tmp_path / "one.py").write_text("import extlib\nextlib.popular()\n")
    main = tmp_path / "main.py"
    main.write_text("import extlib as ex\n\n\ndef go():\n    \n")
    engine, store = _engine(tmp_path)
    ctx = _build(engine, store, main, 4, 4)
    assert "popular" not in prompt_text(ctx)


def test_members_many_workspace_files_use_are_listed_first(tmp_path: Path) -> None:
    methods = "".join(f"    def method_{i:02}(self) -> None: ...\n" for i in range(40))
    (tmp_path / "data.py").write_text(f"class Data:\n{methods}    def start_span(self): ...\n")
    for i in range(3):
        (tmp_path / f"user_{i}.py").write_text(f"def f{i}(d):\n    d.start_span()\n")
    main = tmp_path / "main.py"
    main.write_text("from data import Data\n\n\ndef draw(data: Data) -> None:\n    \n")
    engine, store = _engine(tmp_path)
    ctx = _build(engine, store, main, 4, 4, budget=160)
    listed = snippet(ctx, "data.py")
    assert listed.startswith("# data (Data): start_span, ")  # the 41st member, not cut off
    # without the other files' uses it is one of 41 alike members, after the first 30
    for i in range(3):
        (tmp_path / f"user_{i}.py").unlink()
    engine, store = _engine(tmp_path)
    ctx = _build(engine, store, main, 4, 4, budget=160)
    assert "start_span" not in prompt_text(ctx)


def test_a_parameter_annotated_with_a_class_lists_its_members(tmp_path: Path) -> None:
    (tmp_path / "formatting.py").write_text(
        "class HelpFormatter:\n    def __init__(self, width: int) -> None:\n"
        "        self.width = width\n        self.current_indent = 0\n\n"
        "    def write(self, text: str) -> None: ...\n")
    main = tmp_path / "main.py"
    main.write_text("from formatting import HelpFormatter\n\n\n"
                    "def render(ctx: object, formatter: HelpFormatter) -> None:\n    \n")
    engine, store = _engine(tmp_path)
    ctx = _build(engine, store, main, 4, 4)
    assert "# formatter (HelpFormatter): " in snippet(ctx, "formatting.py")
    listed = names_listed(snippet(ctx, "formatting.py"), "# formatter (HelpFormatter): ")
    assert set(listed) == {"width", "current_indent", "write"}


def test_a_git_ignored_module_on_the_search_path_gives_no_names(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The workspace folder itself is on the search path (a server started there): the ignored
    module is found there, and still never read."""
    from spark_lsp.workspace import packages

    monkeypatch.setattr(packages, "search_path", lambda roots: (str(tmp_path),))
    (tmp_path / "private_helpers.py").write_text("def leak_private_value(): ...\n")
    (tmp_path / ".gitignore").write_text("private_helpers.py\n")
    (tmp_path / "user.py").write_text(
        "import private_helpers\nprivate_helpers.leak_private_value()\n")
    main = tmp_path / "main.py"
    main.write_text("import private_helpers as ph\n\n\ndef go():\n    \n")
    engine, store = _engine(tmp_path)
    assert engine.index is not None
    assert engine.index.module_uses("private_helpers") == {"leak_private_value": 1}
    assert packages.PackageModules(packages.search_path(engine.roots)).find(
        "private_helpers") is not None
    ctx = _build(engine, store, main, 4, 4)
    assert "leak_private_value" not in prompt_text(ctx)
    (tmp_path / ".gitignore").write_text("")
    ctx = _build(*_engine(tmp_path), main, 4, 4)  # the control: not ignored, it is listed
    assert "# ph (private_helpers): leak_private_value" in prompt_text(ctx)


def test_names_sharing_words_with_nearby_names_come_first() -> None:
    kin = names.Kinship({"content_type": 1.0, "builder": 0.5, "add_init": 0.5},
                        ranking=DEFAULT)
    assert names.parts("_guess_content_type") == {"guess", "content", "type"}
    assert names.parts("HTTPServerError") == {"http", "server", "error"}
    assert kin("_guess_content_type") == 2.0 and kin("unrelated") == 0.0
    assert kin("add_attrs_init") == 1.0  # `add` is too short a word; `init` is shared
    got = names.ranked(["alpha", "beta", "add_attrs_init", "_guess_content_type"],
                       {"alpha": 8}, (), kinship=kin, ranking=DEFAULT)
    assert got[:2] == ["_guess_content_type", "add_attrs_init"]


def test_imported_names_sharing_words_with_nearby_names_come_first() -> None:
    text = ("from filtering import alpha, beta, get_integer_bounds, get_float_bounds\n"
            "alpha(); alpha(); beta(); beta()\n")
    outline = outline_source("/w/a.py", text, "python")
    assert outline is not None
    got = names.imported_name_pieces(outline.imports(), outline.name_counts,
                                     {"float_value": 1.0}, "#", "a.py", ranking=DEFAULT)
    assert got[0].text == "get_float_bounds"  # before the others
    assert got[0].score > got[1].score


def test_imported_names_the_file_does_not_use_yet_come_first() -> None:
    """An import nothing uses yet was made for the code being written: its names lead the
    list, also those of a statement whose other names the code near the cursor uses (its
    rows compete as code; its used names are not listed again)."""
    text = ("from filtering import alpha, beta, get_integer_bounds\n"
            "from strategies import Strategy, check_strategy\n"
            "alpha(); alpha(); beta(); beta(); Strategy(); Strategy()\n")
    outline = outline_source("/w/a.py", text, "python")
    assert outline is not None
    unused, shown = outline.imports()[:1], outline.imports()[1:]
    uses = count_names(text)  # (as the outline of an open document counts them)
    assert uses["get_integer_bounds"] == 1 and uses["alpha"] == 3
    got = names.imported_name_pieces(unused, uses, {"Strategy": 1.0}, "#", "a.py", shown=shown,
                                     ranking=DEFAULT)
    listed = [piece.text for piece in got]
    assert set(listed[:2]) == {"get_integer_bounds", "check_strategy"}
    assert listed[2:] == ["alpha", "beta"]
    assert min(p.score for p in got[:2]) > max(p.score for p in got[2:])
    without = names.imported_name_pieces(unused, uses, {"Strategy": 1.0}, "#", "a.py",
                                         ranking=DEFAULT)
    assert [piece.text for piece in without] == ["get_integer_bounds", "alpha", "beta"]


def test_a_name_imported_for_the_code_being_written_is_in_a_long_files_prompt(
        tmp_path: Path) -> None:
    filler = "".join(f"def use_{i}(strategy):\n    return alpha(strategy) + beta(strategy)\n"
                     f"\n\n" for i in range(40))
    head = ("from strategies import (\n    Strategy,\n    alpha,\n    beta,\n"
            "    check_strategy,\n    gamma,\n    delta,\n)\n\n\n")
    body = "def expand(base):\n    expanded = Strategy(base)\n    \n    return expanded\n"
    for uses_it_elsewhere in (False, True):
        more = "def again():\n    return check_strategy(None)\n\n\n" \
            if uses_it_elsewhere else ""
        path = tmp_path / "flat.py"
        path.write_text(head + more + filler + body)
        lines = path.read_text().split("\n")
        ctx = _build(*_engine(tmp_path), path, lines.index("def expand(base):") + 2, 4,
                     budget=128)
        assert "    check_strategy," not in ctx.prefix  # the statement's row: not in reach
        listed = "# imported: " in prompt_text(ctx) and "check_strategy" in names_listed(
            prompt_text(ctx), "# imported: ")
        assert listed != uses_it_elsewhere  # (when used, it is no longer pending)
        assert ctx.prompt_tokens <= 128


@pytest.mark.parametrize("called_elsewhere", [False, True])
def test_a_module_level_name_the_file_does_not_use_yet_leads_its_list(
        tmp_path: Path, called_elsewhere: bool) -> None:
    """A helper defined and not called yet was written for the code being written."""
    helpers = "".join(f"def helper_{i}():\n    return {i}\n\n\n" for i in range(8))
    callers = "".join(f"def caller_{i}():\n    return helper_{i}() + helper_{(i + 1) % 8}()"
                      f"{' + interesting_instants()' if called_elsewhere and i == 0 else ''}"
                      "\n\n\n" for i in range(8))
    text = ("def interesting_instants():\n    return []\n\n\n" + helpers + callers
            + "def main():\n    return [caller_0(), caller_1(), caller_2(), caller_3(), "
            "caller_4(), caller_5(), caller_6(), caller_7()]\n\n\n"
            "if __name__ == '__main__':\n    main()\n\n\n"
            "def window(zone):\n    start = zone.start\n    \n    return start\n")
    path = tmp_path / "instants.py"
    path.write_text(text)
    lines = text.split("\n")
    ctx = _build(*_engine(tmp_path), path, lines.index("def window(zone):") + 2, 4, budget=96)
    listed = names_listed(prompt_text(ctx), "# module-level names: ")
    assert (listed[0] == "interesting_instants") != called_elsewhere
    assert ctx.prompt_tokens <= 96


def _sibling_call_source(expects_bounds: bool) -> str:
    filler = "".join(f"def use_{i}():\n    return alpha() + beta() + gamma() + delta()\n\n\n"
                     for i in range(12))
    below = "    return low, high\n" if expects_bounds else "    return 0\n"
    return ("from filtering import alpha, beta, gamma, delta, get_integer_bounds, "
            "get_real_bounds\n\n\n"
            "def integers(condition):\n    low, high = get_integer_bounds(condition)\n"
            "    return low, high\n\n\n"
            "def bounds():\n    return get_real_bounds\n\n\n" + filler
            + "def reals(condition):\n    \n" + below)


@pytest.mark.parametrize("expects_bounds", [True, False])
def test_a_row_binding_what_the_rows_below_expect_ranks_its_sibling_names_higher(
        tmp_path: Path, expects_bounds: bool) -> None:
    """`low, high` are expected below the cursor and bound far above by a call of
    `get_integer_bounds`: the imported `get_real_bounds` shares words with it, so it is
    listed before the names the file uses more; not so when nothing below expects them.
    (`bounds` uses it once: else, imported and not used yet, it would lead the list anyway;
    the filler functions, defined and not used yet, would take the room: that rule is off
    here.)"""
    not_yet_used_off = replace(DEFAULT, names=replace(DEFAULT.names, not_yet_used=0.0))
    path = tmp_path / "filters.py"
    text = _sibling_call_source(expects_bounds)
    path.write_text(text)
    engine, store = _engine(tmp_path)
    lines = text.split("\n")
    row = lines.index("def reals(condition):") + 1
    budget = 160 + FIRST_RESERVE_TOKENS  # 160 for the first choice
    ctx = _build(engine, store, path, row, 4, budget=budget, ranking=not_yet_used_off)
    assert "low, high = get_integer_bounds(condition)" in ctx.prefix  # (a similar row, too)
    listed = names_listed(prompt_text(ctx), "# imported: ")
    assert ("get_real_bounds" in listed) == expects_bounds
    assert listed[0] == ("get_real_bounds" if expects_bounds else "alpha")
    assert ctx.prompt_tokens <= budget


def test_constructor_calls_of_private_classes_and_constants() -> None:
    found = hints.variable_types(["builder = _ClassBuilder(cls)\nd = {None: True}\n"])
    assert found == {"builder": ["_ClassBuilder"]}


def test_an_untyped_value_gets_the_one_class_that_has_all_its_attributes() -> None:
    source = ("class Printer:\n    def text(self): ...\n    def group(self): ...\n"
              "    def breakable(self): ...\n\n"
              "class Other:\n    def text(self): ...\n\n"
              "def show(p):\n    p.text()\n    p.group()\n")
    outline = outline_source("/w/pretty.py", source, "python")
    assert hints.classes_having(outline, {"text", "group"}) == ["Printer"]
    assert hints.classes_having(outline, {"text"}) == []  # one attribute says too little
    assert hints.classes_having(outline, {"text", "missing"}) == []


def test_the_duck_typed_class_lists_its_members(tmp_path: Path) -> None:
    path = tmp_path / "pretty.py"
    path.write_text("class Printer:\n    def text(self): ...\n    def group(self): ...\n"
                    "    def breakable(self): ...\n\n\n"
                    "def show(p, items):\n    p.text('[')\n    p.group()\n    \n")
    ctx = _build(*_engine(tmp_path), path, 9, 4)
    assert "# p (Printer): breakable" in prompt_text(ctx)
