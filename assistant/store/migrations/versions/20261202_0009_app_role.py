"""app role: the service's PostgreSQL role may only INSERT and SELECT the audit log (separation of roles)

Revision ID: 0009_app_role
Revises: 0008_charter
Create Date: 2026-12-02 12:50:00.000000

Nothing changes unless ``SOUVERAIN_DATABASE_APP_ROLE`` is set, so existing databases keep working as they are.
``env.py`` re-applies the same grants after every upgrade, so a role configured later is covered too.
"""

from collections.abc import Sequence

from alembic import context, op

from assistant.store._roles import grant_app_role

revision: str = "0009_app_role"
down_revision: str | None = "0008_charter"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    role = context.config.attributes.get("app_role")
    if role:
        grant_app_role(op.get_bind(), role)


def downgrade() -> None:
    # Privileges are left as they are: revoking them would stop a running service, not undo a schema change.
    pass
