"""Fixtures: the chart rendered once per session under three sets of values."""

from __future__ import annotations

import pytest

from tests.deploy.helpers import Manifest, helm_binary, render
from tests.deploy.values import PRODUCTION_VALUES, full_values


@pytest.fixture(scope="session", autouse=True)
def _helm_present() -> None:
    helm_binary()


@pytest.fixture(scope="session")
def default_manifests() -> list[Manifest]:
    return render()


@pytest.fixture(scope="session")
def production_manifests() -> list[Manifest]:
    return render(files=(PRODUCTION_VALUES,))


@pytest.fixture(scope="session")
def full_manifests() -> list[Manifest]:
    return render(full_values())


@pytest.fixture(scope="session", params=["default", "production", "full"])
def any_manifests(request: pytest.FixtureRequest) -> list[Manifest]:
    """Each of the three renders in turn."""
    return request.getfixturevalue(f"{request.param}_manifests")  # type: ignore[no-any-return]
