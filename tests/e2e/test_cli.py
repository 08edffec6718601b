"""The `doctor` and `complete` commands against the fake model, as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.fakemodel import FakeModelServer


def _run(args: list[str], cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "spark_lsp", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_doctor_shows_values_with_sources_and_pings(
    tmp_path: Path, fake_model: FakeModelServer
) -> None:
    home = tmp_path / "home"
    (home / "spark-lsp").mkdir(parents=True)
    (home / "spark-lsp" / "spark.toml").write_text("[completion]\ndebounce_ms = 7\n")
    (tmp_path / "spark.toml").write_text(
        f'[fast]\nprovider = "ollama"\nurl = "{fake_model.url}"\nmodel = "qwen2.5-coder"\n'
    )
    done = _run(["doctor", "--root", str(tmp_path)], tmp_path, home)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fast.model = 'qwen2.5-coder'  (workspace spark.toml)" in done.stdout
    assert "completion.debounce_ms = 7  (user spark.toml)" in done.stdout
    assert "fast.max_tokens = 128  (default)" in done.stdout
    assert "fast: ok (ollama)" in done.stdout
    assert "strong: not configured" in done.stdout
    assert any(r.path == "/api/tags" for r in fake_model.requests)


def test_doctor_reports_a_dead_tier(tmp_path: Path) -> None:
    (tmp_path / "spark.toml").write_text(
        '[fast]\nprovider = "openai"\nurl = "http://127.0.0.1:9/v1"\nmodel = "m"\n'
    )
    done = _run(["doctor", "--root", str(tmp_path)], tmp_path, tmp_path)
    assert done.returncode == 1
    assert "fast: FAILED" in done.stdout


def test_complete_prints_the_model_answer(tmp_path: Path, fake_model: FakeModelServer) -> None:
    fake_model.reply = "return a + b"
    (tmp_path / "spark.toml").write_text(
        f'[fast]\nprovider = "ollama"\nurl = "{fake_model.url}"\nmodel = "m"\n'
    )
    (tmp_path / "add.py").write_text("def add(a, b):\n    \n")
    done = _run(["complete", "add.py:2:5"], tmp_path, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "return a + b"
    body = fake_model.requests[-1].body
    assert body["prompt"].endswith("def add(a, b):\n    ")


def test_complete_names_the_file_relative_to_the_root(
    tmp_path: Path, fake_model: FakeModelServer
) -> None:
    """As the server does: the prompt (and so the answer) does not depend on where the project
    sits on disk."""
    fake_model.reply = "return a + b"
    (tmp_path / "spark.toml").write_text(
        f'[fast]\nprovider = "ollama"\nurl = "{fake_model.url}"\nmodel = "m"\n'
    )
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "add.py").write_text("def add(a, b):\n    \n")
    done = _run(["complete", "pkg/add.py:2:5"], tmp_path, tmp_path)
    assert done.returncode == 0, done.stderr
    prompt = fake_model.requests[-1].body["prompt"]
    assert "pkg/add.py" in prompt
    assert str(tmp_path) not in prompt


def test_complete_explains_an_unreachable_model(tmp_path: Path) -> None:
    (tmp_path / "spark.toml").write_text(
        '[fast]\nprovider = "ollama"\nurl = "http://127.0.0.1:9"\nmodel = "m"\n'
    )
    (tmp_path / "a.py").write_text("x = \n")
    done = _run(["complete", "a.py:1:5"], tmp_path, tmp_path)
    assert done.returncode == 1
    assert "spark-lsp:" in done.stderr and "Traceback" not in done.stderr


def test_doctor_does_not_credit_a_rejected_value_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "spark.toml").write_text('[fast]\nprovider = "olama"\n')
    done = _run(["doctor", "--root", str(tmp_path)], tmp_path, tmp_path / "home")
    assert done.returncode == 1, done.stdout  # it reports a problem: not a clean bill
    assert "fast.provider = 'local'  (default; the value in workspace spark.toml was rejected)" \
        in done.stdout, done.stdout
    assert "problem: fast.provider" in done.stdout
    assert f"workspace config: {tmp_path / 'spark.toml'} (found)" in done.stdout
    assert "spark.toml (not found)" in done.stdout  # the user's file is not there


def test_complete_refuses_a_column_past_the_end(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    done = _run(["complete", "a.py:1:40"], tmp_path, tmp_path)
    assert done.returncode == 1
    assert "column 40 is past its end (the last is 6)" in done.stderr, done.stderr


def test_complete_says_a_binary_file_is_not_text(tmp_path: Path) -> None:
    (tmp_path / "blob.py").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    done = _run(["complete", "blob.py:1:1"], tmp_path, tmp_path)
    assert done.returncode == 1
    assert "not a text file" in done.stderr and "codec" not in done.stderr, done.stderr


def test_a_timeout_names_the_setting_to_raise(tmp_path: Path, fake_model: FakeModelServer
                                              ) -> None:
    fake_model.first_chunk_delay = 5.0  # far past the limit below
    (tmp_path / "spark.toml").write_text(
        f'[fast]\nprovider = "ollama"\nurl = "{fake_model.url}"\nmodel = "m"\n'
        "timeout_ms = 300\n")
    (tmp_path / "add.py").write_text("def add(a, b):\n    \n")
    done = _run(["complete", "add.py:2:5"], tmp_path, tmp_path)
    assert done.returncode == 1
    assert "timeout_ms" in done.stderr and "raise" in done.stderr, done.stderr


def test_an_answer_cut_at_the_deadline_is_not_printed(tmp_path: Path,
                                                      fake_model: FakeModelServer) -> None:
    fake_model.reply = "fibonacci(n - 1) + fibonacci(n - 2)"
    fake_model.chunk_size, fake_model.chunk_delay = 3, 0.5  # ~6 s for the whole line
    (tmp_path / "spark.toml").write_text(
        f'[fast]\nprovider = "ollama"\nurl = "{fake_model.url}"\nmodel = "m"\n'
        "timeout_ms = 1000\n")
    (tmp_path / "fib.py").write_text("def fibonacci(n):\n    return \n")
    done = _run(["complete", "fib.py:2:12"], tmp_path, tmp_path)
    assert done.returncode == 1, done.stdout
    assert done.stdout == ""  # half a line is no completion
    assert "cut at fast.timeout_ms" in done.stderr, done.stderr
