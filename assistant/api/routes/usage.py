"""The caller's own consumption: tokens, energy and carbon, today, over 30 days and per model (design §9)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Security
from pydantic import BaseModel, Field

from assistant.api.deps import RequirePermission, RuntimeDep
from assistant.security import Permission, Principal
from assistant.services.gateway.usage import usage_summary
from assistant.store.usage import UsageTotals

__all__ = ["router"]

router = APIRouter(prefix="/api/me", tags=["mon compte"])

ProfileReader = Annotated[Principal, Security(RequirePermission(Permission.PROFILE))]


class Totals(BaseModel):
    requests: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    energy_wh: float = Field(description="Estimated energy (Wh).")
    gco2e: float = Field(description="Estimated emissions (g CO2e).")
    latency_ms: float

    @classmethod
    def of(cls, totals: UsageTotals) -> Totals:
        return cls(
            requests=totals.requests,
            prompt_tokens=totals.prompt_tokens,
            completion_tokens=totals.completion_tokens,
            total_tokens=totals.prompt_tokens + totals.completion_tokens,
            energy_wh=round(totals.energy_wh, 6),
            gco2e=round(totals.gco2e, 6),
            latency_ms=round(totals.latency_ms, 1),
        )


class ModelTotals(Totals):
    model: str


class UsageOut(BaseModel):
    today: Totals = Field(description="Since midnight UTC.")
    last_30_days: Totals
    by_model: list[ModelTotals] = Field(description="Last 30 days, per model.")


@router.get("/usage", response_model=UsageOut, summary="Ma consommation : jetons, énergie, CO2e")
async def read_own_usage(principal: ProfileReader, runtime: RuntimeDep) -> UsageOut:
    summary = await usage_summary(runtime, user_id=principal.user_id)
    return UsageOut(
        today=Totals.of(summary.today),
        last_30_days=Totals.of(summary.last_30_days),
        by_model=[ModelTotals(model=row.key or "?", **Totals.of(row).model_dump()) for row in summary.by_model],
    )
