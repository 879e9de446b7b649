"""Retention limits: what is older than its limit is purged (database rows, messages), and the purge is audited."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select, update

from assistant.core.config import Settings
from assistant.runtime import open_runtime
from assistant.services.governance.retention import apply_retention
from assistant.store import utcnow
from assistant.store.audit import query_events
from assistant.store.models import (
    Comparison,
    Conversation,
    ConversationMessage,
    MessageRole,
    Project,
    Role,
    UsageRecord,
    UsageService,
)
from assistant.store.users import add_user


async def _scenario(settings: Settings) -> None:
    async with open_runtime(settings, with_worker=False) as runtime:
        async with runtime.session_factory.begin() as session:
            user = await add_user(session=session, username="agent.ancien", role=Role.AGENT)
            # A project emptied by the purge goes with it; one still holding a recent conversation stays.
            emptied, busy = Project(owner_id=user.id, name="Vide"), Project(owner_id=user.id, name="Actif")
            session.add_all([emptied, busy])
            await session.flush()
            old, recent = (
                Conversation(owner_id=user.id, title="Ancienne", model_id="m", project_id=emptied.id),
                Conversation(owner_id=user.id, title="Récente", model_id="m", project_id=busy.id),
            )
            session.add_all([old, recent])
            await session.flush()
            session.add(ConversationMessage(conversation_id=old.id, position=0, role=MessageRole.USER, content="x"))
            # Comparisons go with the conversations' limit, by their age.
            for days, question in ((400, "Ancienne"), (10, "Récente")):
                session.add(
                    Comparison(
                        user_id=user.id,
                        question=question,
                        model_a="m",
                        model_b="n",
                        created_at=utcnow() - timedelta(days=days),
                    )
                )
            for days in (800, 10):
                session.add(
                    UsageRecord(
                        user_id=user.id,
                        model_id="m",
                        service=UsageService.CHAT,
                        energy_method="power_time",
                        created_at=utcnow() - timedelta(days=days),
                    )
                )
        async with runtime.session_factory.begin() as session:
            await session.execute(
                update(Conversation).where(Conversation.id == old.id).values(updated_at=utcnow() - timedelta(days=400))
            )
            await session.execute(update(Project).values(updated_at=utcnow() - timedelta(days=400)))

        outcome = await apply_retention(runtime)
        assert (outcome.conversations, outcome.usage_records, outcome.projects) == (1, 1, 1)
        async with runtime.session_factory() as session:
            titles = list((await session.execute(select(Conversation.title))).scalars())
            messages = (await session.execute(select(func.count()).select_from(ConversationMessage))).scalar_one()
            usage = (await session.execute(select(func.count()).select_from(UsageRecord))).scalar_one()
            events = await query_events(session=session, action_prefix="retention.")
            projects = list((await session.execute(select(Project.name))).scalars())
            comparisons = list((await session.execute(select(Comparison.question))).scalars())
        assert titles == ["Récente"] and messages == 0 and usage == 1 and projects == ["Actif"]
        assert comparisons == ["Récente"]
        assert events[0].details == {
            "conversations": 1,
            "transcriptions": 0,
            "usage_records": 1,
            "projects": 1,
            "prompt_uses": 0,
            "comparisons": 1,
            "batches": 0,
        }
        # A second pass finds nothing more and writes nothing.
        again = await apply_retention(runtime)
        assert (again.conversations, again.transcriptions, again.usage_records, again.projects) == (0, 0, 0, 0)


def test_old_data_is_purged_and_the_purge_audited(settings_factory, database_url: str) -> None:  # type: ignore[no-untyped-def]
    asyncio.run(_scenario(settings_factory(database_url=database_url)))
