"""A real browser (Debian's Chromium driven by Playwright) against the app served on a real socket.

The app is configured with the fake OpenAI-compatible upstream as a sovereign and a non-sovereign backend, plus
the embedded model (its card only: no test here asks it a question). Set ``SOUVERAIN_TEST_SCREENSHOTS`` to a
directory to keep screenshots of every page checked with axe-core.
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

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from assistant.app import create_app
from assistant.core.config import Settings
from assistant.llm import BackendConfig, ModelCard, ModelConfig
from assistant.runtime import open_runtime
from assistant.services.identity.users import create_local_user
from assistant.store.models import Role
from tests.assistant.security.helpers import PASSWORD
from tests.factories import embedded_test_config, make_settings
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


def _backend(name: str, url: str, *, sovereign: bool, card_name: str) -> BackendConfig:
    return BackendConfig(
        name=name,
        kind="openai",
        sovereign=sovereign,
        options={"base_url": url, "max_retries": 0},
        models=[
            ModelConfig(
                id=f"{name}-model",
                upstream_name="fake-model",
                card=ModelCard(name=card_name, licence="Apache-2.0", languages=["fr", "en"], parameters="24B"),
            )
        ],
    )


@dataclass
class Site:
    url: str
    upstream: FakeUpstream


def standard_backends(upstream_url: str) -> list[BackendConfig]:
    """The fake upstream as a sovereign and a non-sovereign backend, plus the embedded model."""
    return [
        _backend("vllm", upstream_url, sovereign=True, card_name="Modèle souverain de test"),
        _backend("externe", upstream_url, sovereign=False, card_name="Modèle externe de test"),
        embedded_test_config(),
    ]


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


async def _create_users(settings: Settings) -> None:
    async with open_runtime(settings, with_worker=False) as runtime:
        await create_local_user(runtime, username="agent.web", role=Role.AGENT, password=PASSWORD)
        await create_local_user(runtime, username="auditeur.web", role=Role.AUDITEUR, password=PASSWORD)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, _openai_upstream_server: FakeUpstream) -> Iterator[Site]:
    upstream = _openai_upstream_server
    settings = make_settings(
        data_dir=tmp_path_factory.mktemp("web-data"),
        web_assets_dir=ROOT / ".build" / "web",
        llm_backends=standard_backends(upstream.url),
        default_model="vllm-model",
        default_requests_per_minute=10_000,
    )
    with serve_site(settings, upstream, _create_users) as site:
        yield site


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium est requis pour les tests du navigateur : apt-get install -y chromium")
    if not AXE.exists():
        pytest.fail("axe-core est absent : lancez assistant/web/build.sh")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def anonymous_page(browser: Browser, site: Site) -> Iterator[Page]:
    site.upstream.reset()
    # bypass_csp lets the tests inject axe-core; the app's own scripts never need it.
    context = browser.new_context(
        base_url=site.url, locale="fr-FR", bypass_csp=True, permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
    site.upstream.reset()


def sign_in(page: Page, username: str, *, start: str = "/chat") -> None:
    """Through the real login form, as a user would."""
    page.goto(start)
    page.get_by_label("Identifiant", exact=True).fill(username)
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(re.escape(start) + "$"))


@pytest.fixture
def page(anonymous_page: Page) -> Page:
    """Signed in as an agent, on the chat page with its models loaded."""
    sign_in(anonymous_page, "agent.web")
    anonymous_page.locator("#modele option[value='vllm-model']").wait_for(state="attached")
    return anonymous_page


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
