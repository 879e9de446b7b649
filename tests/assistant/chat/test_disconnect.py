"""A client that goes away mid-stream: on a real server, the partial answer is kept and marked incomplete."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx

from assistant.app import create_app
from assistant.core.config import Settings
from assistant.runtime import open_runtime
from assistant.security import Scope
from assistant.services.identity.api_keys import create_api_key
from assistant.services.identity.users import create_local_user
from assistant.store.models import Role
from tests.factories import PASSWORD
from tests.fakes import FakeUpstream, fake_reply
from tests.fakes.live_app import LiveServer

QUESTION = " ".join(f"mot{index}" for index in range(60))


def _api_key(settings: Settings) -> dict[str, str]:
    async def build() -> str:
        async with open_runtime(settings, with_worker=False) as runtime:
            user = await create_local_user(runtime, username="agent.pressee", role=Role.AGENT, password=PASSWORD)
            return (await create_api_key(runtime, owner_id=user.id, name="t", scopes=list(Scope))).secret

    return {"Authorization": f"Bearer {asyncio.run(build())}"}


def _wait_for_saved_answer(http: httpx.Client, conversation_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        messages = http.get(f"/api/conversations/{conversation_id}").json()["messages"]
        if len(messages) == 2 and messages[1]["provenance_manifest"] is not None:
            return dict(messages[1])
        time.sleep(0.05)
    raise AssertionError("the interrupted answer was never saved")


def test_client_disconnect_mid_stream_saves_the_partial_answer(
    chat_settings,
    openai_upstream: FakeUpstream,  # type: ignore[no-untyped-def]
) -> None:
    settings = chat_settings()
    headers = _api_key(settings)
    openai_upstream.faults.tokens_per_second = 40  # 60 tokens: 1.5 s, plenty of time to hang up half-way
    with LiveServer(create_app(settings)) as server, httpx.Client(base_url=server.url, headers=headers) as http:
        conversation = http.post("/api/conversations", json={}).json()
        received: list[str] = []
        body = {"content": QUESTION, "stream": True}
        with http.stream("POST", f"/api/conversations/{conversation['id']}/messages", json=body) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if line.startswith("data: ") and '"content"' in line and "message_id" not in line:
                    received.append(json.loads(line.removeprefix("data: "))["content"])
                if len(received) >= 5:
                    break  # leaving the block closes the connection mid-answer
        answer = _wait_for_saved_answer(http, conversation["id"])
        full = fake_reply(QUESTION)
        assert answer["incomplete"] is True and answer["ai_generated"] is True
        assert answer["content"].startswith("".join(received).strip())
        assert 0 < len(answer["content"]) < len(full) and full.startswith(answer["content"])
        verdict = http.post(
            "/api/provenance/verify", json={"content": answer["content"], "manifest": answer["provenance_manifest"]}
        ).json()
        assert verdict["valid"] is True
        usage = http.get("/api/me/usage").json()
        assert usage["today"]["requests"] == 1 and usage["today"]["completion_tokens"] > 0
