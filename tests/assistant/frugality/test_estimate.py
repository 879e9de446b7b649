from __future__ import annotations

import pytest

from assistant.frugality import FRENCH_GRID_GCO2_PER_KWH, estimate_gpu_request, estimate_power_time


def test_french_grid_default_comes_from_the_ecologits_mix() -> None:
    assert 20 < FRENCH_GRID_GCO2_PER_KWH < 80


def test_power_time_is_power_times_duration_shared_by_concurrency() -> None:
    estimate = estimate_power_time(power_watts=36, latency_seconds=10, grid_gco2_per_kwh=50)
    assert estimate.energy_wh == pytest.approx(0.1)
    assert estimate.gco2e == pytest.approx(0.005)
    assert estimate_power_time(power_watts=36, latency_seconds=10, concurrency=4).energy_wh == pytest.approx(0.025)
    assert estimate.method == "power_time"


def test_gpu_estimate_grows_with_model_size_and_tokens_and_follows_the_grid() -> None:
    small = estimate_gpu_request(
        active_parameters_billion=8, total_parameters_billion=8, output_tokens=300, latency_seconds=5
    )
    large = estimate_gpu_request(
        active_parameters_billion=70, total_parameters_billion=70, output_tokens=300, latency_seconds=5
    )
    longer = estimate_gpu_request(
        active_parameters_billion=8, total_parameters_billion=8, output_tokens=900, latency_seconds=15
    )
    dirty = estimate_gpu_request(
        active_parameters_billion=8,
        total_parameters_billion=8,
        output_tokens=300,
        latency_seconds=5,
        grid_gco2_per_kwh=FRENCH_GRID_GCO2_PER_KWH * 10,
    )
    assert 0 < small.energy_wh < large.energy_wh
    assert small.energy_wh < longer.energy_wh
    assert dirty.gco2e == pytest.approx(small.gco2e * 10)
    assert small.method == "ecologits"
    # Order of magnitude published by EcoLogits for a mid-size model: well under 1 Wh for a few hundred tokens.
    assert small.energy_wh < 1


def test_nothing_generated_costs_nothing() -> None:
    zero = estimate_gpu_request(
        active_parameters_billion=8, total_parameters_billion=8, output_tokens=0, latency_seconds=1
    )
    assert (zero.energy_wh, zero.gco2e) == (0.0, 0.0)
