"""Frugality: energy and carbon per request (design §9)."""

from assistant.frugality._estimate import (
    FRENCH_GRID_GCO2_PER_KWH,
    EnergyEstimate,
    estimate_gpu_request,
    estimate_power_time,
)

__all__ = ["FRENCH_GRID_GCO2_PER_KWH", "EnergyEstimate", "estimate_gpu_request", "estimate_power_time"]
