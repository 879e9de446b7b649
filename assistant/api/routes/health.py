"""Probes and metrics for operators: liveness, readiness, Prometheus."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from assistant import __version__
from assistant.api.deps import DIRECT_ONLY, PUBLIC, RuntimeDep
from assistant.api.errors import error_response
from assistant.services.operations.health import check_readiness

__all__ = ["router"]

# Probes need no credentials (orchestrators and Prometheus hold none) but answer only direct connections: what
# the ingress relays from outside gets a 404, so dependency states and metrics stay inside the cluster.
router = APIRouter(tags=["santé"], dependencies=[PUBLIC, DIRECT_ONLY])


class Liveness(BaseModel):
    """The process is up."""

    status: str
    version: str


class Check(BaseModel):
    """One dependency's state."""

    name: str
    ok: bool
    detail: str


class Readiness(BaseModel):
    """Every dependency answered."""

    status: str
    checks: list[Check]


@router.get("/healthz", response_model=Liveness, summary="Le processus répond")
async def healthz() -> Liveness:
    return Liveness(status="ok", version=__version__)


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Base de données, file des tâches et modèles joignables",
    responses={503: {"description": "Une dépendance ne répond pas"}},
)
async def readyz(request: Request, runtime: RuntimeDep) -> Readiness | JSONResponse:
    results = await check_readiness(runtime)
    checks = [Check(name=result.name, ok=result.ok, detail=result.detail) for result in results]
    if all(check.ok for check in checks):
        return Readiness(status="ready", checks=checks)
    failing = ", ".join(check.name for check in checks if not check.ok)
    return error_response(
        request,
        status=503,
        error_type="service_unavailable_error",
        code="not_ready",
        message=f"Service pas prêt : {failing}.",
        extra={"status": "not_ready", "checks": [check.model_dump() for check in checks]},
    )


@router.get("/metrics", summary="Métriques Prometheus", response_class=Response)
async def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics_registry), media_type=CONTENT_TYPE_LATEST)
