"""The workspace: one set of ignore rules (git-ignored, secrets, `context.exclude`) and the
background index (bounded, kept fresh, resolving imports to files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from spark_lsp.settings import ContextSettings
from spark_lsp.syntax.symbols import Import
from spark_lsp.workspace.ignore import IgnoreRules
from spark_lsp.workspace.index import WorkspaceIndex


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    write(tmp_path, {
        ".gitignore": "build/\n*.log\n!keep.log\n/generated.py\n",
        ".git/info/exclude": "local_only.py\n",
        "sub/.gitignore": "scratch.py\n",
        "pkg/__init__.py": "from .models import Model\n",
        "pkg/models.py": "class Model:\n    def save(self, force: bool = False) -> None:\n"
                         "        pass\n",
        "pkg/util.py": "def helper(x: int) -> int:\n    return x\n",
        "app.py": "from pkg import Model\nfrom pkg.util import helper\n",
        "web/index.js": "import { render } from './view.js';\n",
        "web/view.js": "export function render(node) { return node; }\n",
        "build/out.py": "def built(): pass\n",
        "generated.py": "def generated(): pass\n",
        "sub/scratch.py": "def scratch(): pass\n",
        "sub/kept.py": "def kept(): pass\n",
        "local_only.py": "def local(): pass\n",
        "keep.log": "", "debug.log": "",
        ".env": "TOKEN=secret\n", ".env.production": "TOKEN=secret\n",
        "certs/server.pem": "---", "config/secrets/db.py": "PASSWORD = 'x'\n",
        "notes.txt": "not source",
    })
    return tmp_path


def test_ignore_rules(repo: Path) -> None:
    rules = IgnoreRules([repo], ContextSettings().exclude)
    excluded = {
        "build/out.py", "generated.py", "sub/scratch.py", "local_only.py", "debug.log", ".env",
        ".env.production", "certs/server.pem", "config/secrets/db.py", ".git/config",
    }
    kept = {"pkg/models.py", "app.py", "sub/kept.py", "keep.log", "sub/generated.py",
            "notes.txt"}
    for name in excluded:
        assert rules.is_excluded(repo / name), name
    for name in kept:
        assert not rules.is_excluded(repo / name), name
    assert rules.is_excluded(repo / "build", is_dir=True)
    # Outside every workspace folder: only secrets and the exclude globs apply.
    assert rules.is_excluded("/elsewhere/id_rsa")
    assert not rules.is_excluded("/elsewhere/main.py")


def test_user_exclude_globs(repo: Path) -> None:
    rules = IgnoreRules([repo], ["pkg/util.py", "**/web/**"])
    assert rules.is_excluded(repo / "pkg/util.py")
    assert rules.is_excluded(repo / "web/view.js")
    assert not rules.is_excluded(repo / "pkg/models.py")


def test_a_changed_gitignore_is_read_again(repo: Path) -> None:
    rules = IgnoreRules([repo])
    assert not rules.is_excluded(repo / "app.py")
    (repo / ".gitignore").write_text("app.py\n")
    rules.forget_gitignores()
    assert rules.is_excluded(repo / "app.py")


def test_index_skips_ignored_and_secret_files(repo: Path) -> None:
    index = WorkspaceIndex([repo], ContextSettings())
    stats = index.build()
    indexed = {Path(p).relative_to(repo).as_posix() for p in index.paths()}
    assert indexed == {"pkg/__init__.py", "pkg/models.py", "pkg/util.py", "app.py",
                       "web/index.js", "web/view.js", "sub/kept.py"}
    assert stats.files == 7 and not stats.truncated
    assert index.ready.is_set()


def test_index_limits(repo: Path) -> None:
    index = WorkspaceIndex([repo], ContextSettings(max_index_files=3))
    assert index.build().truncated and len(index) == 3
    (repo / "big.py").write_text("x = 1\n" * 1000)
    small = WorkspaceIndex([repo], ContextSettings(max_file_bytes=100))
    small.build()
    assert str(repo / "big.py") not in small.paths()
    assert str(repo / "app.py") in small.paths()


def test_index_updates_and_removals(repo: Path) -> None:
    index = WorkspaceIndex([repo], ContextSettings())
    index.build()
    generation = index.generation
    assert index.definitions("helper")
    index.update_file(str(repo / "pkg/util.py"), "def renamed(): pass\n")
    assert not index.definitions("helper") and index.definitions("renamed")
    index.remove_file(str(repo / "pkg/util.py"))
    assert not index.definitions("renamed")
    assert index.generation > generation
    assert not index.update_file(str(repo / ".env"), "TOKEN=1\n")
    assert not index.update_file(str(repo / "generated.py"))


def test_index_resolves_imports(repo: Path) -> None:
    index = WorkspaceIndex([repo], ContextSettings())
    index.build()
    app = str(repo / "app.py")
    found = index.resolve(Import("pkg.util", 0, (), False, 1, 1, ""), app, "python", "helper")
    assert [Path(o.path).name for o in found] == ["util.py"]
    package = index.resolve(Import("pkg", 0, (), False, 0, 0, ""), app, "python", "Model")
    assert [Path(o.path).relative_to(repo).as_posix() for o in package] == ["pkg/__init__.py"]
    relative = index.resolve(Import("models", 1, (), False, 0, 0, ""),
                             str(repo / "pkg/__init__.py"), "python", "Model")
    assert [Path(o.path).name for o in relative] == ["models.py"]
    js = index.resolve(Import("./view.js", 0, (), False, 0, 0, ""), str(repo / "web/index.js"),
                       "javascript", "render")
    assert [Path(o.path).name for o in js] == ["view.js"]


def test_absolute_python_imports_name_files_by_their_package_chain(tmp_path: Path) -> None:
    """`import datetime` is the standard library's, not a module deep in a package that happens
    to be called so; `import pkg.util` is pkg/util.py; a folder without `__init__.py` (scripts
    run from it) still finds its neighbours by path."""
    write(tmp_path, {
        "pkg/__init__.py": "", "pkg/util.py": "def helper(): pass\n",
        "pkg/_internal/__init__.py": "", "pkg/_internal/datetime.py": "def now(): pass\n",
        "pkg/_internal/util.py": "def inner(): pass\n",
        "scripts/tool.py": "import shared\n", "scripts/shared.py": "def common(): pass\n",
        "app.py": "import datetime\nimport pkg.util\n",
    })
    index = WorkspaceIndex([tmp_path], ContextSettings())
    index.build()
    app = str(tmp_path / "app.py")

    def found(module: str, name: str = "", at: str = app) -> list[str]:
        imp = Import(module, 0, (), False, 0, 0, "")
        return [Path(o.path).relative_to(tmp_path).as_posix()
                for o in index.resolve(imp, at, "python", name)]

    assert found("datetime") == []
    assert found("pkg.util") == ["pkg/util.py"]
    assert found("pkg", "util") == ["pkg/util.py"]
    assert found("pkg._internal.datetime") == ["pkg/_internal/datetime.py"]
    assert found("shared", at=str(tmp_path / "scripts/tool.py")) == ["scripts/shared.py"]


def test_a_label_is_the_path_in_its_workspace_folder_until_the_folders_change(
        tmp_path: Path) -> None:
    from spark_lsp.context.engine import ContextEngine

    inner = tmp_path / "proj" / "pkg"
    inner.mkdir(parents=True)
    path = str(inner / "mod.py")
    engine = ContextEngine()
    assert engine.label(path) == path  # no folder: the whole path
    engine.set_roots([tmp_path / "proj"])
    assert engine.label(path) == "pkg/mod.py"
    assert engine.label(path) == "pkg/mod.py"  # (remembered)
    engine.set_roots([inner])
    assert engine.label(path) == "mod.py"


def test_requests_see_the_index_move_on_in_steps_while_it_builds(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A request's kept choice and look-ups are keyed by the published generation: a build
    publishes every PUBLISH_SECONDS (here: never meanwhile) and at its end, not per file; a
    single change (a save) at once."""
    from spark_lsp.workspace import index as index_module

    monkeypatch.setattr(index_module, "PUBLISH_SECONDS", 3600.0)
    index = WorkspaceIndex([repo], ContextSettings())
    seen: list[int] = []
    add = index._add

    def watched(*args: object) -> bool:
        seen.append(index.published)
        return add(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(index, "_add", watched)
    index.build()
    assert len(seen) >= 5 and set(seen) == {0}  # none published while it built
    assert index.published == index.generation > 0
    index.update_file(str(repo / "pkg" / "util.py"), "def helper2(): pass\n")
    assert index.published == index.generation
    index.remove_file(str(repo / "pkg" / "util.py"))
    assert index.published == index.generation
