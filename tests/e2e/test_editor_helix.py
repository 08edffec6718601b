"""The Helix configuration: parses, adds spark-lsp beside each language's usual servers, and the
way Helix hands over settings (only initializationOptions) gets completion items from the server.

Helix is not installable here; the session below replays what it sends.
"""

from __future__ import annotations

import re
import textwrap
import tomllib
from pathlib import Path
from typing import Any

from lsprotocol import types

from spark_lsp.settings import build_settings, deep_merge
from tests.e2e.lsp import lsp_session, open_document
from tests.fakemodel import FakeModelServer

EDITORS = Path(__file__).resolve().parents[2] / "editors"
LANGUAGES_TOML = EDITORS / "helix" / "languages.toml"

# Helix 25.07's own `language-servers` for each language spark-lsp parses (its languages.toml).
HELIX_DEFAULTS = {
    "python": ["ty", "ruff", "jedi", "pylsp"],
    "javascript": ["typescript-language-server"],
    "jsx": ["typescript-language-server"],
    "typescript": ["typescript-language-server"],
    "tsx": ["typescript-language-server"],
    "go": ["gopls", "golangci-lint-lsp"],
    "rust": ["rust-analyzer"],
    "java": ["jdtls"],
    "c": ["clangd"],
    "cpp": ["clangd"],
}
# Helix's LanguageServerFeature names (kebab-case), as `only-features` accepts them.
HELIX_FEATURES = {
    "format", "goto-declaration", "goto-definition", "goto-type-definition", "goto-reference",
    "goto-implementation", "signature-help", "hover", "document-highlight", "completion",
    "code-action", "workspace-command", "document-symbols", "workspace-symbols", "diagnostics",
    "rename-symbol", "inlay-hints", "document-colors",
}


def load() -> dict[str, Any]:
    with LANGUAGES_TOML.open("rb") as fh:
        return tomllib.load(fh)


def test_the_server_entry_starts_spark_lsp_with_valid_settings() -> None:
    server = load()["language-server"]["spark"]
    assert server["command"] == "spark-lsp"
    assert server.get("args", []) in ([], ["--stdio"])
    _, problems = build_settings(server.get("config", {}))
    assert problems == []


def test_each_language_keeps_its_usual_servers_and_adds_spark() -> None:
    languages = {entry["name"]: entry for entry in load()["language"]}
    assert set(languages) == set(HELIX_DEFAULTS)
    for name, entry in languages.items():
        *usual, spark = entry["language-servers"]
        assert usual == HELIX_DEFAULTS[name], name
        assert spark["name"] == "spark", name
        assert set(spark["only-features"]) == {"completion", "code-action"}, name
        assert set(spark["only-features"]) <= HELIX_FEATURES
        # Only the language-server list is overridden: Helix keeps its own file types, roots…
        assert set(entry) == {"name", "language-servers"}, name


async def test_helix_settings_reach_the_server_and_completion_answers(
    fake_model: FakeModelServer, tmp_path: Path
) -> None:
    config = deep_merge(
        load()["language-server"]["spark"].get("config", {}),
        {"fast": {"provider": "ollama", "url": fake_model.url, "model": "test"},
         "completion": {"debounce_ms": 0}},
    )
    # Helix sends `config` as initializationOptions and answers workspace/configuration for the
    # `spark` section with null (it looks the section up inside `config`).
    async with lsp_session(settings=config, root=tmp_path, editor="helix") as client:
        uri = (tmp_path / "add.py").as_uri()
        open_document(client, uri, "def add(a, b):\n    ")
        result = await client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=1, character=4),
                context=types.CompletionContext(trigger_kind=types.CompletionTriggerKind.Invoked),
            )
        )
    assert result is not None
    items = result.items if isinstance(result, types.CompletionList) else result
    texts = [item.text_edit.new_text if item.text_edit else item.insert_text for item in items]
    assert any(fake_model.reply in (text or "") for text in texts), texts
    assert all(len(item.label) <= 40 for item in items)


def test_the_readme_settings_examples_are_valid() -> None:
    """Each TOML example in editors/README.md (spark.toml or Helix form) is valid settings."""
    readme = (EDITORS / "README.md").read_text()
    blocks = re.findall(r"^( *)```toml\n(.*?)^\1```", readme, flags=re.M | re.S)
    assert len(blocks) >= 5
    for _, block in blocks:
        data = tomllib.loads(textwrap.dedent(block))
        settings = data.get("language-server", {}).get("spark", {}).get("config", data)
        _, problems = build_settings(settings)
        assert problems == [], block
