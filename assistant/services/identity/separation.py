"""Separation of duties: role changes that widen an account's access are alerted and flagged for the auditor.

A référent administers accounts but must not be able to hand out privilege quietly: creating an auditor (who
audits référents) or another référent, or promoting an account, records an ``access.role_widened`` event with
outcome ``alert`` and a warning in the service log, and the compliance report lists every one of them over the
review window so that a second person looks at each.
"""

from __future__ import annotations

import logging
from datetime import datetime

from assistant.audit import ClientInfo
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.store import audit as audit_store
from assistant.store.models import AuditEvent, Role, User

__all__ = ["ROLE_WIDENED_ACTION", "flag_role_change", "recent_role_widenings", "widens"]

logger = logging.getLogger(__name__)

ROLE_WIDENED_ACTION = "access.role_widened"
# Roles beyond the agent's: each one sees or changes what agents cannot (administration, the audit log).
_PRIVILEGED = frozenset({Role.REFERENT, Role.AUDITEUR})


def widens(before: Role | None, after: Role) -> bool:
    """Whether moving an account from ``before`` (None: a new account) to ``after`` widens its access."""
    return after in _PRIVILEGED and after != before


async def flag_role_change(
    runtime: Runtime,
    *,
    actor: Principal,
    user: User,
    before: Role | None,
    after: Role,
    client: ClientInfo | None = None,
) -> None:
    """Alert on a widening change (no-op otherwise): an audit event for the compliance report, a log warning."""
    if not widens(before, after):
        return
    logger.warning("Role widened: %s gave %s the role %s (was %s)", actor.username, user.username, after, before)
    await runtime.audit.record(
        category="audit",
        action=ROLE_WIDENED_ACTION,
        outcome="alert",
        actor_id=actor.user_id,
        actor_label=actor.username,
        resource_type="user",
        resource_id=str(user.id),
        client=client,
        details={"user": user.username, "from": before.value if before else None, "to": after.value},
    )


async def recent_role_widenings(runtime: Runtime, *, since: datetime) -> list[AuditEvent]:
    """The widening role changes since ``since``, newest first."""
    async with runtime.session_factory() as session:
        return await audit_store.query_events(
            session=session, action_prefix=ROLE_WIDENED_ACTION, since=since, limit=1000
        )
