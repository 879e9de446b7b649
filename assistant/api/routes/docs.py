"""The OpenAPI schema and its viewers.

Decision: public. The schema lists routes and shapes, never data, and integrators (OpenAI clients, scripts)
need it before they hold a key; hiding it would be obscurity, not security. Declared here, rather than by
FastAPI's defaults, so that these routes carry an explicit policy like every other.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from assistant.api.deps import PUBLIC

__all__ = ["router"]

router = APIRouter(dependencies=[PUBLIC], include_in_schema=False)


@router.get("/openapi.json")
async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/docs")
async def swagger(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{request.app.title} — API")


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(openapi_url="/openapi.json", title=f"{request.app.title} — API")
