"""A real browser (Debian's Chromium driven by Playwright) against the app served on a real socket.

The app is configured with the fake OpenAI-compatible upstream as a sovereign and a non-sovereign backend, plus
the embedded model (its card only: no test here asks it a question). Set ``SOUVERAIN_TEST_SCREENSHOTS`` to a
directory to keep screenshots of every page checked with axe-core.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from assistant.core.config import Settings
from assistant.runtime import open_runtime
from assistant.services.identity.users import create_local_user
from assistant.store.models import Role
from tests.assistant.web.browser import AXE, CHROMIUM, CHROMIUM_ARGS, ROOT, Site, serve_site, sign_in, standard_backends
from tests.factories import PASSWORD, make_settings
from tests.fakes import FakeUpstream


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


@pytest.fixture
def page(anonymous_page: Page) -> Page:
    """Signed in as an agent, on the chat page with its models loaded."""
    sign_in(anonymous_page, "agent.web")
    anonymous_page.locator("#modele option[value='vllm-model']").wait_for(state="attached")
    return anonymous_page
