"""The OpenAPI document, completed with the error answers every route can give.

FastAPI documents a route's success and its 422 only; our routes also answer 401/403 (authentication and policy,
declared on every route), 404 (unknown or foreign object), 429 (quota), 503 (database or backend down)…, always in
the one error envelope of :mod:`assistant.api.errors`. Documenting them keeps the schema honest for integrators
and lets contract fuzzing (schemathesis) check every answer against it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

__all__ = ["install_openapi"]

_ERROR_SCHEMA: dict[str, Any] = {
    "title": "ErrorResponse",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type", "code"],
            "properties": {
                "message": {"type": "string", "description": "Message en français, destiné à l'utilisateur."},
                "type": {"type": "string"},
                "param": {"type": ["string", "null"]},
                "code": {"type": ["string", "null"]},
                "request_id": {"type": ["string", "null"]},
            },
        }
    },
}
_ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}

# Every route: request shape, authentication, permission, object lookup, conflicts, size, media type, quota,
# and the store (or a backend) being unavailable.
_COMMON = {
    400: "Requête invalide",
    401: "Authentification requise ou invalide",
    403: "Permission ou portée de clé insuffisante",
    404: "Ressource introuvable (ou appartenant à un autre utilisateur)",
    409: "Conflit avec l'état actuel",
    413: "Contenu trop volumineux",
    415: "Type de contenu non pris en charge",
    429: "Quota ou débit dépassé",
    503: "Service momentanément indisponible (base de données, modèle)",
}
# Routes that call a model: its server can be withdrawn, answer badly or too late.
_GENERATING = {
    410: "Modèle retiré du service",
    502: "Réponse invalide du serveur de modèle",
    504: "Le serveur de modèle n'a pas répondu à temps",
}
_GENERATING_PREFIXES = (
    "/v1/",
    "/api/conversations/{conversation_id}/messages",
    "/api/tasks/",
    "/api/rag/",
    "/api/search",
    "/api/collections/{collection_id}/documents",
)
_METHODS = ("get", "put", "post", "delete", "patch")


def _complete(document: dict[str, Any]) -> dict[str, Any]:
    document.setdefault("components", {}).setdefault("schemas", {})["ErrorResponse"] = _ERROR_SCHEMA
    for path, item in document.get("paths", {}).items():
        extra = dict(_COMMON)
        if path.startswith(_GENERATING_PREFIXES):
            extra |= _GENERATING
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in extra.items():
                responses.setdefault(
                    str(status), {"description": description, "content": {"application/json": {"schema": _ERROR_REF}}}
                )
            # Our validation errors use the envelope (plus the detail list), not FastAPI's bare {"detail": [...]}.
            if "422" in responses:
                responses["422"] = {
                    "description": "Paramètres invalides",
                    "content": {"application/json": {"schema": _ERROR_REF}},
                }
    return document


def install_openapi(app: FastAPI) -> None:
    """Replace ``app.openapi`` with one that documents the error answers too (built once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _complete(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    summary=app.summary,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
