"""The OpenAPI schema and its viewers.

Decision: public in development (integrators need the schema while they build), behind sign-in in production
(``SOUVERAIN_API_DOCS_PUBLIC`` overrides): the schema lists routes and shapes, never data, but an outsider has
no need of a map of the service. Declared here, rather than by FastAPI's defaults, so that these routes carry an
explicit policy like every other.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from assistant.api.deps import DOCS_GATE, PUBLIC

__all__ = ["router"]

router = APIRouter(dependencies=[PUBLIC, DOCS_GATE], include_in_schema=False)


@router.get("/openapi.json")
async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/docs")
async def swagger(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{request.app.title} — API")


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(openapi_url="/openapi.json", title=f"{request.app.title} — API")
