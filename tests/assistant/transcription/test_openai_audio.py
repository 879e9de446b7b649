"""``POST /v1/audio/transcriptions`` with the official ``openai`` client against a live server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from assistant.app import create_app
from assistant.core.config import Settings
from assistant.provenance import AI_LABEL
from assistant.runtime import open_runtime
from assistant.security import Scope
from assistant.services.identity.api_keys import create_api_key
from assistant.services.identity.users import create_local_user
from assistant.store.models import Role
from tests.factories import PASSWORD, Account
from tests.fakes.live_app import LiveServer


def settings_of(live: tuple[LiveServer, Account]) -> Settings:
    settings: Settings = live[0].app.state.runtime.settings
    return settings


async def _account(settings: Settings) -> Account:
    # Created through a runtime of its own on the same database, before the live server starts.
    async with open_runtime(settings, with_worker=False) as runtime:
        user = await create_local_user(runtime, username="greffier", role=Role.AGENT, password=PASSWORD)
        created = await create_api_key(runtime, owner_id=user.id, name="client", scopes=[Scope.TRANSCRIPTIONS])
    return Account(id=user.id, username="greffier", role=Role.AGENT, key=created.secret)


@pytest.fixture
def live(transcription_settings) -> Iterator[tuple[LiveServer, Account]]:  # type: ignore[no-untyped-def]
    settings = transcription_settings(transcription_sync_max_duration_seconds=15)
    account = asyncio.run(_account(settings))
    with LiveServer(create_app(settings)) as server:
        yield server, account


def _client(live: tuple[LiveServer, Account]) -> openai.OpenAI:
    server, account = live
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=account.key, max_retries=0)


def test_official_client_gets_labelled_json_and_verbose_json(
    live: tuple[LiveServer, Account], french_wav: Path
) -> None:
    client = _client(live)

    with french_wav.open("rb") as audio:
        raw = client.audio.transcriptions.with_raw_response.create(model="whisper-1", file=audio, language="fr")
    assert raw.headers["x-ai-generated"] == "true" and raw.headers["x-ai-model"] == "whisper-base"
    plain = raw.parse()
    assert "conseil" in plain.text.lower()
    assert plain.model_extra is not None and plain.model_extra["ai_generated"] is True
    assert plain.model_extra["provenance"]["model_id"] == "whisper-base"

    with french_wav.open("rb") as audio:
        verbose = client.audio.transcriptions.create(
            model="whisper-1", file=audio, response_format="verbose_json", timestamp_granularities=["word", "segment"]
        )
    assert verbose.language == "fr" and 5 < verbose.duration < 10
    assert verbose.segments and verbose.words
    assert any("bibliothèque" in word.word.lower() for word in verbose.words)
    assert verbose.model_extra is not None and verbose.model_extra["provenance"]["sovereign"] is True


@pytest.mark.parametrize("fmt", ["text", "srt", "vtt"])
def test_text_formats(live: tuple[LiveServer, Account], french_wav: Path, fmt: str) -> None:
    client = _client(live)
    with french_wav.open("rb") as audio:
        raw = client.audio.transcriptions.with_raw_response.create(model="whisper-1", file=audio, response_format=fmt)
    assert raw.headers["x-ai-generated"] == "true"
    body = raw.text
    assert "conseil" in body.lower()
    if fmt == "text":
        assert AI_LABEL not in body, "plain text stays plain: the label is in the headers"
    else:
        assert AI_LABEL in body and "-->" in body


def test_errors_reach_the_client_in_french(live: tuple[LiveServer, Account], tmp_path: Path, long_wav: Path) -> None:
    client = _client(live)
    notes = tmp_path / "notes.txt"
    notes.write_text("pas de son ici\n" * 10, encoding="utf-8")
    with pytest.raises(openai.APIStatusError) as wrong_type, notes.open("rb") as handle:
        client.audio.transcriptions.create(model="whisper-1", file=handle)
    assert wrong_type.value.status_code == 415 and "pris en charge" in wrong_type.value.message
    with pytest.raises(openai.APIStatusError) as too_long, long_wav.open("rb") as handle:
        client.audio.transcriptions.create(model="whisper-1", file=handle)
    assert too_long.value.status_code == 413 and "/api/transcriptions" in too_long.value.message
    scratch = settings_of(live).data_dir / "transcriptions" / "tmp"
    assert not scratch.exists() or list(scratch.iterdir()) == [], "scratch files are removed"
    unauthenticated = openai.OpenAI(base_url=f"{live[0].url}/v1", api_key="sk-faux", max_retries=0)
    with pytest.raises(openai.AuthenticationError), long_wav.open("rb") as handle:
        unauthenticated.audio.transcriptions.create(model="whisper-1", file=handle)
