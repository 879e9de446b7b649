"""Which energy model applies to a request, from what the registry knows about the model that served it."""

from __future__ import annotations

import re

from assistant.core.config import Settings
from assistant.frugality import EnergyEstimate, estimate_gpu_request, estimate_power_time
from assistant.llm import RegisteredModel

__all__ = ["estimate_request_energy", "parameters_in_billions"]

_SIZE = re.compile(r"^\s*(?:(\d+)\s*[x×]\s*)?(\d+(?:[.,]\d+)?)\s*([KMBT])\s*$", re.IGNORECASE)
_SCALE = {"K": 1e-6, "M": 1e-3, "B": 1.0, "T": 1e3}
# Assumptions for GPU-served models whose size is unknown: one H100-class GPU shared by a full batch.
_GPU_WATTS = 700.0
_GPU_BATCH = 64


def parameters_in_billions(size: str | None) -> float | None:
    """'24B' → 24.0, '135M' → 0.135, '8x7B' → 56.0; None when the card gives no usable size."""
    if not size:
        return None
    match = _SIZE.match(size)
    if match is None:
        return None
    experts = int(match.group(1) or 1)
    return experts * float(match.group(2).replace(",", ".")) * _SCALE[match.group(3).upper()]


def estimate_request_energy(
    settings: Settings, model: RegisteredModel, *, output_tokens: int, latency_seconds: float
) -> EnergyEstimate:
    """Energy and carbon of one request served by ``model``."""
    if model.backend.kind == "embedded":
        return estimate_power_time(
            power_watts=settings.embedded.power_watts,
            latency_seconds=latency_seconds,
            grid_gco2_per_kwh=settings.grid_gco2_per_kwh,
        )
    size = parameters_in_billions(model.card.parameters)
    if size is not None:
        return estimate_gpu_request(
            active_parameters_billion=size,
            total_parameters_billion=size,
            output_tokens=output_tokens,
            latency_seconds=latency_seconds,
            grid_gco2_per_kwh=settings.grid_gco2_per_kwh,
            pue=settings.datacenter_pue,
        )
    return estimate_power_time(
        power_watts=_GPU_WATTS,
        latency_seconds=latency_seconds,
        grid_gco2_per_kwh=settings.grid_gco2_per_kwh,
        pue=settings.datacenter_pue,
        concurrency=_GPU_BATCH,
    )
