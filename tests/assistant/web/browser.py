"""Browser-test support: the paths, the live site, the standard backends, signing in and the axe-core scan.

The fixtures that use these (``site``, ``browser``, ``page``...) are in this package's ``conftest.py``.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from assistant.app import create_app
from assistant.core.config import Settings
from assistant.llm import BackendConfig
from tests.factories import PASSWORD, embedded_test_config, model_card, upstream_backend
from tests.fakes import FakeUpstream
from tests.fakes.live_app import LiveServer

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = ROOT / ".build" / "web" / "node_modules" / "axe-core" / "axe.min.js"


@dataclass
class Site:
    url: str
    upstream: FakeUpstream


def sovereign_backend(upstream_url: str) -> BackendConfig:
    """The fake upstream as the sovereign ``vllm-model``, with the card the pages show."""
    return upstream_backend(upstream_url, card=model_card("Modèle souverain de test", languages=["fr", "en"]))


def external_backend(upstream_url: str) -> BackendConfig:
    """The fake upstream as the non-sovereign ``externe-model``."""
    card = model_card("Modèle externe de test", languages=["fr", "en"])
    return upstream_backend(upstream_url, name="externe", sovereign=False, card=card)


def standard_backends(upstream_url: str) -> list[BackendConfig]:
    """The fake upstream as a sovereign and a non-sovereign backend, plus the embedded model."""
    return [sovereign_backend(upstream_url), external_backend(upstream_url), embedded_test_config()]


@contextmanager
def serve_site(
    settings: Settings, upstream: FakeUpstream, prepare: Callable[[Settings], Awaitable[None]]
) -> Iterator[Site]:
    """``prepare`` (accounts, data) run on the database, then the app served on a real socket."""
    # In a thread of its own: this may be set up while pytest-asyncio's loop runs in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, prepare(settings)).result()  # type: ignore[arg-type]
    with LiveServer(create_app(settings)) as server:
        yield Site(url=server.url, upstream=upstream)


def sign_in(page: Page, username: str, *, start: str = "/chat") -> None:
    """Through the real login form, as a user would."""
    page.goto(start)
    page.get_by_label("Identifiant", exact=True).fill(username)
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(re.escape(start) + "$"))


def serious_violations(page: Page, name: str) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now (after a screenshot if asked)."""
    # Colours are only final once transitions (the DSFR modal fades in) have ended; on a loaded machine axe
    # could otherwise measure a half-transparent dialog.
    page.wait_for_function(
        "() => document.getAnimations().every((animation) => animation.playState !== 'running')", timeout=10_000
    )
    shots = os.environ.get("SOUVERAIN_TEST_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(shots) / f"{name}.png"), full_page=True)
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    results: list[dict[str, Any]] = page.evaluate(
        """async () => {
            const result = await window.axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(" ")),
            }));
        }"""
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {v['targets'][:3]}"
        for v in results
        if v["impact"] in ("serious", "critical")
    ]
