"""Energy and carbon of one generation request.

Two methods, chosen by what we know about the model:

* ``ecologits`` — for models served on GPUs whose parameter count is in the model card: EcoLogits' published
  methodology (per-token GPU energy regressed on active parameters at a batch of 64, server overhead, PUE), with
  the electricity mix configured for the site. Usage carbon only: embodied impacts are reported by EcoLogits but
  belong to hardware accounting, not to a request.
* ``power_time`` — for anything else, and for the embedded CPU model: measured latency × the power the operator
  declares for the hardware that runs it (watts), × PUE. Simple, explainable, and honest about its inputs.

Carbon = energy × grid intensity (gCO2e/kWh; French mix by default: 41.4 g, EcoLogits' ADEME-based figure).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from ecologits.electricity_mix_repository import electricity_mixes
from ecologits.impacts.llm import compute_llm_impacts

__all__ = ["FRENCH_GRID_GCO2_PER_KWH", "EnergyEstimate", "estimate_gpu_request", "estimate_power_time"]

logger = logging.getLogger(__name__)

_FRANCE = electricity_mixes.find_electricity_mix(zone="FRA")
FRENCH_GRID_GCO2_PER_KWH = round(_FRANCE.gwp * 1000, 2) if _FRANCE else 41.44


@dataclass(frozen=True)
class EnergyEstimate:
    """Energy (Wh) and emissions (gCO2e) attributed to one request, with the method that produced them."""

    energy_wh: float
    gco2e: float
    method: Literal["ecologits", "power_time"]


def _value(quantity: object) -> float:
    # EcoLogits returns a range when parameter counts are ranges; we report its middle.
    value = getattr(quantity, "value", quantity)
    low, high = getattr(value, "min", None), getattr(value, "max", None)
    if low is not None and high is not None:
        return (float(low) + float(high)) / 2
    return float(value)  # type: ignore[arg-type]


def estimate_gpu_request(
    *,
    active_parameters_billion: float,
    total_parameters_billion: float,
    output_tokens: int,
    latency_seconds: float,
    grid_gco2_per_kwh: float = FRENCH_GRID_GCO2_PER_KWH,
    pue: float = 1.2,
) -> EnergyEstimate:
    """EcoLogits' estimate for a GPU-served open model."""
    if output_tokens <= 0:
        return EnergyEstimate(0.0, 0.0, "ecologits")
    mix = _FRANCE
    impacts = compute_llm_impacts(
        model_active_parameter_count=active_parameters_billion,
        model_total_parameter_count=total_parameters_billion,
        output_token_count=output_tokens,
        if_electricity_mix_adpe=mix.adpe if mix else 0.0,
        if_electricity_mix_pe=mix.pe if mix else 0.0,
        if_electricity_mix_gwp=grid_gco2_per_kwh / 1000,
        if_electricity_mix_wue=mix.wue if mix else 0.0,
        datacenter_pue=pue,
        datacenter_wue=0.0,
        request_latency=max(latency_seconds, 1e-3),
    )
    energy_kwh = _value(impacts.energy)
    return EnergyEstimate(energy_kwh * 1000, energy_kwh * grid_gco2_per_kwh, "ecologits")


def estimate_power_time(
    *,
    power_watts: float,
    latency_seconds: float,
    grid_gco2_per_kwh: float = FRENCH_GRID_GCO2_PER_KWH,
    pue: float = 1.0,
    concurrency: int = 1,
) -> EnergyEstimate:
    """Power × time, shared among ``concurrency`` requests served at once by the same hardware."""
    energy_wh = power_watts * max(latency_seconds, 0.0) / 3600 * pue / max(concurrency, 1)
    return EnergyEstimate(energy_wh, energy_wh / 1000 * grid_gco2_per_kwh, "power_time")
