"""The VS Code extension: builds from its lock file, packages, and its requests work end to end.

A node script (editors/vscode/src/test/) drives the real spark-lsp over stdio with the requests
vscode-languageclient sends, through the extension's own compiled modules (settings object,
status text, code-action kinds). The extension in a real VS Code: test_vscode_real.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from spark_lsp.settings import build_settings
from tests.e2e.lsp import find_program
from tests.fakemodel import FakeModelServer

REPO = Path(__file__).resolve().parents[2]
VSCODE = REPO / "editors" / "vscode"
NODE = shutil.which("node")
NPM = shutil.which("npm")
NPX = shutil.which("npx")

needs_node = pytest.mark.skipif(
    not (NODE and NPM and NPX), reason="node, npm and npx are needed to build the VS Code extension"
)


def spark_lsp_command() -> str:
    """The spark-lsp of this interpreter's environment, else the one on PATH."""
    found = find_program("spark-lsp")
    assert found, "spark-lsp is not installed (pip install -e .)"
    return found


def run(*cmd: str, timeout: float, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        cmd, cwd=VSCODE, env=env, capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL, check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(cmd)} exited {result.returncode}:\n{output}"
    return output


@pytest.fixture(scope="module")
def compiled() -> None:
    if not (VSCODE / "node_modules").is_dir():
        run(NPM, "ci", "--no-audit", "--no-fund", timeout=240)
    run(NPM, "run", "compile", timeout=120)


@needs_node
def test_type_checks(compiled: None) -> None:
    run(NPX, "tsc", "--noEmit", "-p", ".", timeout=120)


@needs_node
def test_client_requests_against_the_real_server(
    compiled: None, fake_model: FakeModelServer
) -> None:
    env = {
        **os.environ,
        "SPARK_LSP_CMD": spark_lsp_command(),
        "FAKE_MODEL_URL": fake_model.url,
        "FAKE_MODEL_REPLY": fake_model.reply,
    }
    output = run(NODE, "--test", "out/test/", timeout=60, env=env)
    assert "# fail 0" in output, output
    assert "# skipped 0" in output, output
    assert any(r.path == "/api/generate" for r in fake_model.requests), fake_model.requests


@needs_node
def test_packages_a_vsix(compiled: None, tmp_path: Path) -> None:
    vsix = tmp_path / "spark.vsix"
    run(NPX, "@vscode/vsce", "package", "--out", str(vsix), timeout=60)
    names = set(zipfile.ZipFile(vsix).namelist())
    assert "extension/out/extension.js" in names
    assert "extension/node_modules/vscode-languageclient/package.json" in names
    assert not any(n.startswith(("extension/src/", "extension/out/test/")) for n in names)
    assert not any(n.startswith("extension/node_modules/typescript/") for n in names)


# What each JSON-schema type of a contributed setting is filled with in the check below.
SAMPLES: dict[str, Any] = {"string": "x", "integer": 7, "number": 0.5, "array": ["**/*.log"]}


def contributed_settings() -> dict[str, dict[str, Any]]:
    manifest = json.loads((VSCODE / "package.json").read_text())
    return manifest["contributes"]["configuration"]["properties"]


def nested(flat: dict[str, Any]) -> dict[str, Any]:
    """{"fast.url": v} → {"fast": {"url": v}}, as VS Code hands over the `spark` section."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, leaf = key.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def test_every_server_setting_in_package_json_is_one_the_server_knows() -> None:
    flat: dict[str, Any] = {}
    enums: dict[str, list[str]] = {}
    for key, schema in contributed_settings().items():
        name = key.removeprefix("spark.")
        if name.split(".")[0] in {"server", "trace"}:  # the extension's own settings
            continue
        if "enum" in schema:
            enums[name] = [v for v in schema["enum"] if v != ""]
            flat[name] = enums[name][0]
        else:
            types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            flat[name] = SAMPLES[next(t for t in types if t != "null")]
    assert "fast.provider" in flat and "fast.url" in flat and "strong.model" in flat

    _, problems = build_settings(nested(flat))
    assert problems == []
    for name, values in enums.items():
        for value in values:
            _, problems = build_settings(nested({**flat, name: value}))
            assert problems == [], f"{name} = {value!r}"


def test_the_readme_vscode_examples_use_contributed_settings() -> None:
    readme = (REPO / "editors" / "README.md").read_text()
    keys = set(re.findall(r'"(spark\.[\w.]+)"', readme))
    assert "spark.fast.url" in keys
    assert keys <= set(contributed_settings()), keys - set(contributed_settings())
