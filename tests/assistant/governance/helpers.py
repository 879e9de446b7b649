"""Building a governance test world: an app on a fake vLLM upstream, accounts, and answers to report."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from assistant.llm import BackendConfig
from tests.factories import model_card, upstream_backend

MODEL = "vllm-model"
OTHER_MODEL = "secours-model"
QUESTION = "Quel est le délai de recours contentieux ?"


def backends(upstream_url: str) -> list[BackendConfig]:
    """Two sovereign models on the fake upstream, with cards."""
    return [
        upstream_backend(
            upstream_url,
            name=name,
            card=model_card(f"Modèle {name}", languages=["fr", "en"], weights_sha256="ab" * 32),
        )
        for name in ("vllm", "secours")
    ]


def ask(client: TestClient, headers: dict[str, str], model: str = MODEL) -> Any:
    """One labelled, signed answer from the gateway."""
    return client.post(
        "/v1/chat/completions",
        json={"model": model, "messages": [{"role": "user", "content": QUESTION}]},
        headers=headers,
    )


def answer(client: TestClient, headers: dict[str, str], model: str = MODEL) -> tuple[str, dict[str, Any]]:
    """The text of an answer and its signed manifest."""
    response = ask(client, headers, model)
    assert response.status_code == 200, response.text
    body = response.json()
    return body["choices"][0]["message"]["content"], body["provenance_manifests"][0]


def report_body(text: str, manifest: dict[str, Any] | None, category: str = "erreur_factuelle") -> dict[str, Any]:
    body: dict[str, Any] = {"category": category, "description": "La réponse cite un délai erroné.", "excerpt": text}
    if manifest is not None:
        body["manifest"] = manifest
        body["provenance"] = manifest["provenance"]
    return body
