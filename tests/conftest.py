"""Shared pytest fixtures for the whole test suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakemodel import FakeModelServer


@pytest.fixture
def fake_model() -> Iterator[FakeModelServer]:
    """A fake model server on loopback, fresh for each test (see tests/fakemodel.py)."""
    with FakeModelServer() as fake:
        yield fake
