"""The context engine through the real server: the prompt the model receives carries the
signature of a function imported from another workspace file, and nothing from `.env` or a
git-ignored file — even when those are open in the editor."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.lsp import inline_completion, lsp_session, open_document
from tests.fakemodel import FakeModelServer

GEOMETRY = '''"""Vector helpers."""


def scale_vector(vector: list[float], factor: float, *,
                 clamp_to: float | None = None) -> list[float]:
    """Multiply every component by `factor`."""
    result = [value * factor for value in vector]
    return result
'''

MAIN = '''from geometry import scale_vector
from private_helpers import leak_private_value


def normalise(vector: list[float]) -> list[float]:
    length = sum(value * value for value in vector) ** 0.5
    leak_private_value(vector)
    return \n'''

PRIVATE = '''def leak_private_value(vector):
    """PRIVATE_HELPER_DOC must never reach a model."""
    return "PRIVATE_HELPER_BODY"
'''

ENV = "API_TOKEN=sk-live-ENV_FILE_SECRET_VALUE\n"


def workspace(root: Path) -> None:
    (root / "geometry.py").write_text(GEOMETRY)
    (root / "main.py").write_text(MAIN)
    (root / "private_helpers.py").write_text(PRIVATE)
    (root / ".env").write_text(ENV)
    (root / ".gitignore").write_text("private_helpers.py\n")
    subprocess.run(["git", "init", "-q", str(root)], check=False)


async def wait_for_index(client: LanguageClient) -> None:
    """The server logs `indexed N files` once its background index is built."""
    async def indexed() -> None:
        while not any("indexed" in m.message for m in client.log_messages):
            await client.wait_for_notification(types.WINDOW_LOG_MESSAGE)

    await asyncio.wait_for(indexed(), 30)


async def test_prompt_has_the_imported_signature_and_nothing_excluded(
    fake_model: FakeModelServer, tmp_path: Path
) -> None:
    workspace(tmp_path)
    fake_model.reply = "scale_vector(vector, 1 / length)"
    settings = {"fast": {"provider": "ollama", "url": fake_model.url, "model": "m"},
                "completion": {"debounce_ms": 0}}
    async with lsp_session(settings, tmp_path) as client:
        await wait_for_index(client)
        # The excluded files are open in the editor too: still nothing of them in a prompt.
        open_document(client, (tmp_path / ".env").as_uri(), ENV, "dotenv")
        open_document(client, (tmp_path / "private_helpers.py").as_uri(), PRIVATE)
        main = (tmp_path / "main.py").as_uri()
        open_document(client, main, MAIN)
        result = await inline_completion(client, main, 7, 11)
    assert result is not None
    bodies = [r.body for r in fake_model.requests if r.path == "/api/generate"]
    assert bodies, fake_model.requests
    prompt = bodies[-1]["prompt"] + bodies[-1].get("suffix", "")
    assert ("def scale_vector(vector: list[float], factor: float, *,\n"
            "                 clamp_to: float | None = None) -> list[float]: ...") in prompt, prompt
    assert "geometry.py" in prompt  # the snippet is labelled with its path
    assert "ENV_FILE_SECRET_VALUE" not in prompt
    assert "PRIVATE_HELPER" not in prompt
    assert "def leak_private_value" not in prompt


SHAPES = '''import textwrap

import private_helpers as ph


class Canvas:
    def __init__(self) -> None:
        self.stroke_width_px = 1

    def draw(self) -> str:
        return \n''' + "".join(f'''
    def helper_{i}(self) -> int:
        """Helper {i}."""
        return {i} * {i} + {i} - {i} // 2 + self.stroke_width_px
''' for i in range(30)) + '''
    def flush_pending_strokes(self) -> None:
        pass
'''

USER = '''import textwrap

import private_helpers


def show(text: str) -> str:
    private_helpers.leak_private_value(text)
    return textwrap.dedent(text) + textwrap.indent(text, "  ")
'''


async def test_prompt_lists_far_members_and_module_names_but_nothing_excluded(
    fake_model: FakeModelServer, tmp_path: Path
) -> None:
    """Name lists reach the model through the real server: the enclosing class's members
    defined far below, the names of a standard-library module the workspace uses — and no
    name of a git-ignored module, though the file imports it under an alias."""
    workspace(tmp_path)
    (tmp_path / "shapes.py").write_text(SHAPES)
    (tmp_path / "user.py").write_text(USER)
    fake_model.reply = "self.flush_pending_strokes()"
    settings = {"fast": {"provider": "ollama", "url": fake_model.url, "model": "m"},
                "completion": {"debounce_ms": 0}}
    async with lsp_session(settings, tmp_path) as client:
        await wait_for_index(client)
        uri = (tmp_path / "shapes.py").as_uri()
        open_document(client, uri, SHAPES)
        result = await inline_completion(client, uri, 10, 15)
    assert result is not None
    bodies = [r.body for r in fake_model.requests if r.path == "/api/generate"]
    prompt = bodies[-1]["prompt"] + bodies[-1].get("suffix", "")
    members = prompt.split("# class Canvas members: ")[1].split("\n")[0].split(", ")
    assert "flush_pending_strokes" in members
    assert "def flush_pending_strokes" not in prompt  # only its name: it is far away
    assert "# textwrap: dedent, indent" in prompt
    assert "leak_private_value" not in prompt and "PRIVATE_HELPER" not in prompt
