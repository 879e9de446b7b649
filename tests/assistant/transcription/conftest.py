"""Fixtures of the transcription service tests: an app on the session's Whisper model, and an agent.

The model, the speech recordings, ``transcription_settings`` and ``transcription_app`` come from the
``tests.fakes.speech_plugin`` plugin (registered in ``tests/conftest.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.store.models import Role
from tests.factories import Account, make_account


@pytest.fixture
def app(transcription_app: Callable[..., FastAPI]) -> FastAPI:
    return transcription_app()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def agent(client: TestClient, app: FastAPI) -> Account:
    return make_account(client, app, "secretaire", Role.AGENT)
