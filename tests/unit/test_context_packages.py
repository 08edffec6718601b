"""Modules outside the workspace (installed packages, the standard library): found on a search
path, outlined once, bounded, never read when excluded; and the workspace's uses of them."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from spark_lsp.settings import ContextSettings
from spark_lsp.syntax.symbols import Binding, Import
from spark_lsp.workspace.index import WorkspaceIndex
from spark_lsp.workspace.modules import module_uses
from spark_lsp.workspace.packages import (
    PackageModules,
    PackageOutlines,
    exported_names,
    import_candidates,
    search_path,
    top_level_names,
)


def _site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    (site / "pkg" / "sub").mkdir(parents=True)
    (site / "pkg" / "__init__.py").write_text("from .core import run\n__all__ = ['run']\n")
    (site / "pkg" / "core.py").write_text("def run(): ...\ndef walk(): ...\n")
    (site / "pkg" / "sub" / "__init__.py").write_text("X = 1\n")
    (site / "single.py").write_text("def one(): ...\n")
    return site


def test_modules_are_found_as_imports_would_find_them(tmp_path: Path) -> None:
    site = _site(tmp_path)
    other = tmp_path / "other"
    (other / "pkg").mkdir(parents=True)
    (other / "pkg" / "extra.py").write_text("")
    (other / "late.py").write_text("")
    modules = PackageModules([str(site), str(other)])
    assert modules.find("pkg") == (str(site / "pkg" / "__init__.py"), str(site))
    assert modules.find("pkg.core") == (str(site / "pkg" / "core.py"), str(site))
    assert modules.find("pkg.sub") == (str(site / "pkg" / "sub" / "__init__.py"), str(site))
    assert modules.find("single")[0] == str(site / "single.py")  # type: ignore[index]
    assert modules.find("late")[0] == str(other / "late.py")  # type: ignore[index]
    assert modules.find("pkg.extra") is None  # the first entry with `pkg` decides
    assert modules.find("missing") is None
    assert modules.find("../etc") is None


def test_a_module_is_read_once_and_again_when_it_changes(tmp_path: Path) -> None:
    site = _site(tmp_path)
    modules = PackageModules([str(site)])
    first = modules.module("pkg.core")
    assert first is not None and first.label == "pkg/core.py"
    assert first.names == ("run", "walk")
    assert modules.module("pkg.core") is first  # cached
    core = site / "pkg" / "core.py"
    core.write_text("def run(): ...\ndef fly(): ...\n")
    os.utime(core, (1, 1))
    again = modules.module("pkg.core")
    assert again is not None and again.names == ("run", "fly")
    package = modules.module("pkg")
    assert package is not None and package.names == ("run",)


def test_top_level_names_of_a_module_text() -> None:
    text = (
        "import os\nfrom .core import (\n    run,\n    walk as stroll,\n)\n"
        "from x import y  # note\nVALUE: int = 3\nother = VALUE == 3\n_hidden = 1\n"
        "def spin(): ...\nasync def wait(): ...\nclass Thing:\n    inner = 1\n"
        "    def method(self): ...\n"
        "if os.name == 'nt':\n    def windows_only(): ...\n")
    assert top_level_names(text, is_package=False) == (
        "VALUE", "other", "spin", "wait", "Thing")
    assert top_level_names(text, is_package=True) == (
        "VALUE", "other", "spin", "wait", "Thing", "run", "stroll", "y")
    assert top_level_names("__all__ = ['spin']\ndef spin(): ...\ndef more(): ...\n",
                           False) == ("spin",)


def test_excluded_and_oversized_files_are_not_read(tmp_path: Path) -> None:
    site = _site(tmp_path)
    seen: list[str] = []

    def excluded(path: str) -> bool:
        seen.append(path)
        return path.endswith("core.py")

    modules = PackageModules([str(site)], max_bytes=20)
    assert modules.module("pkg.core", excluded) is None
    assert seen == [str(site / "pkg" / "core.py")]
    assert modules.module("pkg", excluded) is None  # 38 bytes > 20
    assert PackageModules([str(site)], max_entries=1).module("single") is not None


def test_the_standard_library_is_on_the_search_path() -> None:
    modules = PackageModules(search_path([]))
    found = modules.module("textwrap")
    assert found is not None and found.label == "textwrap.py"
    assert "dedent" in found.names and "TextWrapper" in found.names


def test_a_compiled_standard_library_module_offers_its_names() -> None:
    """`math`, `itertools`, `sys` have no source to read: their names come from the module."""
    modules = PackageModules(search_path([]))
    found = modules.module("math")
    assert found is not None and found.path == "" and found.label == "math"
    assert {"floor", "ceil", "isnan"} <= set(found.names) and "__doc__" not in found.names
    chain = modules.module("itertools")
    assert chain is not None and "chain" in chain.names
    assert modules.module("readline") is None  # only the listed ones are ever imported
    assert modules.module("_no_such_module") is None


def test_the_workspace_virtualenv_comes_first(tmp_path: Path) -> None:
    venv = tmp_path / ".venv" / "lib" / "python3.12" / "site-packages"
    venv.mkdir(parents=True)
    entries = search_path([tmp_path])
    assert entries[0] == str(venv)
    assert all(os.path.isdir(e) for e in entries) and "" not in entries
    assert set(p for p in sys.path if p and os.path.isdir(p)) <= set(entries) | {
        os.path.abspath(p) for p in sys.path}


def test_exported_names_reads_literal_all_lists() -> None:
    assert exported_names("__all__ = ['a', \"b\"]\n__all__ += ('c',)\n") == ("a", "b", "c")
    assert exported_names("__all__: list[str] = [\n    'x',\n    'y',\n]\n") == ("x", "y")
    assert exported_names("__all__ = [\n    'a',  # (see b)\n    'c',  # [x\n]\n") == ("a", "c")
    assert exported_names("__all__ = names()\n") is None
    assert exported_names("x = 1\n") is None


def _import(text: str, module: str, *bindings: tuple[str, str], level: int = 0) -> Import:
    from spark_lsp.syntax.symbols import Binding

    return Import(module, level, tuple(Binding(*b) for b in bindings), False, 0, 0, text)


def test_module_uses_counts_alias_attributes_and_imported_names() -> None:
    imports = [
        _import("import hypothesis.strategies as st", "hypothesis.strategies", ("st", "")),
        _import("from typing import cast", "typing", ("cast", "cast")),
        _import("import os.path", "os.path", ("os", "")),
        _import("from . import local", "", ("local", "local"), level=1),
    ]
    text = "st.integers()\nst.integers()\nst.lists(x)\nos.getcwd()\nlocal.thing\nnot_st.x\n"
    assert module_uses(imports, text) == {
        "hypothesis.strategies": {"integers": 2, "lists": 1},
        "typing": {"cast": 1},
        "os": {"getcwd": 1},
    }


def test_the_index_counts_files_using_each_name(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("import json\njson.dumps(1)\njson.dumps(2)\njson.loads(3)\n")
    (tmp_path / "b.py").write_text("from json import dumps\n")
    index = WorkspaceIndex([tmp_path], ContextSettings())
    index.build()
    assert index.module_uses("json") == {"dumps": 2, "loads": 1}
    assert index.module_uses("json", without=str(tmp_path / "a.py")) == {"dumps": 1}
    index.update_file(str(tmp_path / "a.py"), "import json\njson.load(f)\n")
    assert index.module_uses("json") == {"dumps": 1, "load": 1}
    index.remove_file(str(tmp_path / "b.py"))
    assert index.module_uses("json") == {"load": 1}
    index.remove_file(str(tmp_path / "a.py"))
    assert index.module_uses("json") == {}


def test_the_index_counts_files_using_each_member_name(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("data.start_span()\ndata.start_span()\nx.stop_span()\n")
    (tmp_path / "b.js").write_text("data.start_span(); obj.go(); // .go is too short\n")
    index = WorkspaceIndex([tmp_path], ContextSettings())
    index.build()
    files = index.attribute_files()
    assert dict(files) == {"start_span": 2, "stop_span": 1}
    mine = index.attribute_files(without=str(tmp_path / "a.py"))  # the edited document
    assert dict(mine) == {"start_span": 1} and mine.get("stop_span", 0) == 0
    index.update_file(str(tmp_path / "b.js"), "obj.draw_integer()\n")
    assert dict(files) == {"start_span": 1, "stop_span": 1, "draw_integer": 1}  # a view
    index.remove_file(str(tmp_path / "a.py"))
    assert dict(index.attribute_files()) == {"draw_integer": 1}


def test_the_modules_imports_may_want_are_the_absolute_ones() -> None:
    imports = [Import("a.b", 0, (), False, 0, 0, "import a.b"),
               Import("c", 0, (Binding("d", "d"),), False, 1, 1, "from c import d"),
               Import("", 1, (Binding("e", "e"),), False, 2, 2, "from . import e")]
    assert import_candidates(imports) == ["a.b", "a", "c", "c.d"]


async def test_on_the_event_loop_an_outline_is_asked_for_and_ready_for_a_later_request(
        tmp_path: Path) -> None:
    """A request never reads a package: the first gets nothing and starts a worker; one that
    starts after the worker is done gets the outline."""
    site = _site(tmp_path)
    outlines = PackageOutlines([])
    outlines._finder = PackageModules([str(site)])
    first = outlines.snapshot()
    assert first.module("pkg.core") is None
    await outlines.wait()
    assert first.module("pkg.core") is None  # what was ready when it started: frozen
    later = outlines.snapshot()
    assert later.generation > first.generation
    found = later.module("pkg.core")
    assert found is not None and found.names == ("run", "walk")
    assert later.module("pkg.core", lambda path: path.endswith("core.py")) is None


def test_off_the_event_loop_an_outline_is_prepared_on_the_spot(tmp_path: Path) -> None:
    site = _site(tmp_path)
    seen: list[str] = []
    outlines = PackageOutlines([], lambda path: seen.append(path) or False)
    outlines._finder = PackageModules([str(site)])
    found = outlines.snapshot().module("single")
    assert found is not None and found.names == ("one",)
    assert seen == [str(site / "single.py")]  # decided where it was prepared
