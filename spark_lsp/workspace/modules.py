"""Which workspace files an import names: module specs mapped onto file paths, per language.

A file is registered under the tails of its path without extension (`pkg/sub/mod.py` →
`mod`, `sub/mod`, `pkg/sub/mod`; a package's `__init__.py`, `index.js` or `mod.rs` also under its
directory); an import is turned into the key its files would have.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import PurePath

from spark_lsp.syntax.symbols import Import

MAX_KEY_PARTS = 6
STDLIB = frozenset(sys.stdlib_module_names)
_PACKAGE_FILES = frozenset({"__init__", "index", "mod", "lib"})
_JS_LIKE = frozenset({"javascript", "typescript", "tsx"})


def module_keys(path: str, language: str | None = None) -> list[str]:
    """The keys a file is found under (see module docstring), the absolute ones first."""
    pure = PurePath(os.path.abspath(path))
    stem = str(pure.with_suffix(""))
    keys = [stem]
    parts = [*pure.parent.parts[-MAX_KEY_PARTS:], pure.stem]
    if pure.stem in _PACKAGE_FILES or language == "go":  # a Go package is its directory
        keys.append(str(pure.parent))
        if pure.stem in _PACKAGE_FILES:
            parts = parts[:-1]
    for start in range(len(parts) - 1, -1, -1):
        tail = parts[start:]
        if tail and tail[0] != "/":
            keys.append("/".join(tail))
        if language == "go" and start < len(parts) - 1:
            keys.append("/".join(parts[start:-1]))
    return [key for key in dict.fromkeys(keys) if not key.startswith("//")]


def _strip_ext(path: str) -> str:
    base, ext = os.path.splitext(path)
    return base if ext else path


def import_keys(imp: Import, from_path: str, language: str, name: str = "") -> list[str]:
    """Keys to look the imported module up by, best first. For Python `from . import x` the
    module may be `x` itself (`name`)."""
    here = PurePath(from_path).parent
    module = imp.module
    if language == "python":
        if imp.level:
            base = here
            for _ in range(imp.level - 1):
                base = base.parent
            target = base.joinpath(*module.split(".")) if module else base
            keys = [str(target)]
            if name:
                keys.insert(0, str(target / name))
            return keys
        dotted = module.replace(".", "/")
        return [f"{dotted}/{name}", dotted] if name else [dotted]
    if language in _JS_LIKE:
        if module.startswith("."):
            return [_strip_ext(os.path.normpath(str(here / module)))]
        return [module.lstrip("@")]
    if language == "rust":
        parts = [p for p in module.split("::") if p not in ("crate", "self", "super", "")]
        keys = ["/".join(parts)] if parts else []
        if name:
            keys.insert(0, "/".join([*parts, name]))
        return keys
    if language in ("c", "cpp"):
        local = os.path.normpath(str(here / module))
        return [_strip_ext(local), _strip_ext(module)]
    if language == "java":
        return [module.replace(".", "/")]
    return [module.strip("/")]  # go: a package path; its files are in that directory


def python_module_name(path: str, is_package: Callable[[str], bool]) -> str:
    """The dotted name Python imports a file by, its package (`__init__.py`) chain counted:
    `…/hypothesis/internal/floats.py` → `hypothesis.internal.floats`. `is_package(directory)`
    says whether a directory holds an `__init__.py` (file I/O: the index asks, off the loop)."""
    pure = PurePath(os.path.abspath(path))
    parts = [] if pure.stem == "__init__" else [pure.stem]
    directory = pure.parent
    while is_package(str(directory)) and directory != directory.parent:
        parts.insert(0, directory.name)
        directory = directory.parent
    return ".".join(parts)


def has_init(directory: str) -> bool:
    return os.path.isfile(os.path.join(directory, "__init__.py"))


def imports_as(dotted: str, imp: Import, name: str = "") -> bool:
    """Whether an absolute Python import can name a file of this dotted name: it is the
    module's (`import a.b`), or the module's plus the imported name (`from a import b`, `b` a
    module). A file deeper in a package is not `import datetime` (`pkg/_internal/datetime.py`)."""
    return dotted == imp.module or (bool(name) and dotted == f"{imp.module}.{name}")


def is_absolute_key(key: str) -> bool:
    return key.startswith("/")


_ATTRIBUTE_USE = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\s*\.\s*([A-Za-z_]\w*)")


def module_uses(imports: Sequence[Import], text: str) -> dict[str, dict[str, int]]:
    """How often a Python file uses each name of the modules it imports absolutely: `alias.name`
    for `import a.b as alias` / `from a import b as alias`, and `from a.b import name`; as
    {dotted module: {name: uses}}."""
    aliases: dict[str, list[str]] = {}
    uses: dict[str, dict[str, int]] = {}
    for imp in imports:
        if imp.level or not imp.module:
            continue
        for binding in imp.bindings:
            if binding.name:  # `from a import b`: b is a name of a, or the module a.b
                names = uses.setdefault(imp.module, {})
                names[binding.name] = names.get(binding.name, 0) + 1
                aliases.setdefault(binding.local, []).append(f"{imp.module}.{binding.name}")
            elif binding.local == imp.module or " as " in imp.text:
                aliases.setdefault(binding.local, []).append(imp.module)
            else:  # `import a.b` binds `a`
                aliases.setdefault(binding.local, []).append(imp.module.split(".")[0])
    if not aliases:
        return uses
    for local, name in _ATTRIBUTE_USE.findall(text):
        for module in aliases.get(local, ()):
            names = uses.setdefault(module, {})
            names[name] = names.get(name, 0) + 1
    return uses
