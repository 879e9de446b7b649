"""A live site of its own for the charter and audit browser tests: publishing a charter there gates no other file's
pages. Agent, référent and auditor accounts exist; the fake upstream serves the chat page's model list."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assistant.core.config import Settings
from assistant.runtime import open_runtime
from assistant.services.identity.users import create_local_user
from assistant.store.models import Role
from tests.assistant.web.browser import ROOT, Site, serve_site, sovereign_backend
from tests.factories import PASSWORD, make_settings
from tests.fakes import FakeUpstream

__all__ = ["ACCOUNTS", "governance_site"]

ACCOUNTS = {"agent.gouv": Role.AGENT, "referent.gouv": Role.REFERENT, "auditeur.gouv": Role.AUDITEUR}


async def _create_users(settings: Settings) -> None:
    async with open_runtime(settings, with_worker=False) as runtime:
        for username, role in ACCOUNTS.items():
            await create_local_user(runtime, username=username, role=role, password=PASSWORD)


@contextmanager
def governance_site(data_dir: Path, upstream: FakeUpstream) -> Iterator[Site]:
    """The app on a real socket, with its own database in ``data_dir``."""
    settings = make_settings(
        data_dir=data_dir,
        web_assets_dir=ROOT / ".build" / "web",
        llm_backends=[sovereign_backend(upstream.url)],
        default_model="vllm-model",
        default_requests_per_minute=10_000,
    )
    with serve_site(settings, upstream, _create_users) as site:
        yield site
