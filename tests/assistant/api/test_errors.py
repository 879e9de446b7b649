"""Every error, expected or not, answers in the same JSON envelope and never leaks a stack trace."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from assistant import errors


class _Payload(BaseModel):
    name: str = Field(min_length=2)
    count: int


def _probe_router() -> APIRouter:
    router = APIRouter(prefix="/probe")

    @router.post("/validate")
    async def validate(payload: _Payload) -> dict[str, str]:
        return {"name": payload.name}

    @router.get("/crash")
    async def crash() -> None:
        raise RuntimeError("secret internal detail /etc/passwd")

    @router.get("/missing")
    async def missing() -> None:
        raise errors.NotFoundError("Conversation introuvable.")

    @router.get("/limited")
    async def limited() -> None:
        raise errors.RateLimitedError("Quota atteint.", retry_after=42)

    @router.get("/anonymous")
    async def anonymous() -> None:
        raise errors.AuthenticationError("Jeton expiré.")

    @router.get("/down")
    async def down() -> None:
        raise errors.ServiceUnavailableError("Le modèle ne répond pas.")

    return router


@pytest.fixture
def probed(app: FastAPI) -> Iterator[TestClient]:
    app.include_router(_probe_router())
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _error(response) -> dict[str, object]:  # type: ignore[no-untyped-def]
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body["error"]) >= {"message", "type", "code", "param", "request_id"}
    assert body["error"]["request_id"] == response.headers["x-request-id"]
    return body["error"]


def test_unknown_route_is_a_json_404(probed: TestClient) -> None:
    response = probed.get("/nulle-part")
    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


def test_wrong_method_is_a_json_405_with_allow(probed: TestClient) -> None:
    response = probed.delete("/healthz")
    assert response.status_code == 405
    assert _error(response)["code"] == "method_not_allowed"
    assert "GET" in response.headers["allow"]


def test_invalid_body_is_a_json_422_naming_the_field(probed: TestClient) -> None:
    response = probed.post("/probe/validate", json={"name": "x"})
    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "validation_error"
    assert error["param"] == "name"
    assert "count" in str(error["message"])
    assert {tuple(item["loc"]) for item in response.json()["detail"]} == {("body", "name"), ("body", "count")}


def test_malformed_json_is_a_422_not_a_500(probed: TestClient) -> None:
    response = probed.post("/probe/validate", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert _error(response)["type"] == "invalid_request_error"


def test_unexpected_exception_is_a_generic_500_without_internals(probed: TestClient) -> None:
    response = probed.get("/probe/crash")
    assert response.status_code == 500
    error = _error(response)
    assert error["code"] == "internal_error"
    assert "secret" not in response.text and "Traceback" not in response.text and "RuntimeError" not in response.text


@pytest.mark.parametrize(
    ("path", "status", "error_type", "header"),
    [
        ("/probe/missing", 404, "not_found_error", None),
        ("/probe/limited", 429, "rate_limit_error", ("retry-after", "42")),
        ("/probe/anonymous", 401, "authentication_error", ("www-authenticate", "Bearer")),
        ("/probe/down", 503, "service_unavailable_error", None),
    ],
)
def test_domain_errors_map_to_their_status(
    probed: TestClient, path: str, status: int, error_type: str, header: tuple[str, str] | None
) -> None:
    response = probed.get(path)
    assert response.status_code == status
    assert _error(response)["type"] == error_type
    if header:
        assert response.headers[header[0]] == header[1]


def test_request_id_is_kept_when_sane_and_replaced_when_not(probed: TestClient) -> None:
    assert probed.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    replaced = probed.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"}).headers["x-request-id"]
    assert replaced != "bad id\twith spaces" and len(replaced) == 32
    first, second = probed.get("/healthz"), probed.get("/healthz")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
