"""Responsible use: the usage charter (read, accept, publish, export acceptances) and the forbidden-use rules."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Response, Security, status
from pydantic import BaseModel, Field

from assistant.api.deps import ClientDep, RequirePermission, RuntimeDep
from assistant.guard import GuardRule
from assistant.security import Permission, Principal
from assistant.services.charter import usage_charter as service
from assistant.services.gateway.guard import current_engine, replace_rules

__all__ = ["router"]

router = APIRouter(tags=["charte d'utilisation"])

AnyUser = Annotated[Principal, Security(RequirePermission(Permission.PROFILE))]
CharterManager = Annotated[Principal, Security(RequirePermission(Permission.MANAGE_CHARTER))]
Auditor = Annotated[Principal, Security(RequirePermission(Permission.READ_AUDIT))]


class CharterOut(BaseModel):
    version: int | None = Field(description="None: no charter published yet (the shipped default is shown).")
    title: str
    summary: str
    text: str = Field(description="Markdown.")
    published_at: datetime | None = None
    published_by: str | None = None
    required: bool = Field(description="True when the caller must accept this version before using the assistant.")
    accepted: bool
    accepted_at: datetime | None = None
    page: str = service.CHARTER_PAGE

    @classmethod
    def of(cls, state: service.CharterState) -> CharterOut:
        charter = state.charter
        return cls(
            version=charter.version,
            title=charter.title,
            summary=charter.summary,
            text=charter.text,
            published_at=charter.published_at,
            published_by=charter.published_by,
            required=state.required,
            accepted=state.accepted,
            accepted_at=state.accepted_at,
        )


class CharterPublish(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    summary: str | None = Field(default=None, max_length=4000, description="Short list of the rules (Markdown).")
    text: str | None = Field(
        default=None, min_length=1, max_length=200_000, description="Markdown; the shipped default when omitted."
    )


class CharterAccept(BaseModel):
    version: int = Field(ge=1, description="The version read (must be the current one).")


class AcceptanceOut(BaseModel):
    user_id: uuid.UUID
    username: str
    version: int
    accepted_at: datetime
    method: str


class RuleSetOut(BaseModel):
    version: int
    rules: list[GuardRule]


class RuleSetIn(BaseModel):
    rules: list[dict[str, Any]] = Field(description="The whole rule set (replaces the current one).")


@router.get("/api/charter", response_model=CharterOut, summary="Charte d'utilisation en vigueur, et mon acceptation")
async def read_charter(principal: AnyUser, runtime: RuntimeDep) -> CharterOut:
    return CharterOut.of(await service.charter_state(runtime, principal))


@router.post("/api/charter/accept", response_model=CharterOut, summary="Accepter la charte en vigueur")
async def accept_charter(body: CharterAccept, principal: AnyUser, runtime: RuntimeDep, client: ClientDep) -> CharterOut:
    state = await service.accept_charter(runtime, principal=principal, client=client, version=body.version)
    return CharterOut.of(state)


@router.post(
    "/api/admin/charter",
    response_model=CharterOut,
    status_code=status.HTTP_201_CREATED,
    summary="Publier une nouvelle version de la charte (chacun devra l'accepter à nouveau)",
)
async def publish_charter(
    body: CharterPublish, principal: CharterManager, runtime: RuntimeDep, client: ClientDep
) -> CharterOut:
    await service.publish_charter(
        runtime, principal=principal, client=client, title=body.title, summary=body.summary, text=body.text
    )
    return CharterOut.of(await service.charter_state(runtime, principal))


@router.get(
    "/api/audit/charter-acceptances",
    response_model=list[AcceptanceOut],
    summary="Acceptations de la charte (JSON ou CSV), pour l'audit",
    responses={200: {"content": {"text/csv": {}}}},
)
async def export_acceptances(
    _: Auditor, runtime: RuntimeDep, format: Literal["json", "csv"] = "json", version: int | None = None
) -> Response | list[AcceptanceOut]:
    rows = await service.acceptance_export(runtime, version=version)
    if format == "csv":
        return Response(
            service.acceptances_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="acceptations-charte.csv"'},
        )
    return [
        AcceptanceOut(
            user_id=row.user_id,
            username=row.username,
            version=row.version,
            accepted_at=row.accepted_at,
            method=row.method,
        )
        for row in rows
    ]


@router.get("/api/admin/guard-rules", response_model=RuleSetOut, summary="Règles du garde-fou d'usages interdits")
async def read_guard_rules(_: CharterManager, runtime: RuntimeDep) -> RuleSetOut:
    engine = await current_engine(runtime)
    return RuleSetOut(version=engine.version, rules=list(engine.rules))


@router.put("/api/admin/guard-rules", response_model=RuleSetOut, summary="Remplacer les règles du garde-fou")
async def put_guard_rules(
    body: RuleSetIn, principal: CharterManager, runtime: RuntimeDep, client: ClientDep
) -> RuleSetOut:
    engine = await replace_rules(runtime, principal=principal, client=client, raw_rules=list(body.rules))
    return RuleSetOut(version=engine.version, rules=list(engine.rules))
