"""Pytest fixtures for the fake OpenAI-compatible upstream.

Register once in the root ``tests/conftest.py`` with ``pytest_plugins = ["tests.fakes.pytest_plugin"]``.
One server runs for the whole session; each test gets it reset (faults off, no recorded request).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.openai_upstream import FakeUpstream


@pytest.fixture(scope="session")
def _openai_upstream_server() -> Iterator[FakeUpstream]:
    with FakeUpstream() as server:
        yield server


@pytest.fixture
def openai_upstream(_openai_upstream_server: FakeUpstream) -> Iterator[FakeUpstream]:
    """The running fake upstream, reset for this test and restarted if the test stopped it."""
    server = _openai_upstream_server
    server.reset()
    yield server
    server.reset()
    if server._thread is None:
        server.start()
